"""The dashboard's answers that cost more than a request may take, kept in memory and warmed at start.

The overview scores the whole base and reads the report and the monitoring runs; the Models page
reads the registry. Both are made once the models are loaded, then again in the background when
stale, so a page never waits for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from serving.runtime import Runtime
from serving.schemas import Overview
from serving.ui.base_trend import over_time, predicted_by_month
from serving.ui.base_view import SummaryFile, surveyed_by_month
from serving.ui.data import OverviewCache, overview
from serving.ui.history import Trends
from serving.ui.models_view import health, models_view

log = logging.getLogger(__name__)
OVERVIEW_TTL_S, MODELS_TTL_S = 30.0, 60.0
PREDICTED_TTL_S = 3600.0  # the sample's monthly predictions move only with new months or models


class Dashboard:
    """The overview, the Models page and the worklist's trends of one service."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.summary = SummaryFile(runtime.settings.workspace)
        self.overview = OverviewCache[Overview](lambda: overview(runtime, self._extras), OVERVIEW_TTL_S)
        self.models = OverviewCache[dict[str, Any]](self._models, MODELS_TTL_S, name="Models page")
        self.trends = Trends(runtime)
        self.predicted = OverviewCache[dict[str, Any]](
            lambda: predicted_by_month(runtime), PREDICTED_TTL_S, name="monthly predictions"
        )

    def warm(self) -> None:
        """Make the kept answers once the models are in service (run in the background at start)."""
        self.runtime.ready.wait()
        try:
            self.overview.get()
            self.models.get()
        except Exception as exc:  # a page made on request will say what is wrong; an outage is no bug
            log.warning(
                "the dashboard's overview could not be made ahead: %s",
                str(exc).partition("\n")[0] or type(exc).__name__,
            )

    def _words(self) -> Mapping[str, str]:
        with self.runtime.read_lock:
            return self.runtime.store.catalogue.descriptions()

    def _extras(self, words: Mapping[str, str]) -> dict[str, Any]:
        return {
            "base": self.summary.view(words),
            "surveyed": self._over_time(),
            "health": self._health(),
        }

    def _over_time(self) -> dict[str, Any]:
        surveyed, predicted = surveyed_by_month(self.runtime), self.predicted.get()
        return {"surveyed": surveyed, "predicted": predicted, "chart_svg": over_time(surveyed, predicted)}

    def _health(self) -> dict[str, Any]:
        try:
            return health(self.runtime.settings.mlflow)
        except Exception as exc:  # the registry is down: the overview still answers
            return {"verdict": None, "summary": f"the MLflow runs cannot be read now ({type(exc).__name__})"}

    def _models(self) -> dict[str, Any]:
        base = self.summary.view(self._words()) or {}
        return models_view(self.runtime.settings.mlflow, base.get("calibration_svg", {})) | {
            "serving": self.runtime.models().versions,
            "shadow": self.runtime.shadow.versions,
        }

    def week_ago(self, customer_ids: Sequence[str]) -> dict[str, float | None]:
        """Customer -> churn risk a week before their latest row."""
        return self.trends.week_ago(customer_ids)
