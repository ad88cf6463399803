"""Training sets on Spark: the examples, their labels and their features, never collected.

The same examples as `features.training_sets` builds with pandas: one per survey answer
(satisfaction), one per customer active at each churn cutoff (churn), with the same columns in the
same order as `write_training_set`'s file (keys, then float32 numbers, then texts). Each distinct
(customer, moment) pair is computed once, as `compute_features` does, then joined back to its
examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from features.catalogue import CHURN_V1, SATISFACTION_V1, Catalogue
from features.config import WorkspaceConfig
from features.engine import timestamp_micros
from features.spark_features import latest_moment, spark_catalogue, spine_features
from features.training_sets import CHURN_LABEL, CUTOFF, cutoffs_before

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def training_frame(
    session: SparkSession, tables: Mapping[str, DataFrame], config: WorkspaceConfig, kind: str
) -> DataFrame:
    """The `satisfaction` or `churn` training set as a Spark DataFrame (nothing computed yet).

    Raises:
        ValueError: for an unknown kind, or when the workspace lacks the table the set needs.
    """
    if kind == "satisfaction":
        keys, service = satisfaction_keys(tables), SATISFACTION_V1
    elif kind == "churn":
        keys, service = churn_keys(session, tables, config), CHURN_V1
    else:
        raise ValueError(f"unknown training set {kind!r}: use 'satisfaction' or 'churn'")
    full = spark_catalogue(tables, config)
    return example_features(session, tables, full.subset(service.select(full)), keys)


def satisfaction_keys(tables: Mapping[str, DataFrame]) -> DataFrame:
    """One row per survey answer: `customer_id`, `metric`, `responded_at`, `score`, `as_of`.

    Raises:
        ValueError: when the workspace has no surveys table.
    """
    from pyspark.sql import functions as F

    if "surveys" not in tables:
        raise ValueError("no surveys table: a satisfaction model needs survey answers")
    surveys = tables["surveys"]
    return surveys.select(
        "customer_id", "metric", "responded_at", "score", F.col("responded_at").alias("as_of")
    )


def churn_keys(session: SparkSession, tables: Mapping[str, DataFrame], config: WorkspaceConfig) -> DataFrame:
    """Customers active at each cutoff: `customer_id`, `cutoff`, `churned` (int8), `as_of`.

    Raises:
        ValueError: when the workspace has no churn table.
    """
    from pyspark.sql import functions as F

    if "churn" not in tables:
        raise ValueError("no churn table: a churn model needs the churn that did happen")
    chosen = config.churn.cutoffs or cutoffs_before(latest_moment(tables), config.churn)
    cutoffs = session.createDataFrame(  # a handful of moments, as microseconds
        pd.DataFrame({"_c": [timestamp_micros(pd.Timestamp(c)) for c in chosen]})
    ).select(F.timestamp_micros("_c").alias(CUTOFF))
    first = tables["churn"].groupBy("customer_id").agg(F.min("churned_at").alias("_churned_at"))
    customers = tables["customers"]
    joined = customers.select("customer_id", *(["created_at"] if "created_at" in customers.columns else []))
    frame = joined.join(first, "customer_id", "left").crossJoin(cutoffs)
    cutoff, churned_at = F.col(CUTOFF), F.col("_churned_at")
    horizon_end = cutoff + F.make_dt_interval(F.lit(config.churn.horizon_days))
    active = ~F.coalesce(churned_at <= cutoff, F.lit(False))
    if "created_at" in joined.columns:  # an unknown joining date keeps the customer
        active = active & ~F.coalesce(F.col("created_at") >= cutoff, F.lit(False))
    label = F.coalesce((churned_at > cutoff) & (churned_at <= horizon_end), F.lit(False))
    return frame.where(active).select(
        "customer_id", CUTOFF, label.cast("tinyint").alias(CHURN_LABEL), cutoff.alias("as_of")
    )


def example_features(
    session: SparkSession, tables: Mapping[str, DataFrame], catalogue: Catalogue, keys: DataFrame
) -> DataFrame:
    """`keys` (every column, `as_of` a timestamp), then each feature of `catalogue` as of its `as_of`.

    Numbers come out as float32 and texts as strings, the types of `write_training_set`'s file.
    """
    from pyspark.sql import functions as F

    micros = F.unix_micros(F.col("as_of"))
    row = F.concat_ws("@", F.col("customer_id").cast("string"), micros.cast("string"))
    spine = keys.select(
        row.alias("_row"), F.col("customer_id").cast("string").alias("customer_id"), micros.alias("as_of")
    ).distinct()
    features = spine_features(session, tables, catalogue, spine)
    numbers = {f.name for f in catalogue.features if f.dtype != "category"}
    typed = [
        F.col(_q(name)).cast("float" if name in numbers else "string").alias(name)
        for name in features.columns
        if name != "_row"
    ]
    return (
        keys.withColumn("_row", row)
        .join(features, "_row")
        .select(*[F.col(_q(c)) for c in keys.columns], *typed)
    )


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
