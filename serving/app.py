"""The FastAPI app that carries the service's endpoints, its error answers and its API document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from serving.errors import add_error_handlers
from serving.schemas import Problem

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (401, "no key, or an unknown one"),
        (403, "the key's role may not call this endpoint"),
        (413, "the body is too large"),
        (422, "the request is malformed"),
        (503, "the models are not loaded, the state database is unavailable, or a reload failed"),
    )
}
app = FastAPI(
    title="cxpredict",
    description="Satisfaction and churn risk of every customer, with reasons; events in, actions out.",
    version="1",
    responses=ERRORS,
)


def _openapi() -> dict[str, Any]:
    """FastAPI's document plus the bearer key every endpoint but the probes asks for."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {"key": {"type": "http", "scheme": "bearer"}}
        schema["security"] = [{"key": []}]
        app.openapi_schema = schema
    return app.openapi_schema


app.openapi = _openapi  # type: ignore[method-assign]


add_error_handlers(app)
