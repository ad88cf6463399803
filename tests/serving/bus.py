"""Brokers for the consumer tests: publish to RabbitMQ or NATS JetStream, read their dead letters."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
import pika
from nats.js.api import StreamConfig

AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
NATS = "nats://127.0.0.1:4222"


def unique(kind: str) -> str:
    """A queue name (amqp) or subject (nats) no other test uses."""
    return f"cx-test-{uuid.uuid4().hex[:8]}" if kind == "amqp" else f"cxtest.{uuid.uuid4().hex[:8]}"


def bus_url(kind: str, name: str) -> str:
    """The consumer's --from for `name` (a short ack_wait: a killed consumer's message comes back soon)."""
    if kind == "amqp":
        return f"{AMQP}?queue={name}"
    return f"{NATS}?subject={name}&stream={stream_of(name)}&durable=cxpredict&ack_wait=3"


def stream_of(subject: str) -> str:
    return subject.replace(".", "_").upper()


def publish(kind: str, name: str, bodies: Sequence[bytes]) -> None:
    """Publish each body, persistent, in order (AMQP with message ids; NATS ids are stream sequences)."""
    if kind == "amqp":
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
        channel = connection.channel()
        channel.queue_declare(name, durable=True)
        for n, body in enumerate(bodies):
            properties = pika.BasicProperties(delivery_mode=2, message_id=f"m{n}-{uuid.uuid4().hex[:6]}")
            channel.basic_publish("", name, body, properties)
        connection.close()
        return
    asyncio.run(_publish_nats(name, bodies))


async def _publish_nats(subject: str, bodies: Sequence[bytes]) -> None:
    client = await nats.connect(NATS)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name=stream_of(subject), subjects=[subject, subject + ".dead"]))
    for body in bodies:
        await js.publish(subject, body)
    await client.close()


def dead_letters(kind: str, name: str) -> list[tuple[dict[str, Any], bytes]]:
    """The headers and body of every message in the dead-letter queue (subject) of `name`."""
    if kind == "amqp":
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
        channel, found = connection.channel(), []
        while (got := channel.basic_get(name + ".dead", auto_ack=True))[0] is not None:
            found.append((dict(got[1].headers or {}), bytes(got[2])))
        connection.close()
        return found
    return asyncio.run(_dead_nats(name))


async def _dead_nats(subject: str) -> list[tuple[dict[str, Any], bytes]]:
    client = await nats.connect(NATS)
    js = client.jetstream()
    found = []
    sub = await js.pull_subscribe(
        subject + ".dead", durable=f"check{uuid.uuid4().hex[:6]}", stream=stream_of(subject)
    )
    try:
        while True:
            (message,) = await sub.fetch(1, timeout=1)
            found.append((dict(message.headers or {}), bytes(message.data)))
            await message.ack()
    except nats.errors.TimeoutError:
        pass
    await client.close()
    return found


def queued(kind: str, name: str) -> int:
    """How many messages wait in the AMQP queue `name` (none are unacknowledged: no consumer runs)."""
    assert kind == "amqp"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    count = int(connection.channel().queue_declare(name, passive=True).method.message_count)
    connection.close()
    return count


def drop(kind: str, name: str) -> None:
    """Delete the test's queues or stream."""
    if kind == "amqp":
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
        channel = connection.channel()
        for queue in (name, name + ".dead"):
            channel.queue_delete(queue)
        connection.close()
        return

    async def delete() -> None:
        client = await nats.connect(NATS)
        await client.jetstream().delete_stream(stream_of(name))
        await client.close()

    asyncio.run(delete())


def start_consumer(
    workspace: Path, url: str, base: str, key: str, log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """`cxpredict ingest` in a process of its own, logging to `log`."""
    command = [str(Path(sys.executable).with_name("cxpredict")), "ingest", str(workspace), "--from", url]
    command += ["--service", base, *extra]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=os.environ | {"CX_API_KEY": key}, stdout=out, stderr=subprocess.STDOUT
        )


def store_count(workspace: Path, sql: str, params: Sequence[Any] = ()) -> int:
    """One number read from the service's SQLite state (read beside the running service, WAL)."""
    with sqlite3.connect(workspace / "_service" / "cx.db", timeout=30) as db:
        return int(db.execute(sql, params).fetchone()[0])


def verbatim_body(customer_id: str, posted_at: str, text: str) -> bytes:
    return json.dumps(
        {"verbatims": [{"customer_id": customer_id, "posted_at": posted_at, "text": text}]}
    ).encode()
