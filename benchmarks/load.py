"""A small HTTP/1.1 load client on raw asyncio streams, run in its own process.

A full HTTP client library costs more CPU per request than the service it measures on a 2-core
machine; this one keeps each connection alive and parses only the status line and Content-Length.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Request:
    """One request as bytes on the wire."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        """The request's bytes."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class Result:
    """Latencies in milliseconds, errors, and the wall time of a run."""

    latencies_ms: list[float]
    errors: int
    seconds: float

    def summary(self) -> dict[str, float]:
        """p50, p99, max (ms), requests per second and errors."""
        lat = np.asarray(self.latencies_ms)
        return {
            "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)),
            "max": float(lat.max()),
            "rps": len(lat) / self.seconds,
            "n": float(len(lat)),
            "errors": float(self.errors),
            "over_100ms": float((lat > 100).mean()),
        }


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: bytes) -> int:
    writer.write(wire)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return status


async def _closed_loop(port: int, requests: Sequence[Request], clients: int, seconds: float) -> Result:
    """`clients` connections, each sending its next request as soon as the last answer arrives."""
    latencies: list[float] = []
    errors = 0
    wires = [r.encode(f"127.0.0.1:{port}") for r in requests]
    stop = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pick = random.Random(seed).choice
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await _exchange(reader, writer, pick(wires))
            latencies.append((time.perf_counter() - start) * 1000)
            errors += status != 200
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return Result(latencies, errors, time.perf_counter() - began)


async def _open_loop(port: int, requests: Sequence[Request], rate: float, seconds: float) -> Result:
    """One request every 1/`rate` seconds whatever the answers do (a new connection when one is busy)."""
    latencies: list[float] = []
    errors = 0
    wires = [r.encode(f"127.0.0.1:{port}") for r in requests]
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(wire: bytes) -> None:
        nonlocal errors
        connection = idle.pop() if idle else await asyncio.open_connection("127.0.0.1", port)
        start = time.perf_counter()
        status = await _exchange(*connection, wire)
        latencies.append((time.perf_counter() - start) * 1000)
        errors += status != 200
        idle.append(connection)

    tasks, began = [], time.perf_counter()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send(wires[i % len(wires)])))
    await asyncio.gather(*tasks)
    return Result(latencies, errors, time.perf_counter() - began)


async def _paced(
    port: int, requests: Sequence[Request], connections: int, rate: float, seconds: float
) -> Result:
    """`rate` requests/s over `connections` kept-alive connections, each on its own fixed schedule.

    Latency runs from when a request was due, not from when it went out: a connection still waiting
    for its last answer sends late, and that wait counts (no coordinated omission).
    """
    latencies: list[float] = []
    errors = 0
    wires = [r.encode(f"127.0.0.1:{port}") for r in requests]
    interval = connections / rate

    async def connection(index: int, began: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pick = random.Random(index).choice
        due = began + index * interval / connections  # connections interleave evenly
        while due < began + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status = await _exchange(reader, writer, pick(wires))
            latencies.append((time.perf_counter() - due) * 1000)
            errors += status != 200
            due += interval
        writer.close()

    began = time.perf_counter() + 0.2  # let every connection open first
    await asyncio.gather(*(connection(i, began) for i in range(connections)))
    return Result(latencies, errors, time.perf_counter() - began)


def _child(conn: multiprocessing.connection.Connection, kind: str, args: tuple[object, ...]) -> None:
    runner = {"closed": _closed_loop, "open": _open_loop, "paced": _paced}[kind]
    try:
        result = asyncio.run(runner(*args))  # type: ignore[arg-type]
    except BaseException:
        conn.send("null")  # the parent would otherwise wait for an answer forever
        raise
    conn.send(json.dumps([result.latencies_ms, result.errors, result.seconds]))


def run_in_process(kind: str, *args: object) -> Result:
    """Run a load in its own process: `closed` (`port, requests, clients, seconds`), `open` (`port,
    requests, rate, seconds`) or `paced` (`port, requests, connections, rate, seconds`)."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_child, args=(child, kind, args))
    process.start()
    answer = json.loads(parent.recv())
    process.join()
    if answer is None:
        raise RuntimeError(f"the load process failed (exit code {process.exitcode}); its error is above")
    latencies, errors, seconds = answer
    return Result(latencies, errors, seconds)
