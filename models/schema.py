"""The feature columns a model expects, and how a raw frame is cast into them.

The same cast runs at training and at serving time, so a category level or a column order
can never differ between the two. `encode` gives the boosters' own input form (a float matrix with
category codes), computed once per call and shared by every booster that reads the same schema:
LightGBM would otherwise convert a pandas frame on each of its `predict` calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

# up to this many rows, categories are read cell by cell instead of column by column
FEW_ROWS = 8


@dataclass(frozen=True)
class FeatureSchema:
    """Ordered feature names and the levels of the categorical ones.

    Attributes:
        features: the model's columns, in the order the boosters were trained on.
        categories: for each categorical feature, its levels as seen in training; a level not in
            this list is treated as missing.
    """

    features: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, features: Sequence[str]) -> FeatureSchema:
        """Learn the schema of `features` in a training frame (categoricals have `category` dtype)."""
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise KeyError(f"training frame lacks feature columns {missing}")
        categories = {
            f: tuple(str(level) for level in frame[f].cat.categories)
            for f in features
            if isinstance(frame[f].dtype, pd.CategoricalDtype)
        }
        return cls(tuple(features), categories)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input: feature columns in order, numbers as float, categories at their levels.

        Raises:
            KeyError: naming every feature column the frame lacks.
        """
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise KeyError(f"input lacks feature columns {missing}")
        numeric = [f for f in self.features if f not in self.categories]
        # one conversion of the whole numeric block: column by column costs ~0.5 ms per model call
        out = pd.DataFrame(_as_floats(frame[numeric]), columns=numeric, index=frame.index)
        for name in self.categories:
            out[name] = self._cast(name, frame[name])
        return out[list(self.features)]

    def encode(self, rows: pd.DataFrame | EncodedRows) -> EncodedRows:
        """The boosters' input: what `prepare` gives, as one float matrix with category codes.

        Built straight from the frame's columns (no cast frame in between): a category column is
        recoded through its levels once, not value by value. Rows encoded for this schema already
        are returned as they are; rows encoded for another are encoded again from their values.

        Raises:
            KeyError: naming every feature column a frame lacks.
        """
        if isinstance(rows, EncodedRows):
            if rows.schema is self or rows.schema == self:
                return rows
            return self.encode(pd.DataFrame(rows.values, columns=rows.schema.features))
        plan = self._plan(rows.columns)
        # column-major: each feature's values lie together, as the trees read them one split at a time
        matrix = np.empty((len(rows), len(self.features)), dtype="float64", order="F")
        if len(plan.numeric_at):
            block = _as_floats(rows.iloc[:, plan.numeric_at])
            for start, stop, offset in plan.runs:
                matrix[:, start:stop] = block[:, offset : offset + stop - start]
        given: dict[int, Sequence[Any] | pd.Series] = {}
        for j, at in plan.categorical:
            if len(rows) <= FEW_ROWS:  # a Series per column costs more than reading its few cells
                cells = [_missing_as_none(rows.iat[i, at]) for i in range(len(rows))]
                matrix[:, j] = [self._code(self.features[j], v) for v in cells]
                given[j] = cells
            else:
                column = rows.iloc[:, at]
                matrix[:, j] = level_codes(column, self._levels(self.features[j]))
                given[j] = column
        return EncodedRows(self, matrix, given)

    def _code(self, name: str, value: Any) -> float:
        """One value's level code as `level_codes` gives it (NaN when missing or unknown)."""
        codes: dict[str, dict[str, float]] = self.__dict__.setdefault("_level_codes", {})
        if name not in codes:
            codes[name] = {level: float(i) for i, level in enumerate(self.categories[name])}
        return math.nan if value is None else codes[name].get(str(value), math.nan)

    def _plan(self, columns: pd.Index) -> _Plan:
        """Where each feature is in a frame of these columns (kept per column layout).

        Raises:
            KeyError: naming every feature column the frame lacks.
        """
        plans: dict[tuple[Any, ...], _Plan] = self.__dict__.setdefault("_plans", {})
        key = tuple(columns.tolist())  # far faster than iterating an Arrow-backed index
        plan = plans.get(key)
        if plan is None:
            if len(plans) > 32:
                plans.clear()
            plan = plans[key] = _Plan.of(self, key)
        return plan

    def _levels(self, name: str) -> pd.Index:
        """A categorical feature's levels as an index (built once per schema and feature)."""
        cache: dict[str, pd.Index] = self.__dict__.setdefault("_level_index", {})
        if name not in cache:
            cache[name] = pd.Index(list(self.categories[name]), dtype=object)
        return cache[name]

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> EncodedRows:
        """`encode` of plain rows (feature -> value; a feature a row lacks is missing), without pandas.

        Values are cast as `prepare` casts them: numbers to float (text that is not a number is
        missing), categories to the text of their level (a level not seen in training is missing).
        """
        levels = {name: {level: float(i) for i, level in enumerate(v)} for name, v in self.categories.items()}
        matrix = np.empty((len(records), len(self.features)), dtype="float64")
        given: dict[int, list[Any]] = {j: [] for j, f in enumerate(self.features) if f in levels}
        for i, record in enumerate(records):
            for j, name in enumerate(self.features):
                value = _missing_as_none(record.get(name))
                codes = levels.get(name)
                if codes is None:
                    matrix[i, j] = _float(value)
                else:
                    given[j].append(value)
                    matrix[i, j] = math.nan if value is None else codes.get(str(value), math.nan)
        return EncodedRows(self, matrix, given)

    def _cast(self, name: str, values: pd.Series) -> pd.Series:
        if name in self.categories:
            text = values.astype(object).where(values.notna(), None)
            text = text.map(lambda v: None if v is None else str(v))
            return pd.Series(pd.Categorical(text, categories=list(self.categories[name])), index=values.index)
        return pd.to_numeric(values, errors="coerce").astype("float64")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the schema."""
        return {
            "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        """The schema written by `to_dict`."""
        categories = {k: tuple(v) for k, v in data["categories"].items()}
        return cls(tuple(data["features"]), categories)


@dataclass(frozen=True)
class _Plan:
    """Where a schema's features sit in a frame of given columns.

    Attributes:
        numeric_at: frame positions of the numeric features, in feature order.
        runs: (start, stop, offset): features start:stop are numeric block columns from offset on.
        categorical: (feature position, frame position) of each categorical feature.
    """

    numeric_at: NDArray[np.intp]
    runs: tuple[tuple[int, int, int], ...]
    categorical: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, schema: FeatureSchema, columns: Sequence[Any]) -> _Plan:
        where: dict[Any, int] = {}
        for i, name in enumerate(columns):
            where.setdefault(name, i)  # a repeated column reads as its first
        missing = [f for f in schema.features if f not in where]
        if missing:
            raise KeyError(f"input lacks feature columns {missing}")
        numeric = [j for j, f in enumerate(schema.features) if f not in schema.categories]
        runs: list[tuple[int, int, int]] = []
        for offset, j in enumerate(numeric):
            if runs and runs[-1][1] == j:
                runs[-1] = (runs[-1][0], j + 1, runs[-1][2])
            else:
                runs.append((j, j + 1, offset))
        categorical = tuple((j, where[f]) for j, f in enumerate(schema.features) if f in schema.categories)
        at = np.array([where[schema.features[j]] for j in numeric], dtype=np.intp)
        return cls(at, tuple(runs), categorical)


@dataclass(frozen=True)
class EncodedRows:
    """Feature rows in the form boosters read, and the categories as given, for the reasons' sentences.

    Attributes:
        schema: the schema they were encoded for (its features are the columns, in order).
        matrix: (rows, features) floats; a categorical holds its level's code, NaN when missing or
            unknown (LightGBM's own encoding of a pandas `category` column).
        given: for each categorical column (by position), its values as given, one per row: a
            level never seen in training still reads as what the caller sent.
    """

    schema: FeatureSchema
    matrix: NDArray[np.float64]
    given: Mapping[int, Sequence[Any] | pd.Series]

    def __len__(self) -> int:
        return len(self.matrix)

    def values_at(self, rows: NDArray[np.intp], column: int) -> list[Any]:
        """The values of one feature column at `rows` as given (None where missing).

        A number reads as the float it was cast to; a category as the caller sent it.
        """
        if column not in self.given:
            return [None if v != v else v for v in self.matrix[rows, column].tolist()]
        source = self.given[column]
        picked = source.iloc[rows] if isinstance(source, pd.Series) else [source[i] for i in rows.tolist()]
        return [_plain(v) for v in picked]

    def distinct_at(self, rows: NDArray[np.intp], column: int) -> tuple[list[Any], NDArray[np.intp]]:
        """`values_at` as its distinct values and, per row, the position of its value among them.

        Distinct numbers are found in numpy and distinct categories by pandas' hashing, so a
        sentence is written once per distinct value, not once per row.
        """
        if column not in self.given:
            numbers, inverse = np.unique(self.matrix[rows, column], return_inverse=True)
            return [None if v != v else v for v in numbers.tolist()], inverse.reshape(-1)
        source = self.given[column]
        picked = (
            source.iloc[rows].to_numpy(dtype=object)
            if isinstance(source, pd.Series)
            else np.array([source[i] for i in rows.tolist()] + [None], dtype=object)[:-1]
        )
        codes, uniques = pd.factorize(picked, use_na_sentinel=True)
        distinct = [_plain(v) for v in uniques.tolist()]
        if (codes < 0).any():  # missing values: one more distinct value, None
            codes = np.where(codes < 0, len(distinct), codes)
            distinct.append(None)
        return distinct, codes.astype(np.intp)

    @property
    def values(self) -> NDArray[np.object_]:
        """(rows, features) of every value as given, None where missing (see `values_at`)."""
        everything = np.arange(len(self.matrix))
        columns = [self.values_at(everything, j) for j in range(self.matrix.shape[1])]
        out = np.empty(self.matrix.shape, dtype=object)
        for j, column in enumerate(columns):
            out[:, j] = column
        return out


def level_codes(column: pd.Series, levels: pd.Index) -> NDArray[np.float64]:
    """Each value's position in `levels` as a float; NaN where missing or not one of `levels`.

    A value matches a level when its text (`str`) does. A `category` column is recoded through its
    own categories, so the work grows with its levels, not its rows; the recoding of a dtype is
    kept, as the rows of one file (or one row taken from it) share theirs.
    """
    index = levels
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = _category_map(column.dtype, index)[column.cat.codes.to_numpy()]
    elif pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(column.dtype):
        codes = index.get_indexer(pd.Index(column.to_numpy(dtype=object), dtype=object))  # missing: -1
    else:
        text = [None if v is None else str(v) for v in map(_missing_as_none, column.tolist())]
        codes = index.get_indexer(pd.Index(text, dtype=object))
    result = codes.astype("float64")
    result[codes < 0] = np.nan
    return result


_CATEGORY_MAPS: dict[tuple[int, int], tuple[pd.CategoricalDtype, pd.Index, NDArray[np.intp]]] = {}


def _category_map(dtype: pd.CategoricalDtype, levels: pd.Index) -> NDArray[np.intp]:
    """Position in `levels` of each of the dtype's categories, and -1 last (for a missing code -1)."""
    key = (id(dtype), id(levels))
    hit = _CATEGORY_MAPS.get(key)
    if hit is not None and hit[0] is dtype and hit[1] is levels:
        return hit[2]
    text = pd.Index([str(c) for c in dtype.categories], dtype=object)
    mapping = np.append(levels.get_indexer(text), -1)
    if len(_CATEGORY_MAPS) > 1000:
        _CATEGORY_MAPS.clear()
    _CATEGORY_MAPS[key] = (dtype, levels, mapping)  # the dtype is kept, so its id is not reused
    return mapping


def _plain(value: Any) -> Any:
    """A given value for a sentence: None when missing, a numpy scalar as its Python value."""
    value = _missing_as_none(value)
    return value.item() if hasattr(value, "item") else value


def _as_floats(block: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers as float64 (missing as NaN); text that is not a number becomes NaN, as `to_numeric` says."""
    try:
        return block.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _codes(column: pd.Series) -> NDArray[np.float64]:
    codes = column.cat.codes.to_numpy().astype("float64")
    codes[codes < 0] = np.nan
    return codes


def _missing_as_none(value: Any) -> Any:
    """None for every spelling of missing a row may hold (None, NaN, pandas' NA and NaT)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return None if value is pd.NA or value is pd.NaT else value


def _float(value: Any) -> float:
    """A number as float; missing, or text that is not a number, as NaN (as `pd.to_numeric` coerces)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
