"""NATS JetStream as the consumer's bus, through nats-py (asyncio, driven here one call at a time).

`nats://host:4222?subject=cx.events&stream=CX_EVENTS&durable=cxpredict&ack_wait=30`: a durable pull
consumer with explicit acks, one message pending at a time; the stream is created (for `<subject>`
and `<subject>.dead`) when it is missing. A message left unacknowledged by a consumer that died is
delivered again after `ack_wait` seconds: it must exceed the longest `POST /events` (else a message
still in the service comes again meanwhile; the idempotency key keeps it from being stored twice).
A message's id is its `Nats-Msg-Id` header when the publisher set one, else its stream sequence.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError

from serving.bus.transport import (
    DEAD_SUFFIX,
    REASON_HEADER,
    STATUS_HEADER,
    Delivery,
    message_key,
    query_value,
)

ACK_WAIT_S = "30"


class JetStreamTransport:
    """One subject of a JetStream stream, read by a durable consumer."""

    def __init__(self, url: str) -> None:
        self.name = query_value(url, "subject")
        self.stream = query_value(url, "stream")
        durable = query_value(url, "durable", "cxpredict")
        self._loop = asyncio.new_event_loop()
        server = urlsplit(url)._replace(query="").geturl()
        self._client = self._run(nats.connect(server, allow_reconnect=True, max_reconnect_attempts=-1))
        self._js = self._client.jetstream()
        self._run(self._ensure_stream())
        ack_wait = float(query_value(url, "ack_wait", ACK_WAIT_S))
        config = ConsumerConfig(ack_wait=ack_wait, max_ack_pending=1)
        self._sub = self._run(
            self._js.pull_subscribe(self.name, durable=durable, stream=self.stream, config=config)
        )

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            subjects = [self.name, self.name + DEAD_SUFFIX]
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=subjects))

    def receive(self, timeout_s: float) -> Delivery | None:
        """The next message, or None after `timeout_s` without one."""
        try:
            (message,) = self._run(self._sub.fetch(1, timeout=max(timeout_s, 0.1)))
        except NatsTimeout:
            return None
        given = (message.headers or {}).get("Nats-Msg-Id")
        own = given or f"seq-{message.metadata.sequence.stream}"
        return Delivery(bytes(message.data), message_key("nats", self.stream, own), message)

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge, and wait for the server to confirm it."""
        self._run(delivery.handle.ack_sync())

    def retry(self, delivery: Delivery, delay_s: float) -> None:
        """Negative acknowledgement: JetStream delivers the message again after `delay_s`."""
        self._run(delivery.handle.nak(delay=delay_s))

    def dead_letter(self, delivery: Delivery, reason: str, status: int) -> None:
        """Publish to `<subject>.dead` (stored by the stream) with the reason in a header, then ack."""
        headers = {REASON_HEADER: reason, STATUS_HEADER: str(status)}
        self._run(self._js.publish(self.name + DEAD_SUFFIX, delivery.body, headers=headers))
        self.ack(delivery)

    def close(self) -> None:
        """Drain and close the connection; an unacknowledged message is delivered again after ack_wait."""
        if not self._loop.is_closed():
            self._run(self._client.close())
            self._loop.close()
