"""Reason codes: the features that push one prediction's risk up and down, in plain words.

Sizes are SHAP contributions from LightGBM (`pred_contrib=True`) on the trees' log-odds, before
calibration: they add up exactly to the raw score, which a calibrated probability cannot promise.
A contribution of +0.7 log-odds roughly doubles the odds of the bad outcome.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray


@dataclass(frozen=True)
class Reason:
    """One feature's push on one prediction.

    Attributes:
        log_odds: the feature's contribution to the log-odds of the bad outcome; positive raises risk.
    """

    feature: str
    sentence: str
    value: float | str | None
    log_odds: float

    @property
    def raises_risk(self) -> bool:
        """Whether this feature pushes the risk up."""
        return self.log_odds > 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


# A description that names a measure reads with its value after it ("latest csat score: 1"), even
# when the value is whole: "1 latest csat score" would read as a count. So does a customer attribute:
# "customer's age: 42", never "42 customer's age".
MEASURE_WORDS = ("latest ", "average ", "total ", "largest ", "smallest ", "share ", "customer's ")


# between a category feature and one of its levels, where a level stands alone (a driver
# `deliveries_status_last=damaged`); the catalogue's names are slugs of a-z, 0-9 and _, never holding it
LEVEL_MARK = "="


def describe(description: str, value: Any) -> str:
    """A sentence for a feature's value, built from the catalogue's one-line description.

    A description may place the value itself with `{value}`; otherwise a whole number leads a
    count-like description ("3 late deliveries in the last 30 days") and any other value follows
    it ("subscription plan: basic").
    """
    text = _format_value(value)
    if "{value}" in description:
        return description.replace("{value}", text)
    whole = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
    if whole and not description.startswith(MEASURE_WORDS):
        return f"{text} {description}"
    return f"{description}: {text}"


def _format_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def top_reasons(
    contributions: pd.DataFrame,
    features: pd.DataFrame,
    descriptions: Mapping[str, str],
    top: int = 3,
) -> list[list[Reason]]:
    """Per row, up to `top` features raising the risk and up to `top` lowering it, largest first.

    Args:
        contributions: per row and feature the log-odds push (a `bias` column is ignored).
        features: the same rows' feature values, for the sentences.
        descriptions: feature -> one-line description; the name stands in when one is missing.
        top: how many reasons of each direction to keep.
    """
    columns = [str(c) for c in contributions.columns if c != "bias"]
    pushes = contributions[columns].to_numpy(dtype=float)
    return strongest_reasons(pushes, columns, features[columns].astype(object).to_numpy(), descriptions, top)


def strongest_reasons(
    pushes: NDArray[np.float64],
    columns: Sequence[str],
    values: NDArray[np.object_],
    descriptions: Mapping[str, str],
    top: int = 3,
) -> list[list[Reason]]:
    """`top_reasons` of plain arrays: pushes and values are (rows, columns), in `columns` order."""
    strongest_up = np.argsort(-pushes, axis=1, kind="stable")[:, :top]
    strongest_down = np.argsort(pushes, axis=1, kind="stable")[:, :top]
    result = []
    for i in range(len(pushes)):
        chosen = [j for j in strongest_up[i] if pushes[i, j] > 0] + [
            j for j in strongest_down[i] if pushes[i, j] < 0
        ]
        result.append([_reason(columns[j], values[i, j], pushes[i, j], descriptions) for j in chosen])
    return result


def _reason(feature: str, value: Any, push: float, descriptions: Mapping[str, str]) -> Reason:
    plain = None if pd.isna(value) else (value.item() if hasattr(value, "item") else value)
    return Reason(feature, describe(descriptions.get(feature, feature), plain), plain, float(push))


@dataclass(frozen=True)
class Picks:
    """The strongest pushes of each row, up to `top` per direction.

    Those raising the risk come first (largest first), then those lowering it (most negative first).

    Attributes:
        columns: (rows, 2 * top) feature positions; -1 where a row has fewer reasons.
        pushes: the same shape, each picked feature's log-odds push.
    """

    columns: NDArray[np.intp]
    pushes: NDArray[np.float64]


def pick_strongest(pushes: NDArray[np.float64], columns: NDArray[np.intp], top: int = 3) -> Picks:
    """The `Picks` of a (rows, k) push matrix whose column c is feature position `columns[c]`.

    Ties in size go to the earlier column. Each pick is one `argmax` over every row at once: for a
    handful of reasons that is cheaper than partitioning or sorting each row.
    """
    n, width = pushes.shape
    every = np.arange(n)
    picked, sizes = [], []
    for sign in (1.0, -1.0):
        signed = sign * pushes  # a copy: picked entries are struck out below
        for _ in range(min(top, width)):
            best = np.argmax(signed, axis=1)
            size = signed[every, best]
            kept = size > 0
            picked.append(np.where(kept, columns[best], -1))
            sizes.append(np.where(kept, sign * size, 0.0))
            signed[every, best] = -np.inf
    if not picked:
        return Picks(np.full((n, 0), -1, dtype=np.intp), np.zeros((n, 0)))
    return Picks(np.column_stack(picked), np.column_stack(sizes))


ValuesAt = Callable[[NDArray[np.intp], int], list[Any]]  # (rows, feature position) -> values as given


class DistinctAt(Protocol):
    """Rows that can give a feature's values, or its distinct values, at some rows (`EncodedRows`)."""

    def values_at(self, rows: NDArray[np.intp], column: int) -> list[Any]:
        """The values as given, one per row."""
        ...

    def distinct_at(self, rows: NDArray[np.intp], column: int) -> tuple[list[Any], NDArray[np.intp]]:
        """(distinct values as given, each row's position among them)."""
        ...


class ReasonWriter:
    """Reasons of many rows at once: each (feature, value) sentence is built once and reused.

    Args:
        features: the feature names, by position.
        descriptions: feature -> one-line description; the name stands in when one is missing.
    """

    # cached sentences kept at most; values of a continuous feature would otherwise grow it forever
    CACHE_SIZE = 200_000

    def __init__(self, features: Sequence[str], descriptions: Mapping[str, str]) -> None:
        self.features = list(features)
        self.descriptions = dict(descriptions)
        self._prefixes: dict[tuple[int, type, Any], str] = {}

    def reasons(self, picks: Picks, values_at: ValuesAt) -> list[list[Reason]]:
        """Per row, its picks as `Reason`s."""
        rows, slots, values = self._flat(picks, values_at)
        result: list[list[Reason]] = [[] for _ in range(len(picks.columns))]
        for i, s, value in zip(rows.tolist(), slots.tolist(), values, strict=True):
            name = self.features[picks.columns[i, s]]
            sentence = describe(self.descriptions.get(name, name), value)
            result[i].append(Reason(name, sentence, value, float(picks.pushes[i, s])))
        return result

    def json(self, picks: Picks, rows: DistinctAt) -> pa.StringArray:
        """Per row, its picks as the JSON list of `Reason.to_dict()` forms (what `json.dumps` writes).

        Each distinct (feature, value) is written once, in Python; the rows' lists are joined by
        Arrow's string kernels, so a batch costs a few passes over its picks, not a loop per reason.
        """
        kept = picks.columns >= 0
        at_row, slot = np.nonzero(kept)
        columns = picks.columns[at_row, slot]
        prefix = np.empty(len(columns), dtype=np.intp)
        table: list[str] = []
        order = np.argsort(columns, kind="stable")
        features, starts = np.unique(columns[order], return_index=True)
        groups = np.split(order, starts[1:]) if len(starts) else []
        for column, at in zip(features.tolist(), groups, strict=True):
            distinct, inverse = rows.distinct_at(at_row[at], column)
            ids = np.array([self._prefix_index(column, v, table) for v in distinct], dtype=np.intp)
            prefix[at] = ids[inverse]
        pushes = pa.array(picks.pushes[at_row, slot]).cast(pa.string())
        entries = pc.binary_join_element_wise(pa.array(table, pa.string()).take(prefix), pushes, "}", "")
        offsets = np.concatenate([[0], np.cumsum(kept.sum(axis=1))]).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), entries)
        return pc.binary_join_element_wise("[", pc.binary_join(lists, ", "), "]", "")

    def json_texts(self, picks: Picks, rows: DistinctAt) -> list[str]:
        """`json` as Python strings, written reason by reason (a push as `json.dumps` writes a float).

        For a few rows: Arrow's cost per call outweighs its kernels' speed there.
        """
        out = []
        for i, (columns, pushes) in enumerate(
            zip(picks.columns.tolist(), picks.pushes.tolist(), strict=True)
        ):
            entries = []
            for column, push in zip(columns, pushes, strict=True):
                if column >= 0:
                    value = rows.values_at(np.array([i], dtype=np.intp), column)[0]
                    prefix = self._prefixes.get((column, value.__class__, value))
                    entries.append(f"{prefix or self._prefix(column, value)}{push!r}}}")
            out.append(f"[{', '.join(entries)}]")
        return out

    def _prefix_index(self, column: int, value: Any, table: list[str]) -> int:
        """The position in `table` of the JSON of one reason up to its push, appended when new."""
        # the type is part of the key: 1 and 1.0 are equal but write different JSON
        prefix = self._prefixes.get((column, value.__class__, value))
        table.append(self._prefix(column, value) if prefix is None else prefix)
        return len(table) - 1

    def _prefix(self, column: int, value: Any) -> str:
        name = self.features[column]
        sentence = describe(self.descriptions.get(name, name), value)
        text = json.dumps({"feature": name, "sentence": sentence, "value": value})
        prefix = f'{text[:-1]}, "log_odds": '
        if len(self._prefixes) >= self.CACHE_SIZE:
            self._prefixes.clear()
        self._prefixes[(column, value.__class__, value)] = prefix
        return prefix

    @staticmethod
    def _flat(picks: Picks, values_at: ValuesAt) -> tuple[NDArray[np.intp], NDArray[np.intp], list[Any]]:
        """Row and slot of every pick in row order, and the picked feature's value as given."""
        rows, slots = np.nonzero(picks.columns >= 0)
        picked = picks.columns[rows, slots]
        values: list[Any] = [None] * len(rows)
        for column in np.unique(picked).tolist():
            at = np.flatnonzero(picked == column)
            for k, value in zip(at.tolist(), values_at(rows[at], column), strict=True):
                values[k] = value
        return rows, slots, values
