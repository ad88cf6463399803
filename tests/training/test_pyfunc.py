"""The registered MLflow model as users call it: on the Parquet `cxpredict features` writes, as-is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.mlflow_config import MlflowConfig
from pipelines.cli import app
from pipelines.synthetic import generate_company
from serving.scorer import load_champions
from tests.serving.workspace import train_champions
from tests.spark import local_session

KINDS = ("churn", "satisfaction")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MlflowConfig, pd.DataFrame]:
    """A generated company with both champions registered, and its `cxpredict features` Parquet."""
    root = tmp_path_factory.mktemp("pyfunc")
    workspace = root / "ws"
    generate_company(workspace, customers=300, seed=4)
    config = MlflowConfig(
        tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=str(root / "artifacts")
    )
    train_champions(workspace, config)
    parquet = root / "features.parquet"
    result = CliRunner().invoke(app, ["features", str(workspace), "--out", str(parquet)])
    assert result.exit_code == 0, result.output
    return workspace, config, pd.read_parquet(parquet)


def champion(config: MlflowConfig, kind: str) -> mlflow.pyfunc.PyFuncModel:
    mlflow.set_tracking_uri(config.tracking_uri)
    return mlflow.pyfunc.load_model(f"models:/{config.model_name(kind)}@{config.serving_alias}")


@pytest.mark.parametrize("kind", KINDS)
def test_the_pyfunc_scores_the_features_parquet_as_written(trained, kind: str) -> None:  # type: ignore[no-untyped-def]
    _, config, features = trained
    assert any(isinstance(t, pd.CategoricalDtype) for t in features.dtypes)  # what MLflow used to refuse
    out = champion(config, kind).predict(features)
    assert len(out) == len(features)
    reasons = [c for c in out.columns if c.endswith("_reasons")]
    assert reasons
    for column in reasons:
        parsed = [json.loads(text) for text in out[column]]
        assert any(parsed) and all(
            {"feature", "sentence", "value", "log_odds"} == set(r) for rs in parsed for r in rs
        )


def test_the_pyfunc_and_the_service_give_the_same_scores_and_reasons(trained) -> None:  # type: ignore[no-untyped-def]
    _, config, features = trained
    rows = features.head(40)
    service = load_champions(config, horizon_days=90)
    records = rows[list(service.features)].astype(object).where(rows.notna(), None).to_dict("records")
    served = service.predict(records)
    churn = champion(config, "churn").predict(rows)
    survey = champion(config, "satisfaction").predict(rows)
    for i, prediction in enumerate(served):
        assert prediction.churn is not None
        assert prediction.churn.probability == pytest.approx(churn["churn_probability"].iloc[i], abs=1e-12)
        assert [r.model_dump() for r in prediction.churn.reasons] == json.loads(
            churn["churn_reasons"].iloc[i]
        )
        for metric, scored in prediction.metrics.items():
            assert scored.negative == pytest.approx(
                survey[f"{metric}_negative_probability"].iloc[i], abs=1e-12
            )
            assert scored.score == pytest.approx(survey[f"{metric}_score"].iloc[i], abs=1e-12)


def test_the_pyfunc_reasons_are_lightgbm_treeshap_values(trained) -> None:  # type: ignore[no-untyped-def]
    _, config, features = trained
    predictor = champion(config, "churn").unwrap_python_model().predictor
    model = predictor.churn
    rows = predictor.encode(features)
    probabilities, pushes = model.explain_rows(rows)
    np.testing.assert_allclose(probabilities, model.predict_proba(rows), rtol=0, atol=1e-12)
    expected = model.contribution_matrix(rows)[:, model.explained_features]
    np.testing.assert_allclose(pushes, expected, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = local_session("cxpredict-pyfunc")
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_scores_the_features_parquet_through_the_pyfunc(trained, spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pyspark.sql.functions import struct

    _, config, features = trained
    parquet = tmp_path / "features.parquet"
    features.head(50).to_parquet(parquet, index=False)
    model = champion(config, "churn")
    columns = model.metadata.metadata["features"]
    udf = mlflow.pyfunc.spark_udf(
        spark,
        f"models:/{config.model_name('churn')}@{config.serving_alias}",
        result_type="churn_probability double, churn_reasons string",
        env_manager="local",
    )
    frame = spark.read.parquet(str(parquet))
    scored = frame.select("customer_id", udf(struct(*columns)).alias("out")).toPandas()
    expected = model.predict(pd.read_parquet(parquet))
    got = pd.DataFrame(list(scored["out"].map(lambda r: r.asDict())))
    np.testing.assert_allclose(got["churn_probability"], expected["churn_probability"], rtol=0, atol=1e-9)
    assert list(got["churn_reasons"]) == list(expected["churn_reasons"])
