"""Random input on every endpoint of the real server: schemathesis's and our own hostile values.

Schemathesis generates from the API document (valid and invalid bodies, NUL and any Unicode in
strings); JSON as Python writes it cannot carry what a careless client sends (NaN, Infinity,
1e999, lone surrogates), so a seeded generator of our own puts those into every field of every
endpoint's example. Every answer must be 2xx or 4xx, and schemathesis's must also match the
document (status code, content type, response schema).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from serving.schemas import EXAMPLE_EVENTS, EXAMPLE_SCORE, EXAMPLE_SURVEYS, EXAMPLE_TEXT
from tests.serving.hostile import Served, served
from tests.serving.server_process import warm_text_models

HOSTILE = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1" + "0" * 400,
    '"\\ud800"',
    '"\\udfff tail"',
    '"\\u0000"',
    '"\\u202e\\u0301\\ufeff"',
    '"' + "\U0001f600" * 300 + '"',
    '"' + "x" * 30_000 + '"',
    '"1900-01-01T00:00:00Z"',
    '"9999-12-31T23:59:59Z"',
    '"2026-02-30"',
    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
    "{}",
    "null",
    "true",
    "-0.0",
    "1e-400",
]
EXAMPLES = {
    "/score": EXAMPLE_SCORE,
    "/events": EXAMPLE_EVENTS,
    "/surveys": EXAMPLE_SURVEYS,
    "/text/score": EXAMPLE_TEXT,
}


@pytest.fixture(scope="module")
def server(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(trained, tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths to every scalar in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _with_raw(body: Any, where: tuple[Any, ...], raw: str) -> bytes:
    """`body` as JSON text, with the value at `where` replaced by the raw JSON text `raw`."""
    marker = "\x01MARK\x01"
    copy = json.loads(json.dumps(body))
    target = copy
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = marker
    return json.dumps(copy).replace(json.dumps(marker), raw).encode()


def test_hostile_values_in_every_field_of_every_endpoint_are_never_a_server_error(server: Served) -> None:
    rng = random.Random(13)
    failures = []
    with server.client(Role.ADMIN) as http:
        for path, example in EXAMPLES.items():
            for where in _leaves(example):
                for raw in rng.sample(HOSTILE, 6):
                    answer = http.post(
                        path,
                        content=_with_raw(example, where, raw),
                        headers={"content-type": "application/json"},
                    )
                    if not 200 <= answer.status_code < 500:
                        failures.append((path, where, raw[:40], answer.status_code, answer.text[:200]))
        for raw in HOSTILE:  # the query and path parameters too
            for url in (f"/worklist?limit={raw}", f"/worklist?team={raw}", f"/customers/{raw[:200]}"):
                answer = http.get(url)
                if not 200 <= answer.status_code < 500:
                    failures.append(("GET", url[:60], answer.status_code, answer.text[:200]))
    assert failures == []


@pytest.mark.slow
def test_schemathesis_random_generation_on_every_endpoint_finds_no_server_error_and_no_schema_violation(
    server: Served, tmp_path: Path
) -> None:
    warm_text_models(server.base, server.keys[Role.ADMIN])
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.base}/openapi.json",
        "--header",
        f"Authorization: Bearer {server.keys[Role.ADMIN]}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--max-examples",
        "15",
        "--generation-allow-x00",
        "true",
        "--generation-codec",
        "utf-8",
        "--seed",
        "11",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"Selected: (\d+)/\1\s+Tested: \1\b", run.stdout), run.stdout[-3000:]  # every endpoint
