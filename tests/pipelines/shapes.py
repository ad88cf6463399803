"""Workspace shapes: a generated company cut down to what a real user might bring.

Each shape keeps a subset of the optional tables and of their optional columns, or makes the data
degenerate in one way (one timestamp for everything, a single customer, a metric with one class).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from features.contract import TABLES

Tables = dict[str, pd.DataFrame]
Shape = Callable[[Tables], Tables]
OPTIONAL_TABLES = tuple(name for name in TABLES if name not in ("customers", "text_scores"))
ONE_MOMENT = pd.Timestamp("2025-03-01T12:00:00Z")


def keep(tables: Tables, names: Iterable[str], drop: dict[str, list[str]] | None = None) -> Tables:
    """Only the tables `names` (customers always), without the columns `drop[table]`."""
    kept = {name: tables[name] for name in ("customers", *names) if name in tables}
    return {
        name: frame.drop(columns=(drop or {}).get(name, []), errors="ignore") for name, frame in kept.items()
    }


def optional_columns(table: str) -> list[str]:
    """The columns of `table` that the contract lets a workspace leave out."""
    return [c.name for c in TABLES[table].columns if not c.required]


def one_timestamp(tables: Tables) -> Tables:
    """Every timestamp of every table at one moment: an undated export."""
    return {
        name: frame.assign(**{c: ONE_MOMENT for c in frame.columns if _is_time(frame[c])})
        for name, frame in tables.items()
    }


def single_customer(tables: Tables) -> Tables:
    """The customer with the most survey answers, and only their rows."""
    chosen = tables["surveys"]["customer_id"].value_counts().index[0]
    mine = {
        name: frame[frame["customer_id"] == chosen].reset_index(drop=True) for name, frame in tables.items()
    }
    return {name: frame for name, frame in mine.items() if len(frame)}  # a table with no rows is left out


def one_class_metric(tables: Tables) -> Tables:
    """Only NPS answers, every one a 10: the negative side never occurs."""
    nps = tables["surveys"][tables["surveys"]["metric"] == "nps"].assign(score=10.0)
    return {**keep(tables, ["churn", "deliveries"]), "surveys": nps.reset_index(drop=True)}


NAMED_SHAPES: dict[str, Shape] = {
    "customers only": lambda t: keep(t, []),
    "customers and churn": lambda t: keep(t, ["churn"]),
    "surveys without comments, deliveries": lambda t: keep(
        t, ["surveys", "deliveries"], {"surveys": ["comment"]}
    ),
    "verbatims and surveys only": lambda t: keep(t, ["verbatims", "surveys"]),
    "deliveries without delivered_at": lambda t: keep(
        t, ["deliveries", "churn"], {"deliveries": ["delivered_at"]}
    ),
    "tickets without text": lambda t: keep(t, ["tickets", "surveys"], {"tickets": ["text"]}),
    "one timestamp for everything": one_timestamp,
    "a single customer": single_customer,
    "a metric with one class": one_class_metric,
}


def write_shape(tables: Tables, folder: Path) -> Path:
    """Write the tables as Parquet files of a new workspace folder."""
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def read_company(folder: Path) -> Tables:
    """A generated company's tables as written (ground truth excluded)."""
    return {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def _is_time(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values)
