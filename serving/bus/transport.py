"""What the event consumer needs of a message bus: receive, acknowledge, retry later, dead-letter.

A transport hands over one message at a time (`Delivery`), with an id that stays the same when the
bus delivers the message again: the service stores a message once per id. RabbitMQ (`amqp://`) and
NATS JetStream (`nats://`) are built in. Another bus (Kafka: commit the offset on `ack`, seek back on
`retry`, produce to `<topic>.dead` on `dead_letter`) implements the same five methods and is added
to `open_transport`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from serving.receipts import MAX_KEY_LENGTH

REASON_HEADER = "x-cx-dead-reason"
STATUS_HEADER = "x-cx-dead-status"
DEAD_SUFFIX = ".dead"


class BusUrlError(ValueError):
    """A `--from` URL the consumer cannot use; the message says why in one sentence."""


@dataclass(frozen=True)
class Delivery:
    """One message from the bus.

    Attributes:
        body: the message as published (a JSON batch of events, as `POST /events` takes).
        message_id: the same on every delivery of this message (the service's idempotency key).
        handle: the transport's own reference, to acknowledge or return the message.
    """

    body: bytes
    message_id: str
    handle: Any


class Transport(Protocol):
    """A bus the consumer reads: at least once, one unacknowledged message at a time."""

    name: str  # the queue, subject or topic read, for the log

    def receive(self, timeout_s: float) -> Delivery | None:
        """The next message, or None when none came within `timeout_s`."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The service stored the message: the bus may forget it."""
        ...

    def retry(self, delivery: Delivery, delay_s: float) -> None:
        """The service could not take it now: deliver it again, after about `delay_s` seconds."""
        ...

    def dead_letter(self, delivery: Delivery, reason: str, status: int) -> None:
        """Publish the message to the dead-letter queue with `reason`, then acknowledge it."""
        ...

    def close(self) -> None:
        """Let go of the connection (unacknowledged messages go back to the bus)."""
        ...


def message_key(bus: str, name: str, own: str) -> str:
    """The idempotency key of a message: `bus/name/own`, its SHA-256 when longer than the service takes."""
    key = f"{bus}/{name}/{own}"
    return key if len(key) <= MAX_KEY_LENGTH else f"{bus}/sha256-{hashlib.sha256(key.encode()).hexdigest()}"


def query_value(url: str, name: str, default: str | None = None) -> str:
    """A query parameter of `url`.

    Raises:
        BusUrlError: when it is missing and has no default.
    """
    values = parse_qs(urlsplit(url).query).get(name)
    if values:
        return values[-1]
    if default is None:
        raise BusUrlError(f"--from {redact_url(url)} names no {name}: add ?{name}=...")
    return default


def redact_url(url: str) -> str:
    """`url` without its password, to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def open_transport(url: str) -> Transport:
    """The transport a `--from` URL names.

    Raises:
        BusUrlError: for a scheme no transport speaks, or a URL missing its queue or subject.
    """
    scheme = urlsplit(url).scheme
    if scheme in ("amqp", "amqps"):
        from serving.bus.amqp import AmqpTransport  # each client library is loaded only when used

        return AmqpTransport(url)
    if scheme in ("nats", "tls"):
        from serving.bus.jetstream import JetStreamTransport

        return JetStreamTransport(url)
    raise BusUrlError(f"--from {redact_url(url)}: use amqp://... or nats://... (Kafka is not built in)")
