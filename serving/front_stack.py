"""What stands in front of the service's app: the key check, fast customer reads, served files, timing.

These run before BentoML's layers for every request, so they find the served instance through
BentoML (`bentoml.get_current_service()`) rather than hold one.
"""

from __future__ import annotations

import json
from typing import Any

import bentoml
from fastapi import FastAPI

from features.online_db import StoreUnavailable
from serving.auth import OPEN, Authenticate, Guard
from serving.env_files import read_secret_files
from serving.fast_answers import FastAnswers
from serving.front import KnownPaths, Timed
from serving.keys import KeyStore, Principal, VerifiedKeys
from serving.runtime import NotReady, Runtime
from serving.settings import load_settings
from serving.state import open_database
from serving.ui.assets import FILES, Assets


def _open_gate() -> tuple[Authenticate, int]:
    """The key check on the workspace's database, and the body limit, for `Guard`."""
    read_secret_files()  # the gate may open before the service instance exists
    settings = load_settings()
    db = open_database(settings.workspace)
    verified = VerifiedKeys(KeyStore(db))

    def authenticate(token: str) -> Principal | None:
        try:
            return verified.authenticate(token)
        except StoreUnavailable:
            runtime = _runtime()
            if runtime is None or runtime.watch.problem() is not None:
                raise
            # the service's own connections reach the database again: no need to wait out the backoff
            db.retry_now()
            return verified.authenticate(token)

    return authenticate, settings.max_body_bytes


def customer_answer(runtime: Runtime, customer_id: str) -> tuple[int, bytes]:
    """The status and JSON of `GET /customers/{customer_id}`: the scores, 404 or 503."""
    try:
        body = runtime.customer_json(customer_id)
    except NotReady as exc:
        return 503, json.dumps({"detail": f"not ready: {exc}"}).encode()
    except StoreUnavailable as exc:
        return 503, json.dumps({"detail": f"try again later: {exc}"}).encode()
    if body is None:
        return 404, json.dumps({"detail": f"no customer {customer_id!r} in the online store"}).encode()
    return 200, body


def _runtime() -> Runtime | None:
    """The served instance's runtime (None before the instance exists)."""
    try:
        runtime: Runtime = bentoml.get_current_service().runtime
    except bentoml.exceptions.BentoMLException:
        return None
    return runtime


def _cached_answer(customer_id: str) -> bytes | None:
    runtime = _runtime()
    return None if runtime is None else runtime.cached_json(customer_id)


def _answer(customer_id: str) -> tuple[int, bytes]:
    runtime = _runtime()
    if runtime is None:
        return 503, b'{"detail":"not ready: the service is starting"}'
    return customer_answer(runtime, customer_id)


def front(served: Any, app: FastAPI) -> Any:
    """Latency per route, then keys and roles, known paths, then customer reads, around BentoML's app.

    Args:
        served: BentoML's ASGI app.
        app: the endpoints' FastAPI app, whose API document lists their paths.
    """
    reads = FastAnswers(served, lookup=_cached_answer, answer=_answer)

    def fixed() -> list[str]:
        paths = _paths(served, app)
        return [path for path in paths if "{" not in path] + [*OPEN, "/metrics"]  # BentoML's own routes

    # the dashboard's files first: they need no key and no BentoML layer
    return Timed(Assets(Guard(KnownPaths(reads, fixed), open_gate=_open_gate)), routes=[*fixed(), *FILES])


def _paths(served: Any, app: FastAPI) -> list[str]:
    """Every fixed path served: BentoML's own routes, the endpoints' (from the API document), the docs."""
    bentoml_paths = [str(getattr(route, "path", "")) for route in served.routes]
    docs = [app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url]
    return [*bentoml_paths, *app.openapi()["paths"], *(path for path in docs if path)]
