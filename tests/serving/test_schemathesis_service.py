"""The OpenAPI document at /docs, fuzzed against the real server: no 5xx, no answer off the schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready, warm_text_models
from tests.serving.service_env import copy_workspace, create_keys

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    trained: tuple[Path, MlflowConfig],
    tmp_path: Path,
) -> None:
    log = tmp_path / "server.log"
    with serving(Receiver()) as receiver:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        key, port = create_keys(workspace)[Role.ADMIN], free_port()
        server = start_server(workspace, trained[1], port, log)
        try:
            wait_ready(f"http://127.0.0.1:{port}", server, log)
            warm_text_models(f"http://127.0.0.1:{port}", key)
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                CHECKS,
                "--max-examples",
                "5",
                "--phases",
                "examples,coverage",
                "--seed",
                "7",
                "--no-color",
            ]
            run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
            (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
        finally:
            stop_server(server)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
