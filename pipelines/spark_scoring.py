"""Batch scoring on Spark: the @champion models run inside the executors, over Arrow batches.

Each model runs through `mlflow.pyfunc.spark_udf(..., env_manager="local")`: MLflow ships the
registered model to the executors and calls its `predict` on pandas batches of the feature rows,
so scores and reasons are the ones `score_features` gives, and no row passes through the driver.
The driver predicts a handful of rows itself, only to learn the output columns and their types.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pandas as pd

from pipelines.scoring import MODEL_KINDS, _champion, check_features
from training.tracking import MlflowConfig, activate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

SCHEMA_ROWS = 5  # rows the driver scores to learn the output's columns


def score_frame(
    session: SparkSession,
    features: DataFrame,
    mlflow_config: MlflowConfig,
    kinds: tuple[str, ...] = MODEL_KINDS,
) -> DataFrame:
    """`score_features` on Spark: `customer_id`, then every champion's scores and reasons.

    Raises:
        LookupError: when no model has a champion yet (train first).
        DataProblem: when a champion needs features the workspace lacks.
    """
    import mlflow
    from pyspark.sql import functions as F

    activate(mlflow_config)
    sample = features.limit(SCHEMA_ROWS).toPandas()
    columns = [F.col("customer_id")]
    for kind in kinds:
        model = _champion(mlflow_config, kind)
        if model is None:
            continue
        check_features(model, kind, sample)
        schema = output_schema(pd.DataFrame(model.predict(sample)))
        uri = f"models:/{mlflow_config.model_name(kind)}@{mlflow_config.serving_alias}"
        udf = mlflow.pyfunc.spark_udf(session, uri, result_type=schema, env_manager="local")
        inputs = F.struct(*[F.col(_q(c)) for c in features.columns if c not in ("customer_id", "as_of")])
        features = features.withColumn(f"_{kind}", udf(inputs))
        columns += [F.col(f"_{kind}.{_q(field.name)}").alias(field.name) for field in schema.fields]
    if len(columns) == 1:
        raise LookupError("no model has a @champion yet: run `cxpredict train WORKSPACE` first")
    return features.select(*columns)


def output_schema(predicted: pd.DataFrame) -> StructType:
    """The Spark struct of a model's output frame: numbers as doubles, flags as booleans, else text."""
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField(str(name), _spark_type(predicted[name])) for name in predicted.columns]
    )


def _spark_type(values: pd.Series) -> DataType:
    from pyspark.sql import types as T

    if pd.api.types.is_bool_dtype(values):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(values):
        return T.LongType()
    if pd.api.types.is_numeric_dtype(values):
        return T.DoubleType()
    return T.StringType()


def summary_lines(scores: DataFrame) -> Iterator[str]:
    """`score_lines` computed in Spark: predicted NPS and churn risk of the whole base (one row back)."""
    from pyspark.sql import functions as F

    present = set(scores.columns)
    aggregates = []
    if {"nps_promoter", "nps_detractor"} <= present:
        aggregates += [F.avg("nps_promoter").alias("promoter"), F.avg("nps_detractor").alias("detractor")]
    if "churn_probability" in present:
        risk = F.col("churn_probability")
        aggregates += [F.avg(risk).alias("risk"), F.sum((risk > 0.5).cast("int")).alias("risky")]
    if not aggregates:
        return
    row = scores.agg(*aggregates).first()
    assert row is not None  # an aggregate without grouping always has its one row
    if "promoter" in row.asDict():
        yield f"predicted NPS of the whole base: {100 * (row['promoter'] - row['detractor']):.1f}"
    if "risk" in row.asDict():
        yield f"mean churn risk {row['risk']:.1%}; {int(row['risky'] or 0):,} customers above 50%"


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
