"""The report's scoring of the whole base: scores, and each model's drivers summed as numbers.

`score_features` writes every customer's reasons as JSON, and the drivers would read them all back:
at a million customers that writing and parsing cost more than the scoring. Here each chunk's
strongest pushes stay numbers (`Predictor.predict_picks`) and are summed per driver at once; only
the few customers the report names get their reasons written.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from mlflow.pyfunc import PyFuncModel

from models.predictor import REASONS_SUFFIX
from pipelines.scoring import SCORE_CHUNK_ROWS, Champions, check_features
from training.insight.drivers import Hits, joined_hits, picked_pushes, reason_pushes


@dataclass(frozen=True)
class ScoredBase:
    """Every customer's scores (no reasons) and each model's risk-raising pushes per driver.

    Attributes:
        scores: `customer_id`, then each model's scores, as `score_features` gives them less reasons.
        hits: model (`nps`, `csat`, `churn` …) -> driver -> (rows, summed pushes), as `drivers_of` reads.
    """

    scores: pd.DataFrame
    hits: dict[str, Hits]


def score_base(
    features: pd.DataFrame, champions: Champions, chunk_rows: int = SCORE_CHUNK_ROWS
) -> ScoredBase:
    """`score_features(features)` with the reasons summed per driver instead of written, in chunks.

    Args:
        features: one row per customer, as `build_scoring_set` gives them.
        champions: the loaded champions (`load_champions`).
        chunk_rows: rows scored at a time (bounds the memory of the SHAP pushes).

    Raises:
        LookupError: when no model has a champion yet (train first).
    """
    present = [(kind, model) for kind, model in champions.items() if model is not None]
    if not present:
        raise LookupError("no model has a @champion yet: run `cxpredict train WORKSPACE` first")
    for kind, model in present:
        check_features(model, kind, features)
    frame = features.reset_index(drop=True)
    parts: list[pd.DataFrame] = []
    chunk_hits: dict[str, list[tuple[Hits, int]]] = {}
    for start in range(0, max(len(frame), 1), chunk_rows):
        chunk = frame.iloc[start : start + chunk_rows].reset_index(drop=True)
        scored = [chunk[["customer_id"]]]
        for _, model in present:
            scores, hits = _scored(model, chunk)
            scored.append(scores)
            for name, found in hits.items():
                chunk_hits.setdefault(name, []).append((found, start))
        parts.append(pd.concat(scored, axis=1))
    hits = {name: joined_hits(found) for name, found in chunk_hits.items()}
    return ScoredBase(pd.concat(parts, ignore_index=True), hits)


def _scored(model: PyFuncModel, chunk: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Hits]]:
    """One model's scores of a chunk, and its models' hits (from the reasons when it has no predictor)."""
    predictor = getattr(model.unwrap_python_model(), "predictor", None)
    if predictor is None:  # another pyfunc: its JSON reasons are all there is
        scored = pd.DataFrame(model.predict(chunk)).reset_index(drop=True)
        written = [c for c in scored.columns if str(c).endswith(REASONS_SUFFIX)]
        hits = {str(c).removesuffix(REASONS_SUFFIX): reason_pushes(scored[c]) for c in written}
        return scored.drop(columns=written), hits
    scores, picks = predictor.predict_picks(chunk)
    features = predictor.features
    # a category's level is a driver of its own, as the written reasons' values name it
    levels = {features.index(name): chunk[name] for name in predictor.categories}
    return scores, {name: picked_pushes(p.columns, p.pushes, features, levels) for name, p in picks.items()}
