"""The registered MLflow model as users call it, beside LightGBM's own `predict` in the same run.

    python -m benchmarks.bench_pyfunc [--customers 2000] [--rows 50000]

A generated company's churn and satisfaction models are fitted with the project's defaults and
logged as MLflow pyfunc models; each is loaded with `mlflow.pyfunc.load_model` and fed the Parquet
of `cxpredict features` as it is (categories, strings, float32). Figures: one row (median of many
calls), a batch with reasons (rows/s), and for comparison LightGBM's `predict` and TreeSHAP
(`pred_contrib`) on the same rows already encoded. Writes the `pyfunc` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from benchmarks.bench_text import company
from benchmarks.report import write_section
from features.training_sets import build_scoring_set
from features.validation import load_workspace
from models.predictor import Predictor
from training.fitting import fit_churn, fit_satisfaction
from training.tracking import log_predictor
from training.workspace import prepared

OUT = Path("bench-out") / "pyfunc"
ONE_ROW_MS, BATCH_ROWS_S = 5.0, 50_000


def best_seconds(call: Callable[[], Any], repeats: int = 3) -> float:
    """The fastest of `repeats` calls, in seconds (the first also warms caches)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def one_row_ms(call: Callable[[pd.DataFrame], Any], rows: pd.DataFrame, calls: int = 200) -> float:
    """Median milliseconds of `call` on one row, over `calls` different rows."""
    times = []
    for i in range(calls):
        row = rows.iloc[[i % len(rows)]]
        start = time.perf_counter()
        call(row)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def trained_models(folder: Path, customers: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """The logged pyfunc models by kind (loaded back), and the scoring features as Parquet gives them."""
    loaded = load_workspace(company(customers, 0, OUT))
    parquet = folder / "features.parquet"
    build_scoring_set(loaded.tables, loaded.config).to_parquet(parquet, index=False)
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    models = {}
    for kind in ("churn", "satisfaction"):
        ts, options = prepared(kind, loaded.tables, loaded.config)
        predictor = (
            fit_churn(ts, options) if kind == "churn" else fit_satisfaction(ts, loaded.config.scales, options)
        )
        with mlflow.start_run():
            info = log_predictor(predictor, ts.X.head(5))
        models[kind] = mlflow.pyfunc.load_model(info.model_uri)
    return models, pd.read_parquet(parquet)


def measure(model: Any, features: pd.DataFrame, rows: int) -> dict[str, float]:
    """One row and batch figures of the pyfunc, and LightGBM's own on the same encoded rows."""
    predictor: Predictor = model.unwrap_python_model().predictor
    batch = pd.concat([features] * (rows // len(features) + 1), ignore_index=True).head(rows)
    boosters = (
        [predictor.churn]
        if predictor.churn is not None
        else [m.negative_ for m in predictor.metrics.values()]
    )
    # LightGBM reads row-major input fastest: it gets that form, so its figures are its best
    matrix = np.ascontiguousarray(predictor.encode(batch).matrix)
    model.predict(batch)  # fills the SHAP tables once, as a first batch does
    return {
        "one_row_ms": one_row_ms(model.predict, features),
        "batch_rows_s": rows / best_seconds(lambda: model.predict(batch), 5),
        "lightgbm_rows_s": rows
        / sum(best_seconds(lambda b=b: b.booster_.predict(matrix), 5) for b in boosters),
        "treeshap_rows_s": rows
        / sum(best_seconds(lambda b=b: b.booster_.predict(matrix, pred_contrib=True), 1) for b in boosters),
        "trees": sum(b.booster_.num_trees() for b in boosters),
    }


def goal_line(kind: str, r: dict[str, float]) -> str:
    """One model's figures against the goals: met, or how far from them."""
    one = "met" if r["one_row_ms"] <= ONE_ROW_MS else f"NOT met ({r['one_row_ms'] / ONE_ROW_MS:.1f}× over)"
    batch = r["batch_rows_s"]
    rate = "met" if batch >= BATCH_ROWS_S else f"NOT met ({BATCH_ROWS_S - batch:,.0f} rows/s short)"
    return (
        f"{kind}: one row {r['one_row_ms']:.2f} ms ≤ {ONE_ROW_MS:.0f} ms: {one}; batch with reasons "
        f"{batch:,.0f} rows/s ≥ {BATCH_ROWS_S:,}: {rate}; {batch / r['lightgbm_rows_s']:.2f}× LightGBM's "
        "`predict` without reasons, same run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        models, features = trained_models(Path(temp), args.customers)
        results = {kind: measure(model, features, args.rows) for kind, model in models.items()}
    lines = [
        "| model | one row, pyfunc | batch with reasons, pyfunc | LightGBM `predict` alone "
        "| LightGBM TreeSHAP alone |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, r in results.items():
        lines.append(
            f"| {kind} ({r['trees']:.0f} trees with reasons) | {r['one_row_ms']:.2f} ms | "
            f"{r['batch_rows_s']:,.0f} rows/s | {r['lightgbm_rows_s']:,.0f} rows/s | "
            f"{r['treeshap_rows_s']:,.0f} rows/s |"
        )
    verdict = "\n".join(f"- {goal_line(kind, r)}" for kind, r in results.items())
    body = f"""Company: {args.customers:,} customers, seed 0; models fitted with the project's defaults and \
logged as MLflow pyfunc models, then loaded with `mlflow.pyfunc.load_model`. Input: the Parquet of \
`cxpredict features` as written ({features.shape[1]} columns: category, string and float32 ones, \
`customer_id` and `as_of` included), {args.rows:,} rows in the batch (the company's {len(features):,} \
customers repeated; a reason's sentence is written once per distinct value, so a batch of all-distinct \
values costs more). One row: median over 200 calls on different rows. Batch: best of five, after a \
first batch that fills the models' tables. LightGBM columns: the same rows already encoded (row-major, \
LightGBM's fastest input), the models' boosters only (satisfaction: the negative-side boosters, the \
ones reasons come from), with LightGBM's own threads (2 on this machine).

{chr(10).join(lines)}

{verdict}
"""
    write_section("pyfunc", "The MLflow model as users call it", body)
    print(body)


if __name__ == "__main__":
    main()
