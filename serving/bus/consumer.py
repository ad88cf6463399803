"""The event consumer: messages from a bus forwarded to the running service's `POST /events`.

The consumer never opens the state store (the service is its only writer). Each message goes to the
service with its id as `Idempotency-Key`, and is acknowledged only after a 2xx: the service holds it
then, once. A 4xx that says the message is wrong (malformed, unknown customer, too large) is a poison
message: it goes to the dead-letter queue with the reason, and the stream goes on. A 5xx or a service
out of reach leaves the message on the bus, to come again after a backoff. A refused key stops it.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from serving.bus.transport import Delivery, Transport

log = logging.getLogger(__name__)
RETRY_STATUSES = {408, 425, 429}  # the service asks to come back later: not the message's fault
REFUSED_STATUSES = {401, 403}
MAX_REASON = 500


class KeyRefused(RuntimeError):
    """The service refuses the consumer's API key (401) or its role (403)."""


@dataclass
class ConsumerOptions:
    """How the consumer runs.

    Attributes:
        service: the service's base URL.
        key: an API key whose role may post events (ingest or admin).
        max_messages: stop after this many messages were settled (stored or dead-lettered).
        idle_exit_s: stop after this many seconds without a message.
        backoff_s: first wait before a message the service could not take comes again (doubles).
        backoff_max_s: the longest such wait.
        poll_s: how long one wait for a message lasts (SIGTERM is noticed between waits).
    """

    service: str
    key: str
    max_messages: int | None = None
    idle_exit_s: float | None = None
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    poll_s: float = 1.0


@dataclass
class Tally:
    """What the consumer did so far."""

    stored: int = 0
    replayed: int = 0
    dead: int = 0
    retried: int = 0
    failing: int = 0  # messages the service could not take in a row: the backoff grows with it
    started: float = field(default_factory=time.monotonic)

    def settled(self) -> int:
        """Messages that left the bus: stored, stored before, or dead-lettered."""
        return self.stored + self.replayed + self.dead

    def line(self) -> str:
        """One progress line."""
        rate = self.settled() / max(time.monotonic() - self.started, 1e-9)
        return (
            f"stored {self.stored}, already stored {self.replayed}, dead-lettered {self.dead}, "
            f"retried {self.retried} ({rate:.1f} messages/s)"
        )


def consume(transport: Transport, options: ConsumerOptions, say: Callable[[str], None]) -> Tally:
    """Forward messages until SIGTERM/SIGINT, `max_messages` or `idle_exit_s`; the current one finishes.

    Raises:
        KeyRefused: the service refuses the key (the message in hand goes back to the bus).
    """
    tally, stop, idle_since = Tally(), threading.Event(), time.monotonic()
    headers = {"Authorization": f"Bearer {options.key}", "Content-Type": "application/json"}
    with _stopped_by_signals(stop), httpx.Client(base_url=options.service, headers=headers) as http:
        while not stop.is_set() and not _enough(tally, options):
            delivery = transport.receive(options.poll_s)
            if delivery is None:
                if options.idle_exit_s is not None and time.monotonic() - idle_since >= options.idle_exit_s:
                    break
                continue
            _settle(transport, http, delivery, tally, options, stop)
            idle_since = time.monotonic()
            if tally.settled() % 100 == 0 and tally.settled():
                say(tally.line())
    return tally


def _enough(tally: Tally, options: ConsumerOptions) -> bool:
    return options.max_messages is not None and tally.settled() >= options.max_messages


def _settle(
    transport: Transport,
    http: httpx.Client,
    delivery: Delivery,
    tally: Tally,
    options: ConsumerOptions,
    stop: threading.Event,
) -> None:
    """Post one message; then ack it, dead-letter it, or give it back to come again after a backoff."""
    status, answer = _post(http, delivery)
    if status is not None and 200 <= status < 300:
        transport.ack(delivery)
        tally.replayed += bool(answer.get("replayed"))
        tally.stored += not answer.get("replayed")
        tally.failing = 0
        return
    if status in REFUSED_STATUSES:
        transport.retry(delivery, 0)
        raise KeyRefused(f"the service refused the API key ({status}): {answer.get('detail', '')}")
    if status is not None and 400 <= status < 500 and status not in RETRY_STATUSES:
        transport.dead_letter(delivery, _reason(status, answer), status)
        tally.dead += 1
        log.warning("message %s dead-lettered: %s", delivery.message_id, _reason(status, answer))
        return
    delay = 0.0 if stop.is_set() else min(options.backoff_s * 2**tally.failing, options.backoff_max_s)
    tally.retried, tally.failing = tally.retried + 1, tally.failing + 1
    log.warning("message %s not taken (%s); again in %.1f s", delivery.message_id, status, delay)
    transport.retry(delivery, delay)


def _post(http: httpx.Client, delivery: Delivery) -> tuple[int | None, dict[str, Any]]:
    """The service's status and JSON answer; (None, reason) when it cannot be reached."""
    try:
        response = http.post(
            "/events", content=delivery.body, headers={"Idempotency-Key": delivery.message_id}, timeout=120
        )
    except httpx.TransportError as exc:
        return None, {"detail": f"service unreachable: {exc}"}
    try:
        answer = response.json()
    except ValueError:
        answer = {"detail": response.text[:MAX_REASON]}
    return response.status_code, answer if isinstance(answer, dict) else {"detail": str(answer)}


def _reason(status: int, answer: dict[str, Any]) -> str:
    """The service's reason for refusing a message, in one header-sized line."""
    detail = answer.get("detail", answer)
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return f"{status}: {text}"[:MAX_REASON].replace("\n", " ")


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop`: the message in hand is finished, no new one is taken.

    Only the main thread may set handlers; a consumer run in another thread stops at its limits.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
