"""The real server in its own process group: started with `cxpredict serve`, waited for, stopped or killed."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import psutil

from models.mlflow_config import MlflowConfig
from tests.serving.service_env import service_environment

# Ports already handed out in this process. A port is free only until its server binds it, and a
# server takes seconds to: two replicas started back to back were once both given 52849.
_GIVEN: set[int] = set()


def free_port() -> int:
    """A port free now and never handed out before in this process."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def start_server(
    workspace: Path, config: MlflowConfig, port: int, log: Path, state: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`cxpredict serve` in its own process group (so its workers stop with it); `state`: CX_DATABASE_URL."""
    command = [str(Path(sys.executable).with_name("cxpredict")), "serve", str(workspace), "--port", str(port)]
    env = os.environ | service_environment(workspace, config) | dict(state or {})
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the server did not become ready:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the server and every process under it (BentoML's workers run in process groups of their own).

    With SIGKILL the whole tree dies at once, as in a crash: no worker outlives it to finish a delivery.
    """
    if server.poll() is not None:
        return
    tree = [server.pid, *(p.pid for p in psutil.Process(server.pid).children(recursive=True))]
    for pid in tree if sig == signal.SIGKILL else tree[:1]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    _, alive = psutil.wait_procs([p for p in map(_process, tree[1:]) if p is not None], timeout=30)
    for process in alive:
        process.kill()


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def warm_text_models(base: str, key: str) -> None:
    """Score one text so the text models, loaded on first use, are in memory before a client with a
    short timeout (schemathesis: 10 s) calls `/text/score` on a busy machine."""
    answer = httpx.post(
        f"{base}/text/score",
        json={"text": "warm up"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=180,
    )
    assert answer.status_code == 200, answer.text
