"""Population drivers: which features push risk up for the most customers, and by how much.

Each scored customer carries their strongest reasons (`<model>_reasons`: JSON lists of a feature,
its sentence, value and push on the log-odds of the bad outcome). Summed over the base, the pushes
that raise risk say what drags the whole base down: a feature pushing a little for many customers
can matter more than one pushing hard for a few, so drivers rank by their push per customer of the
base (mean over everyone, zero where the feature was not among a customer's reasons).

A driver is a family of features: the same measure over its windows (`deliveries_days_late_sum_30d`,
`_90d`, `_all`) is one thing to fix, so a customer's pushes are summed over the family. Features of
past survey answers are left out: an earlier score is the customer's satisfaction itself, not a
cause the company can act on, and it would otherwise outrank every experience that shaped it. The
customer's own attributes (age band, plan, tenure) are left out too: they say who is less satisfied,
which the figures per segment show, not what made them so.

A category's level is a driver of its own (`deliveries_status_last=damaged`): a category pushes by
its value, and a last parcel damaged and one lost are different things to fix, which one family
`deliveries_status_last` would add up as one.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from models.reasons import LEVEL_MARK
from training.fitting import PAST_ANSWERS

TOP_DRIVERS = 10
# past answers (the outcome itself) and who the customer is (`customer_age_band`: a segment, shown as
# one, not something that happened to them); see the module's docstring
NOT_DRIVERS = (PAST_ANSWERS, "customer_")
_WINDOW = re.compile(r"_(?:\d+d|all)$")


def driver_family(feature: str, value: object = None) -> str | None:
    """The driver a feature belongs to: its name without the window; None for a past answer.

    Args:
        feature: the feature's name.
        value: the feature's value; a text value (a category's level) names a driver of its own.
    """
    if feature.startswith(NOT_DRIVERS):
        return None
    family = _WINDOW.sub("", feature)
    return f"{family}{LEVEL_MARK}{value}" if isinstance(value, str) else family


Hits = dict[str, tuple[NDArray[np.intp], NDArray[np.float64]]]  # driver -> (rows, summed pushes)


def reason_pushes(reasons: Iterable[Any]) -> Hits:
    """Driver → (customer rows, summed pushes) for every customer whose reasons raise risk through it."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for row, cell in enumerate(reasons):
        for reason in json.loads(cell) if isinstance(cell, str) else cell or []:
            family = driver_family(reason["feature"], reason.get("value"))
            if reason["log_odds"] > 0 and family is not None:
                out[family][row] = out[family].get(row, 0.0) + float(reason["log_odds"])
    return {
        family: (np.array(list(pushes), dtype=np.intp), np.array(list(pushes.values()), dtype=float))
        for family, pushes in out.items()
    }


def population_drivers(
    reasons: pd.Series, groups: pd.DataFrame, model: str, top: int = TOP_DRIVERS
) -> list[dict[str, object]]:
    """The `top` features that raise `model`'s risk most across the base, each with its reach per segment.

    Args:
        reasons: one cell per customer, a JSON list of reasons (as `cxpredict score` writes them).
        groups: segment-like columns, one row per customer in the same order.
        model: which risk the reasons explain (`nps`, `csat`, `churn` ...), named in each row.
        top: how many drivers to keep.
    """
    return drivers_of(reason_pushes(reasons), len(reasons), groups, model, top)


def drivers_of(
    hits: Hits, n: int, groups: pd.DataFrame, model: str, top: int = TOP_DRIVERS
) -> list[dict[str, object]]:
    """`population_drivers` of pushes summed per driver and customer (`reason_pushes`, `picked_pushes`).

    Args:
        hits: driver -> (rows, pushes), drivers in the order they first appear, rows ascending.
        n: the customers of the base.
        groups: segment-like columns, one row per customer.
        model: which risk the pushes explain, named in each row.
        top: how many drivers to keep.
    """
    rows = []
    labels = {column: groups[column].astype("string").fillna("") for column in groups.columns}
    sizes = {column: labels[column].value_counts() for column in groups.columns}  # once, not per driver
    for feature, (where, pushes) in hits.items():
        reach = {column: _shares(labels[column], where, sizes[column]) for column in groups.columns}
        rows.append(
            {
                "model": model,
                "feature": feature,
                "customers": len(where),
                "share": round(len(where) / n, 4),
                "mean_push": round(float(pushes.mean()), 4),
                "push_per_customer": round(float(pushes.sum()) / n, 5),
                "share_by": reach,
            }
        )
    rows.sort(key=lambda r: -float(str(r["push_per_customer"])))
    return rows[:top]


def _shares(labels: pd.Series, where: np.ndarray, size: pd.Series) -> dict[str, float]:
    """Per level, the share of its customers this driver reaches (`size`: each level's customers)."""
    hit = labels.iloc[where].value_counts()
    return {str(level): round(float(hit.get(level, 0)) / int(count), 4) for level, count in size.items()}


def picked_pushes(
    columns: NDArray[np.intp],
    pushes: NDArray[np.float64],
    features: Sequence[str],
    levels: Mapping[int, Sequence[object] | NDArray[Any] | pd.Series] | None = None,
) -> Hits:
    """`reason_pushes` of a predictor's picks left as numbers (`Picks`), without writing or reading JSON.

    The same sums in the same order: per customer, a driver's pushes are added slot by slot as the
    reasons list them, and each driver's customers come in row order.

    Args:
        columns: (rows, slots) positions in `features` of each row's picked features; -1 where none.
        pushes: the same shape, each pick's log-odds push; only those above 0 raise risk.
        features: the predictor's features, by position.
        levels: the categories' values, feature position -> one per row as the reasons give them;
            each text level is a driver of its own (`driver_family`).
    """
    names = [driver_family(name) for name in features]
    known = list(dict.fromkeys(name for name in names if name is not None))
    ids = np.array([-1 if name is None else known.index(name) for name in names] + [-1], dtype=np.intp)
    family = ids[columns]  # position -1 (no pick) reads the appended -1
    for position, values in (levels or {}).items():
        _by_level(family, columns == position, features[position], values, known)
    valid = (family >= 0) & (pushes > 0)
    width = columns.shape[1]
    if width == 0:
        return {}
    found_rows, found_family, found_push, found_at = [], [], [], []
    for slot in range(width):
        same = [valid[:, t] & (family[:, t] == family[:, slot]) for t in range(width)]
        first = valid[:, slot] & ~np.any(same[:slot], axis=0) if slot else valid[:, slot]
        total = np.where(valid[:, slot], pushes[:, slot], 0.0)
        for later in range(slot + 1, width):
            total = np.where(same[later], total + pushes[:, later], total)
        rows = np.flatnonzero(first)
        found_rows.append(rows)
        found_family.append(family[rows, slot])
        found_push.append(total[rows])
        found_at.append(rows * width + slot)
    joined = [np.concatenate(parts) for parts in (found_rows, found_family, found_push, found_at)]
    return _grouped(joined[0], joined[1], joined[2], joined[3], known)


def _by_level(
    family: NDArray[np.intp],
    picked: NDArray[np.bool_],
    feature: str,
    values: Sequence[object] | NDArray[Any] | pd.Series,
    known: list[str],
) -> None:
    """Where `picked` (a category's picks), `family` becomes its level's driver; new drivers join `known`."""
    plain = driver_family(feature)
    at = np.nonzero(picked)
    if plain is None or not len(at[0]):  # a past answer's category, or never picked
        return
    # only the picked rows' values: a category is among a few customers' strongest reasons
    if isinstance(values, pd.Series):
        picked_values = values.iloc[at[0]].to_numpy(dtype=object)
    else:
        picked_values = np.asarray(values, dtype=object)[at[0]]
    codes, found = pd.factorize(picked_values)  # a missing value's code: -1
    named = [driver_family(feature, value) or plain for value in found] + [plain]  # -1 reads the last
    for name in named:
        if name not in known:
            known.append(name)
    level_ids = np.array([known.index(name) for name in named], dtype=np.intp)
    family[at] = level_ids[codes]


def _grouped(
    rows: NDArray[np.intp],
    family: NDArray[np.intp],
    push: NDArray[np.float64],
    at: NDArray[np.intp],
    known: list[str],
) -> Hits:
    """Hits per driver, rows ascending, drivers in the order of their first pick (`at`: row-major place)."""
    if not len(family):  # no pick raises risk through a driver (every reason a past answer, say)
        return {}
    order = np.lexsort((rows, family))
    rows, family, push, at = rows[order], family[order], push[order], at[order]
    present, starts = np.unique(family, return_index=True)
    ends = [*starts[1:], len(family)]
    groups = [
        (int(at[a:b].min()), known[int(f)], a, b) for f, a, b in zip(present, starts, ends, strict=True)
    ]
    return {name: (rows[a:b], push[a:b]) for _, name, a, b in sorted(groups)}


def joined_hits(parts: Iterable[tuple[Hits, int]]) -> Hits:
    """The hits of consecutive row chunks (each with its first row's place) as one base's hits."""
    rows: dict[str, list[NDArray[np.intp]]] = {}
    pushes: dict[str, list[NDArray[np.float64]]] = {}
    for hits, offset in parts:
        for name, (where, push) in hits.items():
            rows.setdefault(name, []).append(where + offset)
            pushes.setdefault(name, []).append(push)
    return {name: (np.concatenate(rows[name]), np.concatenate(pushes[name])) for name in rows}
