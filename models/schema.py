"""The feature columns a model expects, and how a raw frame is cast into them.

The same cast runs at training and at serving time, so a category level or a column order
can never differ between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


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


def _as_floats(block: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers as float64 (missing as NaN); text that is not a number becomes NaN, as `to_numeric` says."""
    try:
        return block.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
