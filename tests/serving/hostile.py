"""One real `cxpredict serve` on a copy of the trained company, shared by a hostile-input test module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import bearer, copy_workspace, create_keys


@dataclass
class Served:
    """A running server: where it listens, its keys, its workspace, and the folder everything lives in."""

    base: str
    keys: dict[Role, str]
    workspace: Path
    root: Path
    log: Path

    def client(self, role: Role = Role.ADMIN) -> httpx.Client:
        """An HTTP client presenting the key of `role`."""
        return httpx.Client(base_url=self.base, headers=bearer(self.keys[role]), timeout=60)

    def as_of(self, customer_id: str) -> pd.Timestamp:
        """When the customer's features were computed."""
        with self.client(Role.AGENT) as http:
            seen = http.get(f"/customers/{customer_id}").json()
        return pd.Timestamp(seen["freshness"]["as_of"])


@contextmanager
def served(
    trained: tuple[Path, MlflowConfig], root: Path, extra: dict[str, str] | None = None
) -> Iterator[Served]:
    """Serve a fresh copy of the trained workspace under `root` (BentoML's home and the log there too)."""
    log = root / "server.log"
    variables = {"BENTOML_HOME": str(root / "bentoml"), **(extra or {})}
    with serving(Receiver()) as receiver:
        workspace = copy_workspace(trained, root / "ws", receiver.url())
        keys, port = create_keys(workspace), free_port()
        server = start_server(workspace, trained[1], port, log, variables)
        try:
            wait_ready(f"http://127.0.0.1:{port}", server, log)
            yield Served(f"http://127.0.0.1:{port}", keys, workspace, root, log)
        finally:
            stop_server(server)


def verbatim(customer_id: str, at: pd.Timestamp, text: str) -> dict[str, Any]:
    """A verbatim posted an hour before `at`."""
    return {"customer_id": customer_id, "posted_at": (at - pd.Timedelta(hours=1)).isoformat(), "text": text}
