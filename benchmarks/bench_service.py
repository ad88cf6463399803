"""Load the real service from a separate process on loopback, and `mlflow models serve` beside it.

    python -m benchmarks.bench_service --customers 2000 --seconds 15

Trains a small company into bench-out/service/, serves it with `cxpredict serve` (one worker),
and measures GET /customers/{id} (scores of both models with reasons) at 16 and 32 clients and
POST /events (a late delivery through to a queued webhook) at 50 events/s; then serves the same
churn model with `mlflow models serve` and sends it the same customers' feature rows. Figures go
to the `service` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.load import Request, Result, run_in_process
from benchmarks.report import write_section
from features.online import OnlineStore
from models.predictor import plain_input
from serving.keys import KeyStore, Role
from serving.state import database_url, open_database
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import late_delivery
from tests.serving.workspace import build_trained_workspace

EVENT_SECONDS = 10.0  # bounded: a backlog past the 60 s request timeout would only measure the timeout
GET_RATE = 1000.0  # the target's offered load, requests/s, spread over the connections
RULES = """\
rules:
  - name: late-delivery-alert
    when: features.deliveries_late_count_30d >= 1
    cooldown_days: 0
    actions:
      - notify: {{team: retention, url: "{hook}"}}
"""


def customer_requests(ids: list[str], key: str) -> list[Request]:
    return [Request("GET", f"/customers/{cid}", {"Authorization": f"Bearer {key}"}) for cid in ids]


def event_requests(ids: list[str], key: str, n: int) -> list[Request]:
    end = pd.Timestamp("2026-06-30T00:00:00Z")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bodies = [{"deliveries": [late_delivery(ids[i % len(ids)], end, f"BENCH-{i}")]} for i in range(n)]
    return [Request("POST", "/events", headers, json.dumps(b).encode()) for b in bodies]


def mlflow_requests(workspace: Path, ids: list[str], columns: list[str]) -> list[Request]:
    store = OnlineStore.open(database_url(workspace))
    rows = pd.DataFrame([store.get(cid) for cid in ids])[columns]
    frame = plain_input(rows)
    bodies = [{"dataframe_split": frame.iloc[[i]].to_dict(orient="split")} for i in range(len(frame))]
    headers = {"Content-Type": "application/json"}
    return [Request("POST", "/invocations", headers, json.dumps(b, default=str).encode()) for b in bodies]


def serve_mlflow(tracking_uri: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "models",
        "serve",
        "-m",
        "models:/cx-churn@champion",
    ]
    command += ["-p", str(port), "--env-manager", "local", "-w", "1"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # it runs `uvicorn`
    env = os.environ | {"MLFLOW_TRACKING_URI": tracking_uri, "OMP_NUM_THREADS": "1", "PATH": path}
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_http(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer")


def warm(base: str, ids: list[str], key: str) -> None:
    """Score every customer once, in batches, so GETs meet a filled cache (as in steady service)."""
    with httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {key}"}) as http:
        for start in range(0, len(ids), 250):
            http.post("/score", json={"customer_ids": ids[start : start + 250]}).raise_for_status()


def measure_service(root: Path, customers: int, seconds: float) -> dict[str, Result]:
    workspace, config = build_trained_workspace(root, customers=customers, seed=5)
    ids = pd.read_parquet(workspace / "customers.parquet")["customer_id"].astype(str).tolist()
    results: dict[str, Result] = {}
    with serving(Receiver()) as receiver:
        (workspace / "rules.yml").write_text(RULES.format(hook=receiver.url()), encoding="utf-8")
        keys = KeyStore(open_database(workspace))
        agent, ingest = keys.create(Role.AGENT, "bench-agent"), keys.create(Role.INGEST, "bench-ingest")
        port = free_port()
        server = start_server(workspace, config, port, root / "server.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}", server, root / "server.log")
            gets = customer_requests(ids, agent)
            warm(f"http://127.0.0.1:{port}", ids, agent)
            for clients in (16, 32):
                results[f"paced{clients}"] = run_in_process("paced", port, gets, clients, GET_RATE, seconds)
                results[f"get{clients}"] = run_in_process("closed", port, gets, clients, seconds)
            events = event_requests(ids, ingest, int(50 * EVENT_SECONDS) + 20)
            results["event"] = run_in_process("open", port, events[:20], 2.0, 10.0)  # before any backlog
            results["events"] = run_in_process("open", port, events[20:], 50.0, EVENT_SECONDS)
        finally:
            stop_server(server)
        print({name: r.summary() for name, r in results.items()}, flush=True)
        results["webhooks"] = Result([0.0] * len(receiver.accepted()), 0, 1.0)
    results.update(measure_mlflow(root, workspace, config.tracking_uri, ids, seconds))
    return results


def measure_mlflow(
    root: Path, workspace: Path, tracking_uri: str, ids: list[str], seconds: float
) -> dict[str, Result]:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    model = mlflow.pyfunc.load_model("models:/cx-churn@champion")
    requests = mlflow_requests(workspace, ids, model.metadata.metadata["features"])
    port = free_port()
    server = serve_mlflow(tracking_uri, port, root / "mlflow.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/ping")
        run_in_process("closed", port, requests, 8, 5.0)
        return {f"mlflow{c}": run_in_process("closed", port, requests, c, seconds) for c in (16, 32)}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def report(results: dict[str, Result], customers: int) -> str:
    s = {name: r.summary() for name, r in results.items() if name != "webhooks"}
    rows = [
        "| load | p50 | p99 | max | requests/s | share > 100 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {
        "paced16": f"cxpredict GET /customers/{{id}}, {GET_RATE:,.0f}/s offered over 16 connections",
        "paced32": f"cxpredict GET /customers/{{id}}, {GET_RATE:,.0f}/s offered over 32 connections",
        "get16": "cxpredict GET /customers/{id}, 16 closed-loop clients (most it can do)",
        "get32": "cxpredict GET /customers/{id}, 32 closed-loop clients (most it can do)",
        "mlflow16": "mlflow models serve /invocations (churn only), 16 closed-loop clients",
        "mlflow32": "mlflow models serve /invocations (churn only), 32 closed-loop clients",
        "events": f"cxpredict POST /events at 50/s for {EVENT_SECONDS:.0f} s (late delivery → webhook)",
        "event": "cxpredict POST /events at 2/s (one event's own cost)",
    }
    for key, label in names.items():
        f = s[key]
        rows.append(
            f"| {label} | {f['p50']:.2f} ms | {f['p99']:.2f} ms | {f['max']:.0f} ms | {f['rps']:,.0f} | "
            f"{f['over_100ms']:.2%} | {f['errors']:.0f} |"
        )
    ratio = {
        c: (s[f"mlflow{c}"]["p50"] / s[f"get{c}"]["p50"], s[f"mlflow{c}"]["p99"] / s[f"get{c}"]["p99"])
        for c in (16, 32)
    }
    throughput = s["get16"]["rps"] / max(s["mlflow16"]["rps"], 1e-9)
    p16, g16, ev = s["paced16"], s["get16"], s["events"]
    verdict = [
        f"p50 {p16['p50']:.2f} ms ≤ 2 ms: {'met' if p16['p50'] <= 2 else 'NOT met'}",
        f"p99 {p16['p99']:.2f} ms ≤ 10 ms: {'met' if p16['p99'] <= 10 else 'NOT met'}",
        f"{g16['rps']:,.0f} requests/s ≥ 1,000: {'met' if g16['rps'] >= 1000 else 'NOT met'}",
        f"events p99 {ev['p99']:.1f} ms ≤ 50 ms: {'met' if ev['p99'] <= 50 else 'NOT met'}",
    ]
    return "\n".join(
        [
            f"Company: {customers:,} customers, both models trained small (80 trees); one service worker; "
            "the load client runs in its own process on the same 2 cores.",
            "",
            "How the GET target is read: p50 2 ms with 16 clients that each wait for their answer before "
            "asking again would take 16 / 0.002 = 8,000 requests/s (Little's law), more than one Python "
            f"worker on 2 cores serves. So latency is measured at the target's load, {GET_RATE:,.0f} "
            "requests/s offered over 16 (and 32) connections, each sending on its own fixed schedule, "
            "each latency counted from when the request was due (a late send counts: no coordinated "
            "omission); the closed-loop rows give the most the service can do.",
            "",
            *rows,
            "",
            f"mlflow / cxpredict (closed loop): p50 {ratio[16][0]:.1f}× and p99 {ratio[16][1]:.1f}× at 16 "
            f"clients; p50 {ratio[32][0]:.1f}× and p99 {ratio[32][1]:.1f}× at 32 clients; cxpredict serves "
            f"{throughput:.0f}× the requests/s (cxpredict answers both models with reasons, mlflow the churn "
            "model with reasons).",
            f"Webhooks delivered during the events run: {len(results['webhooks'].latencies_ms):,}.",
            "GET answers come from the per-customer answer cache (JSON bytes, dropped when an event or a "
            "survey refreshes the customer), filled before measuring; a miss scores the row with both "
            "models (a few ms). The reads are answered in front of BentoML's own middleware "
            "(`serving/front.py`). Behind it, in this section's run of 2026-11-23 14:20 UTC on the same "
            "machine (commit ad5c642), the same cached reads peaked at 1,147 requests/s (16 closed-loop "
            "clients) and 1,000/s offered over 16 connections waited p50 14 ms, p99 177 ms.",
            "",
            "The stall seen at 32 clients (about 1% of requests held ~250 ms) was Python's full garbage "
            "collection walking every object of the loaded models and libraries; the service collects "
            "once after loading and freezes what is alive (`serving/runtime.py`, `_settle_heap`). The "
            "max and the share over 100 ms in the rows above show whether any stall is left.",
            "",
            "Verdict at 16 connections: " + "; ".join(verdict) + ".",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path("bench-out/service"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    results = measure_service(args.out.resolve(), args.customers, args.seconds)
    write_section("service", "Real-time service", report(results, args.customers))
    print(report(results, args.customers))


if __name__ == "__main__":
    main()
