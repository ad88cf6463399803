"""Batch scoring: every customer's features as of a moment, through the @champion models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel

from features.config import WorkspaceConfig
from features.problems import DataProblem
from features.training_sets import build_scoring_set
from training.tracking import MlflowConfig, activate

MODEL_KINDS = ("satisfaction", "churn")
MISSING_SHOWN = 5
Champions = dict[str, PyFuncModel | None]  # model kind -> its loaded @champion, None when it has none
# Reasons hold every feature's contribution for every row of every model: scoring a million rows at
# once took more than 24 GiB. Chunks of whole rows bound that memory and give the same scores.
SCORE_CHUNK_ROWS = 100_000


def score_customers(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    as_of: dt.datetime | None = None,
) -> pd.DataFrame:
    """One row per customer: the scores and reasons of every model that has a champion.

    Args:
        tables: the validated, typed tables of a workspace.
        config: the workspace config the features are computed under.
        mlflow_config: where the registered models and their serving alias live.
        as_of: the moment of the features (default: just after the latest event).

    Raises:
        LookupError: when no model has a champion yet (train first).
    """
    features = build_scoring_set(tables, config, as_of)
    if features.empty:
        raise DataProblem(
            f"no customer existed before {as_of or 'the latest event'}: there is no one to score"
        )
    return score_features(features, mlflow_config)


def score_features(
    features: pd.DataFrame,
    mlflow_config: MlflowConfig,
    kinds: tuple[str, ...] = MODEL_KINDS,
    reasons: bool = True,
    champions: Champions | None = None,
) -> pd.DataFrame:
    """`score_customers` for feature rows already built (`customer_id`, `as_of`, features).

    Args:
        features: one row per customer, as `build_scoring_set` gives them.
        mlflow_config: where the registered models and their serving alias live.
        kinds: the models to score with, among those with a champion.
        reasons: False gives the same scores without the `_reasons` columns, several times faster.
        champions: the champions already loaded (`load_champions`), for callers that score often.

    Raises:
        LookupError: when no model has a champion yet (train first).
    """
    loaded = load_champions(mlflow_config, kinds) if champions is None else champions
    present = [(kind, model) for kind in kinds if (model := loaded.get(kind)) is not None]
    if not present:
        raise LookupError("no model has a @champion yet: run `cxpredict train WORKSPACE` first")
    for kind, model in present:
        check_features(model, kind, features)
    models = [model for _, model in present]
    frame = features.reset_index(drop=True)
    starts = range(0, max(len(frame), 1), SCORE_CHUNK_ROWS)
    parts = [_scored(models, frame.iloc[start : start + SCORE_CHUNK_ROWS], reasons) for start in starts]
    return pd.concat(parts, ignore_index=True)


def _scored(models: list[PyFuncModel], chunk: pd.DataFrame, reasons: bool) -> pd.DataFrame:
    """`customer_id` and every model's scores of one chunk of feature rows."""
    chunk = chunk.reset_index(drop=True)
    # the model reads its own feature columns from the frame, as `cxpredict features` wrote it
    scored = [chunk[["customer_id"]], *(_predicted(m, chunk, reasons).reset_index(drop=True) for m in models)]
    return pd.concat(scored, axis=1)


def load_champions(mlflow_config: MlflowConfig, kinds: tuple[str, ...] = MODEL_KINDS) -> Champions:
    """Each kind's @champion, loaded once: a loaded model keeps the tables its reasons are read from."""
    activate(mlflow_config)
    return {kind: _champion(mlflow_config, kind) for kind in kinds}


def _predicted(model: PyFuncModel, frame: pd.DataFrame, reasons: bool) -> pd.DataFrame:
    """The model's scores of `frame`; without reasons straight from its predictor, which skips them."""
    predictor = getattr(model.unwrap_python_model(), "predictor", None)
    if reasons or predictor is None:
        return pd.DataFrame(model.predict(frame))
    return predictor.predict(frame, reasons=False)


def check_features(model: PyFuncModel, kind: str, features: pd.DataFrame) -> None:
    """Refuse, in one sentence, a champion trained on features this workspace does not have."""
    needed = model_features(model)
    missing = [name for name in needed if name not in features.columns]
    if missing:
        shown = ", ".join(missing[:MISSING_SHOWN]) + (", …" if len(missing) > MISSING_SHOWN else "")
        raise DataProblem(
            f"the {kind} @champion needs {len(missing)} feature(s) this workspace lacks ({shown}); "
            "it was trained on other data: run `cxpredict train` on this workspace"
        )


def model_features(model: PyFuncModel) -> list[str]:
    """The feature columns a pyfunc model reads: its predictor's, else its input signature's."""
    predictor = getattr(model.unwrap_python_model(), "predictor", None)
    if predictor is not None:
        return list(predictor.features)
    schema = model.metadata.get_input_schema()
    return [] if schema is None else [str(name) for name in schema.input_names()]


def _champion(settings: MlflowConfig, kind: str) -> PyFuncModel | None:
    uri = f"models:/{settings.model_name(kind)}@{settings.serving_alias}"
    try:
        return mlflow.pyfunc.load_model(uri)
    except MlflowException:
        return None  # this model was never trained or promoted for this workspace
