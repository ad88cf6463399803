"""The service's error answers: every refusal a short JSON `detail`, never a stack trace.

422s are a list of problems, each with where (`loc`) and which rule (`msg`), never the input itself:
it may hold personal data, NaN or a lone surrogate (which JSON cannot carry back).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from features.online import KeyTaken
from features.online_db import StoreUnavailable
from serving.contract_check import ContractViolation
from serving.events import UnknownTable
from serving.runtime import NotReady, ReloadFailed


def add_error_handlers(app: FastAPI) -> None:
    """Answer the service's known failures as 422 or 503 with the reason."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's answer to a body that is not JSON: malformed, so 422
            problem = {"loc": ["body"], "msg": "the body is not valid UTF-8 JSON", "type": "json_invalid"}
            return JSONResponse({"detail": [problem]}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # where and which rule, never the input itself: it may hold personal data, NaN or a lone surrogate
        problems = [
            {
                "loc": [_shown(part) for part in error["loc"]],
                "msg": _shown(error["msg"]),
                "type": error["type"],
            }
            for error in exc.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(ContractViolation)
    async def _contract(request: Request, exc: ContractViolation) -> JSONResponse:
        return JSONResponse({"detail": exc.problems}, status_code=422)

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse({"detail": f"not ready: {exc}"}, status_code=503)

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"not stored, try again later: {exc}"}, status_code=503)

    @app.exception_handler(ReloadFailed)
    async def _reload_failed(request: Request, exc: ReloadFailed) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(KeyTaken)
    @app.exception_handler(UnknownTable)
    async def _unknown_table(request: Request, exc: ValueError) -> JSONResponse:
        # the shape of every other 422: a list of problems, each with where and what
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]}, 422)


def _shown(part: object) -> int | str:
    """A location part or message as JSON can carry it (a key may be any text the caller sent)."""
    if isinstance(part, int):
        return part
    return str(part)[:200].encode("utf-8", "replace").decode("utf-8")
