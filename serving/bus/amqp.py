"""RabbitMQ (AMQP 0-9-1) as the consumer's bus, through pika's blocking connection.

`amqp://user:password@host:5672/%2F?queue=cx-events`: the queue and `<queue>.dead` are declared
durable; one unacknowledged message at a time (prefetch 1); dead letters are published persistent
with publisher confirms, before the original is acknowledged.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any
from urllib.parse import urlsplit

import pika

from serving.bus.transport import (
    DEAD_SUFFIX,
    REASON_HEADER,
    STATUS_HEADER,
    Delivery,
    message_key,
    query_value,
)


class AmqpTransport:
    """One queue of a RabbitMQ broker."""

    def __init__(self, url: str) -> None:
        self.name = query_value(url, "queue")
        parts = urlsplit(url)
        params = pika.URLParameters(parts._replace(query="").geturl())
        self._connection = pika.BlockingConnection(params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()  # a dead letter is on the broker before the original is acked
        self._channel.basic_qos(prefetch_count=1)
        for queue in (self.name, self.name + DEAD_SUFFIX):
            self._channel.queue_declare(queue=queue, durable=True)
        self._waiting = threading.Event()  # set by close(): a retry's wait ends at once

    def receive(self, timeout_s: float) -> Delivery | None:
        """The next message, or None after `timeout_s` without one."""
        for method, properties, body in self._channel.consume(self.name, inactivity_timeout=timeout_s):
            if method is None:
                return None
            return Delivery(bytes(body), self._message_id(properties, body), method.delivery_tag)
        return None

    def _message_id(self, properties: Any, body: bytes) -> str:
        # without a publisher's message_id the body's digest stands in: the same bytes, the same message
        given = getattr(properties, "message_id", None)
        own = given or "sha256-" + hashlib.sha256(body).hexdigest()
        return message_key("amqp", self.name, own)

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge: the broker drops the message."""
        self._channel.basic_ack(delivery.handle)

    def retry(self, delivery: Delivery, delay_s: float) -> None:
        """Wait `delay_s` (RabbitMQ has no delayed requeue), then give the message back to the queue."""
        self._connection.sleep(delay_s)  # keeps heartbeats going while it waits
        self._channel.basic_nack(delivery.handle, requeue=True)

    def dead_letter(self, delivery: Delivery, reason: str, status: int) -> None:
        """Publish to `<queue>.dead` with the reason in a header, then acknowledge the original."""
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="application/json",
            message_id=delivery.message_id.rsplit("/", 1)[-1],
            headers={REASON_HEADER: reason, STATUS_HEADER: status},
        )
        self._channel.basic_publish("", self.name + DEAD_SUFFIX, delivery.body, properties, mandatory=True)
        self.ack(delivery)

    def close(self) -> None:
        """Close the connection; an unacknowledged message goes back to the queue."""
        if self._connection.is_open:
            self._connection.close()
