"""The cxpredict service: one BentoML class, its endpoints on a FastAPI app mounted at the root.

FastAPI carries the routes because they need what BentoML's `@bentoml.api` (POST-only, 400 on a
bad body) does not give: GET routes with path parameters, 404/413/422/503 answers and response
models in the OpenAPI document at `/docs`. BentoML runs the workers, the probes (`/livez`,
`/readyz` through `__is_ready__`) and `/metrics` (its request metrics, plus `__metrics__`). In
front of BentoML's app (`serving.front`): the latency of every request per route template, the
key check, and customer reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from typing import Annotated, Any, cast

import bentoml
from fastapi import Body, FastAPI, Header, Query
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel

from features.contract import TEXT_SCORES_TABLE
from features.online_db import StoreUnavailable
from serving import metrics
from serving.auth import OPEN, Authenticate, Guard
from serving.contract_check import check_rows
from serving.errors import add_error_handlers
from serving.events import ingest, store_events
from serving.fast_answers import FastAnswers
from serving.front import KnownPaths, Timed, put_in_front
from serving.keys import KeyStore, Principal, VerifiedKeys
from serving.receipts import MAX_KEY_LENGTH
from serving.redaction import redact_logs, redact_rows
from serving.runtime import NotReady, Runtime
from serving.schemas import (
    EVENT_TABLES,
    EXAMPLE_EVENTS,
    EXAMPLE_SCORE,
    EXAMPLE_SURVEYS,
    EXAMPLE_TEXT,
    CustomerId,
    CustomerScores,
    EventBatch,
    EventsResult,
    Problem,
    Reloaded,
    RulesStatus,
    ScoreRequest,
    ScoreResponse,
    SurveyBatch,
    SurveysStored,
    TextRequest,
    TextScoreResult,
    Worklist,
    WorklistEntry,
)
from serving.settings import load_settings
from serving.state import open_database
from serving.text import TextService

log = logging.getLogger(__name__)
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


# One worker: the score cache, the models generation and /admin/reload live in the process.
@bentoml.service(name="cxpredict", workers=1, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class CxService:
    """Scores, reasons, events and actions for one workspace (named by `CX_WORKSPACE`)."""

    def __init__(self) -> None:
        redact_logs()  # before anything is logged: BentoML has set up its handlers by now
        self.runtime = Runtime(load_settings())
        self.text = TextService(self.runtime.settings.workspace)
        # models load in the background: /livez answers at once, /readyz once they passed the canary
        threading.Thread(target=self.runtime.start, name="cx-load", daemon=True).start()

    def __is_ready__(self) -> bool:
        return not self.runtime.problems()

    def __metrics__(self, content: str) -> str:
        runtime = self.runtime
        versions = runtime.champions.versions if runtime.champions is not None else {}
        try:
            counters = runtime.actions.counters()
        except StoreUnavailable:
            counters = {}  # the outbox cannot be read now: no figure rather than a wrong one
        return content + metrics.state_lines(versions, counters, runtime.ready.is_set())

    @app.get(
        "/customers/{customer_id}",
        response_model=CustomerScores,
        tags=["agents"],
        responses={404: {"model": Problem, "description": "no such customer in the online store"}},
    )
    def customer(self, customer_id: CustomerId) -> Response:
        """A customer's predicted metrics, churn risk, flags and reasons, from their latest features."""
        status, body = customer_answer(self.runtime, customer_id)  # served: `FastAnswers` answers first
        if status == 200:
            metrics.count_scores("customers")
        return Response(body, status_code=status, media_type="application/json")

    @app.post("/score", response_model=ScoreResponse, tags=["agents"])
    def score(self, request: Annotated[ScoreRequest, Body(examples=[EXAMPLE_SCORE])]) -> ScoreResponse:
        """Score many customers by id, or feature rows sent as they are."""
        found = self.runtime.customers(request.customer_ids)
        results = [scores for scores in found if scores is not None]
        missing = [cid for cid, scores in zip(request.customer_ids, found, strict=True) if scores is None]
        results += self.runtime.score_rows(request.rows)
        metrics.count_scores("score", len(results))
        return ScoreResponse(results=results, not_found=missing)

    @app.post("/events", response_model=EventsResult, tags=["ingest"])
    def events(
        self,
        batch: Annotated[EventBatch, Body(examples=[EXAMPLE_EVENTS])],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=MAX_KEY_LENGTH,
                description="The message id: a batch sent again under a stored key is not stored twice",
            ),
        ] = None,
    ) -> EventsResult:
        """Store new events, refresh and rescore their customers, apply the rules."""
        tables = {t: [r.model_dump() for r in getattr(batch, t)] for t in EVENT_TABLES}
        tables = redact_rows({t: rows for t, rows in tables.items() if rows})
        self.runtime.models()  # the customers are known once the store is materialised: 503 before
        check_rows(self.runtime, tables)
        now = dt.datetime.now(dt.UTC)
        result = ingest(self.runtime, tables | self._text_scores(tables), now, idempotency_key)
        taken = [(a.kind, a.status) for c in result.customers for a in c.actions]
        metrics.count_events(result.stored, taken)
        return result

    def _text_scores(self, tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """The new texts' rows of `text_scores`, when the models were trained with text features."""
        self.runtime.models()  # the store's catalogue exists only once the service is ready
        if not any(s.name == TEXT_SCORES_TABLE for s in self.runtime.writer.catalogue.sources):
            return {}
        rows = self.text.score_events(tables)
        return {TEXT_SCORES_TABLE: rows} if rows else {}

    @app.post("/surveys", response_model=SurveysStored, tags=["ingest"])
    def surveys(self, batch: Annotated[SurveyBatch, Body(examples=[EXAMPLE_SURVEYS])]) -> SurveysStored:
        """Store survey answers (for monitoring and the next training); their customers are refreshed."""
        self.runtime.models()  # refreshing needs a materialised store: refuse before it is ready
        rows = redact_rows({"surveys": [BaseModel.model_dump(answer) for answer in batch.answers]})["surveys"]
        check_rows(self.runtime, {"surveys": rows}, {"surveys": "answers"})
        store_events(self.runtime, {"surveys": rows})
        for row in rows:
            self.runtime.forget(row["customer_id"])
        metrics.count_events({"surveys": len(rows)}, [])
        return SurveysStored(stored=len(rows))

    @app.get("/worklist", response_model=Worklist, tags=["agents"])
    def worklist(
        self,
        team: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> Worklist:
        """Who to contact first: the rules' priority, flagged customers next, then risk x value."""
        entries = self.runtime.actions.worklist(team, limit)
        return Worklist(entries=[WorklistEntry.model_validate(e) for e in entries])

    @app.get("/rules", response_model=RulesStatus, tags=["managers"])
    def rules(self) -> RulesStatus:
        """The rules file in force: when it loaded, how many rules, and the error while it is broken."""
        return RulesStatus.model_validate(self.runtime.actions.rules_status())

    @app.post("/text/score", response_model=TextScoreResult, tags=["agents"])
    def text_score(self, request: Annotated[TextRequest, Body(examples=[EXAMPLE_TEXT])]) -> TextScoreResult:
        """One text: redacted, its writer's predicted satisfaction, the negative probability and theme."""
        return self.text.score(request.text)

    @app.post("/admin/reload", response_model=Reloaded, tags=["admin"])
    def reload(self) -> Reloaded:
        """Serve the versions the @champion aliases point at now, without dropping a request."""
        return self.runtime.reload()


def _open_gate() -> tuple[Authenticate, int]:
    """The key check on the workspace's database, and the body limit, for `Guard`."""
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
        return cast(CxService, bentoml.get_current_service()).runtime
    except bentoml.exceptions.BentoMLException:
        return None


def _cached_answer(customer_id: str) -> bytes | None:
    runtime = _runtime()
    return None if runtime is None else runtime.cached_json(customer_id)


def _answer(customer_id: str) -> tuple[int, bytes]:
    runtime = _runtime()
    if runtime is None:
        return 503, b'{"detail":"not ready: the service is starting"}'
    return customer_answer(runtime, customer_id)


def _front(served: Any) -> Any:
    """Latency per route, then keys and roles, known paths, then customer reads, around BentoML's app."""
    reads = FastAnswers(served, lookup=_cached_answer, answer=_answer)

    def fixed() -> list[str]:
        paths = _paths(served)
        return [path for path in paths if "{" not in path] + [*OPEN, "/metrics"]  # BentoML's own routes

    return Timed(Guard(KnownPaths(reads, fixed), open_gate=_open_gate), routes=fixed())


def _paths(served: Any) -> list[str]:
    """Every fixed path served: BentoML's own routes, the endpoints' (from the API document), the docs."""
    bentoml_paths = [str(getattr(route, "path", "")) for route in served.routes]
    docs = [app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url]
    return [*bentoml_paths, *app.openapi()["paths"], *(path for path in docs if path)]


put_in_front(CxService, _front)
