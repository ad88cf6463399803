"""`cxpredict ingest`: events from a message bus (RabbitMQ, NATS JetStream) into the running service."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from features.problems import DataProblem

if TYPE_CHECKING:
    from serving.bus.consumer import ConsumerOptions

EXIT_INVALID = 2
KEY_VARIABLE = "CX_API_KEY"


def ingest(
    workspace: Annotated[
        Path, typer.Argument(help="Workspace the service serves (the consumer never opens its store).")
    ],
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="Bus to read: amqp://user:pass@host:5672/%2F?queue=NAME or "
            "nats://host:4222?subject=NAME&stream=STREAM&durable=NAME.",
        ),
    ],
    service: Annotated[str, typer.Option(help="Base URL of the running service.")] = "http://127.0.0.1:3000",
    key_file: Annotated[
        Path | None, typer.Option(help="File holding an ingest key (default: the CX_API_KEY variable).")
    ] = None,
    max_messages: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many messages (stored or dead-lettered).")
    ] = None,
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="Stop after this many seconds without a message.")
    ] = None,
) -> None:
    """Forward events from a message bus to the service's POST /events, at least once, stored once.

    Each message is a JSON batch as POST /events takes. It is acknowledged after the service stored
    it; a message the service rejects goes to <queue>.dead (<subject>.dead) with the reason; one it
    cannot take now comes again after a backoff. SIGTERM finishes the message in hand, then stops.
    """
    from serving.bus.consumer import ConsumerOptions

    if not workspace.is_dir():
        raise DataProblem(f"workspace {workspace} is not a folder")
    options = ConsumerOptions(service.rstrip("/"), _key(key_file), max_messages, idle_exit)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("serving.bus").setLevel(logging.INFO)  # the clients' INFO (every request) is noise
    _forward(source, options)


def _forward(source: str, options: ConsumerOptions) -> None:
    """Open the bus, forward until told to stop, close it; each failure in one sentence."""
    from serving.bus.consumer import KeyRefused, consume
    from serving.bus.transport import BusUrlError, open_transport, redact_url

    try:
        transport = open_transport(source)
    except BusUrlError as exc:
        raise DataProblem(str(exc)) from None
    except Exception as exc:  # the brokers' client libraries raise many kinds: one sentence for each
        raise DataProblem(f"cannot read {redact_url(source)}: {type(exc).__name__} {exc}") from None
    _say(f"Forwarding {transport.name} from {redact_url(source)} to {options.service}/events")
    try:
        tally = consume(transport, options, _say)
    except KeyRefused as exc:
        raise DataProblem(str(exc)) from None
    finally:
        transport.close()
    _say(f"Stopped: {tally.line()}")


def _key(key_file: Path | None) -> str:
    """The API key: the file's first line, else the CX_API_KEY variable."""
    if key_file is not None:
        try:
            return key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DataProblem(f"cannot read --key-file {key_file}: {exc.strerror}") from None
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        raise DataProblem(f"no API key: set {KEY_VARIABLE} or pass --key-file (an ingest key)")
    return key


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
