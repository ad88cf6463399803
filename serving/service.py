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
import logging
import threading
from typing import Annotated, Any, cast

import bentoml
from fastapi import Body, Header, HTTPException, Query, Request
from fastapi.responses import Response
from mlflow.exceptions import MlflowException
from pydantic import BaseModel

from features.contract import TEXT_SCORES_TABLE
from features.online_db import StoreUnavailable
from serving import metrics
from serving.app import app
from serving.auth import PRINCIPAL
from serving.contract_check import check_rows
from serving.env_files import read_secret_files
from serving.events import ingest, store_events
from serving.front import put_in_front
from serving.front_stack import customer_answer, front
from serving.keys import Principal
from serving.log_format import format_logs
from serving.receipts import MAX_KEY_LENGTH
from serving.redaction import redact_logs, redact_rows
from serving.runtime import Runtime
from serving.schemas import (
    EVENT_TABLES,
    EXAMPLE_EVENTS,
    EXAMPLE_SCORE,
    EXAMPLE_SURVEYS,
    EXAMPLE_TEXT,
    Caller,
    CustomerId,
    CustomerIds,
    CustomerScores,
    EventBatch,
    EventsResult,
    Handled,
    HandledRequest,
    ModelsPage,
    Overview,
    Problem,
    Reloaded,
    RulesStatus,
    ScoreHistory,
    ScoreRequest,
    ScoreResponse,
    SurveyBatch,
    SurveysStored,
    TextRequest,
    TextScoreResult,
    Timeline,
    Trends,
    Worklist,
    WorklistEntry,
)
from serving.settings import load_settings
from serving.state import open_database
from serving.text import TextService
from serving.ui.dashboard import Dashboard
from serving.ui.data import pages_for, timeline
from serving.ui.history import customer_history
from serving.ui.rules_view import located_problems
from serving.ui.texts import TextLog

log = logging.getLogger(__name__)


# One worker unless `cxpredict serve --workers N` (Postgres only): each process keeps its own answer
# cache and models, and tells the others what it changed (`serving.changes`).
@bentoml.service(name="cxpredict", workers=1, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class CxService:
    """Scores, reasons, events and actions for one workspace (named by `CX_WORKSPACE`)."""

    def __init__(self) -> None:
        read_secret_files()  # before anything reads a secret: `bentoml serve` passes no CLI
        redact_logs()  # before anything is logged: BentoML has set up its handlers by now
        format_logs()
        self.runtime = Runtime(load_settings())
        self.text = TextService(self.runtime.settings.workspace)
        self.dashboard = Dashboard(self.runtime)
        self.texts = TextLog(open_database(self.runtime.settings.workspace))
        # models load in the background: /livez answers at once, /readyz once they passed the canary
        threading.Thread(target=self.runtime.start, name="cx-load", daemon=True).start()
        threading.Thread(target=self.dashboard.warm, name="cx-dashboard", daemon=True).start()

    def __is_ready__(self) -> bool:
        return not self.runtime.problems()

    def __metrics__(self, content: str) -> str:
        runtime = self.runtime
        versions = runtime.champions.versions if runtime.champions is not None else {}
        try:
            counters = runtime.actions.counters()
        except StoreUnavailable:
            counters = {}  # the outbox cannot be read now: no figure rather than a wrong one
        ready, shadowed = runtime.ready.is_set(), runtime.shadow.versions
        return content + metrics.state_lines(versions, counters, ready, shadowed)

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
        if not result.replayed:
            self.texts.keep(tables)  # redacted above: the customer's timeline shows them
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

    @app.post("/worklist/handled", response_model=Handled, tags=["agents"])
    def handled(self, request: Request, body: HandledRequest) -> Handled:
        """Take a customer off the worklist (one team's or all), recorded with who and when.

        The rules see it: a rule that would put the customer back waits out its cooldown from now.
        """
        now, by = dt.datetime.now(dt.UTC), _caller(request).name
        teams = self.runtime.actions.mark_handled(body.customer_id, body.team, by, now)
        return Handled(customer_id=body.customer_id, by=by, at=now, teams=teams)

    @app.get(
        "/timeline",
        response_model=Timeline,
        tags=["agents"],
        responses={404: {"model": Problem, "description": "no such customer in the online store"}},
    )
    def timeline(self, customer_id: Annotated[CustomerId, Query()]) -> Timeline:
        """A customer's touchpoints in the online store, oldest first, and when they were handled."""
        self.runtime.models()  # the store is materialised once the service is ready: 503 before
        found = timeline(self.runtime, self.texts, customer_id)
        if found is None:
            raise HTTPException(404, f"no customer {customer_id!r} in the online store")
        return found

    @app.get("/overview", response_model=Overview, tags=["managers"])
    def overview(self) -> Overview:
        """Churn risk over the whole base: distribution, bands, share at risk, top reasons, charts."""
        self.runtime.models()
        return self.dashboard.overview.get()

    @app.get("/models", response_model=ModelsPage, tags=["managers"])
    def models_page(self) -> ModelsPage:
        """Champion and challenger of each model: holdout metrics, calibration, training date, monitor."""
        self.runtime.models()
        try:
            page = self.dashboard.models.get()
        except (MlflowException, OSError) as exc:  # the registry went away after the models loaded
            reason = str(exc).partition("\n")[0] or type(exc).__name__
            raise HTTPException(503, f"the MLflow registry cannot be read now: {reason}") from None
        return ModelsPage.model_validate(page)

    @app.get(
        "/history",
        response_model=ScoreHistory,
        tags=["agents"],
        responses={404: {"model": Problem, "description": "no such customer in the online store"}},
    )
    def history(self, customer_id: Annotated[CustomerId, Query()]) -> ScoreHistory:
        """A customer's scores every 30 days over six months (from their events), and why they moved."""
        found = customer_history(self.runtime, customer_id)
        if found is None:
            raise HTTPException(404, f"no customer {customer_id!r} in the online store")
        return ScoreHistory.model_validate(found)

    @app.post("/worklist/trends", response_model=Trends, tags=["agents"])
    def trends(self, body: CustomerIds) -> Trends:
        """Each customer's churn risk a week before their latest row (the worklist's trend)."""
        self.runtime.models()
        return Trends(week_ago=self.dashboard.week_ago(body.customer_ids))

    @app.get("/me", response_model=Caller, tags=["agents"])
    def me(self, request: Request) -> Caller:
        """Who the key belongs to, its role and the dashboard pages that role may open."""
        caller = _caller(request)
        return Caller(name=caller.name, role=caller.role.value, may=pages_for(caller.role))

    @app.get("/rules", response_model=RulesStatus, tags=["managers"])
    def rules(self) -> RulesStatus:
        """The rules file in force: when it loaded, how many rules, and the error while it is broken."""
        actions = self.runtime.actions
        status = actions.rules_status()
        return RulesStatus.model_validate(
            status | actions.rules_activity() | {"problems": located_problems(status)}
        )

    @app.post("/text/score", response_model=TextScoreResult, tags=["agents"])
    def text_score(self, request: Annotated[TextRequest, Body(examples=[EXAMPLE_TEXT])]) -> TextScoreResult:
        """One text: redacted, its writer's predicted satisfaction, the negative probability and theme."""
        return self.text.score(request.text)

    @app.post("/admin/reload", response_model=Reloaded, tags=["admin"])
    def reload(self) -> Reloaded:
        """Serve the versions the @champion aliases point at now, without dropping a request."""
        return self.runtime.reload()


def _caller(request: Request) -> Principal:
    """The key's owner, left in the request by the gate in front."""
    return cast(Principal, request.scope[PRINCIPAL])


put_in_front(CxService, lambda served: front(served, app))
