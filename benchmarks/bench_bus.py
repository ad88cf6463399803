"""Events through a message bus (RabbitMQ, NATS JetStream) beside the same events posted over HTTP.

    python -m benchmarks.bench_bus --customers 400 --messages 200

Trains a small company into bench-out/bus/, serves it with `cxpredict serve`, then for each path:
drains a backlog of `--messages` late deliveries (events/s: one message, one event, one rescore at a
time, as one consumer does), and sends as many again paced at half that rate, timing each from publish
to the acknowledgement that follows the service's answer (p50/p99 publish -> rescored). The HTTP path
posts the same bodies from one client. Figures go to the `bus` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from benchmarks.report import write_section
from serving.bus.consumer import ConsumerOptions, consume
from serving.bus.transport import Delivery, Transport, open_transport
from serving.keys import KeyStore, Role
from serving.state import open_database
from tests.serving.bus import bus_url, drop, publish, unique
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import late_delivery
from tests.serving.workspace import build_trained_workspace


class Timed:
    """A transport that notes when each message (by its order id) was acknowledged."""

    def __init__(self, inner: Transport) -> None:
        self.inner, self.name, self.acked = inner, inner.name, dict[str, float]()

    def receive(self, timeout_s: float) -> Delivery | None:
        return self.inner.receive(timeout_s)

    def ack(self, delivery: Delivery) -> None:
        self.inner.ack(delivery)
        self.acked[json.loads(delivery.body)["deliveries"][0]["order_id"]] = time.perf_counter()

    def retry(self, delivery: Delivery, delay_s: float) -> None:
        self.inner.retry(delivery, delay_s)

    def dead_letter(self, delivery: Delivery, reason: str, status: int) -> None:
        self.inner.dead_letter(delivery, reason, status)

    def close(self) -> None:
        self.inner.close()


def bodies(ids: list[str], tag: str, n: int) -> list[bytes]:
    end = pd.Timestamp("2026-06-30T00:00:00Z")
    return [
        json.dumps({"deliveries": [late_delivery(ids[i % len(ids)], end, f"{tag}-{i}")]}).encode()
        for i in range(n)
    ]


def http_path(base: str, key: str, ids: list[str], n: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        start = time.perf_counter()
        for body in bodies(ids, "HTTP", n):
            sent = time.perf_counter()
            http.post("/events", content=body).raise_for_status()
            latencies.append(time.perf_counter() - sent)
        rate = n / (time.perf_counter() - start)
    return {
        "events_s": rate,
        "p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
    }


def bus_path(kind: str, base: str, key: str, ids: list[str], n: int) -> dict[str, float]:
    name = unique(kind)
    try:
        publish(kind, name, bodies(ids, f"{kind}-backlog", n))
        transport = Timed(open_transport(bus_url(kind, name)))
        options = ConsumerOptions(base, key, idle_exit_s=2.0, poll_s=0.2)
        start = time.perf_counter()
        tally = consume(transport, ConsumerOptions(base, key, max_messages=n, poll_s=0.2), print)
        rate = tally.stored / (time.perf_counter() - start)
        sent = paced(kind, name, ids, n, rate / 2, transport, options)
        transport.close()
    finally:
        drop(kind, name)
    waits = [transport.acked[order] - at for order, at in sent.items() if order in transport.acked]
    return {
        "events_s": rate,
        "p50_ms": 1000 * float(np.percentile(waits, 50)),
        "p99_ms": 1000 * float(np.percentile(waits, 99)),
    }


def paced(
    kind: str, name: str, ids: list[str], n: int, rate: float, transport: Timed, options: ConsumerOptions
) -> dict[str, float]:
    """Publish `n` messages at `rate`/s while the consumer runs; order id -> when it was published."""
    sent: dict[str, float] = {}
    consumer = threading.Thread(target=consume, args=(transport, options, print))
    consumer.start()
    start = time.perf_counter()
    for i, body in enumerate(bodies(ids, f"{kind}-paced", n)):
        time.sleep(max(0.0, start + i / rate - time.perf_counter()))
        publish(
            kind, name, [body]
        )  # timed from the broker's confirm: the publisher's connection set-up is not the bus's
        sent[json.loads(body)["deliveries"][0]["order_id"]] = time.perf_counter()
    consumer.join()
    return sent


def report(results: dict[str, dict[str, float]], customers: int, messages: int) -> str:
    lines = [
        f"{customers} customers, {messages} messages per path (one late delivery each), one consumer, "
        "one message in flight; p50/p99 from publish (HTTP: from the request) to the service's answer "
        "(rescored), paced at half the path's drain rate.",
        "",
        "| path | events/s (backlog) | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['events_s']:.1f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench-out/bus"))
    parser.add_argument("--no-doc", action="store_true", help="print the figures only")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    root = args.out.resolve()
    workspace, config = build_trained_workspace(root, customers=args.customers, seed=5)
    ids = pd.read_parquet(workspace / "customers.parquet")["customer_id"].astype(str).tolist()
    key, port = KeyStore(open_database(workspace)).create(Role.INGEST, "bench-ingest"), free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(workspace, config, port, root / "server.log")
    try:
        wait_ready(base, server, root / "server.log")
        results = {"HTTP POST /events": http_path(base, key, ids, args.messages)}
        for kind in ("amqp", "nats"):
            results[f"{kind} -> cxpredict ingest"] = bus_path(kind, base, key, ids, args.messages)
    finally:
        stop_server(server)
    text = report(results, args.customers, args.messages)
    if not args.no_doc:
        write_section("bus", "Events from a message bus", text)
    print(text)


if __name__ == "__main__":
    main()
