"""Feature ranks computed once per batch for several boosters that read the same rows.

A booster's table lookup (`models.tree_tables`) first replaces each feature's values by their rank
among the thresholds its trees split on: one binary search per feature and row, the largest part
of a batch's cost after the lookup itself. A satisfaction predictor runs up to seven boosters on
the same encoded rows. Ranked once against the union of their thresholds, the ranks serve them
all; each booster's splits then compare with their threshold's position in that union, which
gives the same answers (a value lies at or below a threshold exactly when its rank among the
union's thresholds is at most the threshold's position there).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from models.tree_splits import FloatArray, RankedSplits

Ranks = NDArray[np.uint16]


class SharedRanks:
    """The ranks of one batch's feature columns against the thresholds of several boosters.

    Thread-safe: boosters scored on threads of their own wait for the first one's ranks. The
    ranks of a batch are kept while its matrix lives, and dropped with it.

    Args:
        parts: the ranked splits of each booster, all reading the same matrix columns.
    """

    def __init__(self, parts: Sequence[RankedSplits]) -> None:
        features = sorted({int(f) for part in parts for f in part.features.tolist()})
        thresholds: dict[int, list[FloatArray]] = {f: [] for f in features}
        for part in parts:
            for f, b in zip(part.features.tolist(), part.bounds, strict=True):
                thresholds[f].append(b)
        bounds = [np.unique(np.concatenate(thresholds[f])) for f in features]
        nothing = np.zeros(0, dtype=np.intp)
        self.space = RankedSplits(
            bounds, np.array(features, dtype=np.intp), nothing, nothing.astype(np.uint16), np.zeros(0)
        )
        if max((len(b) for b in bounds), default=0) >= np.iinfo(np.uint16).max:
            raise ValueError("a feature has more distinct split thresholds than 16-bit ranks can hold")
        self._lock = threading.Lock()
        self._matrix: weakref.ref[FloatArray] | None = None
        self._ranks: Ranks | None = None

    def rebase(self, ranked: RankedSplits) -> RankedSplits:
        """`ranked`'s splits as rows and threshold positions of these shared ranks."""
        old, new = len(ranked.features), len(self.space.features)
        where = {f: k for k, f in enumerate(self.space.features.tolist())}
        row, position = np.zeros_like(ranked.row), np.zeros_like(ranked.position)
        for i in np.flatnonzero(~np.isnan(ranked.threshold)).tolist():  # NaN: not a ranked split
            k = where[int(ranked.features[ranked.row[i] % old])]
            row[i] = k + new * int(ranked.row[i] >= old)  # the row where NaN goes the split's way
            position[i] = np.searchsorted(self.space.bounds[k], ranked.threshold[i]) + 1
        return RankedSplits(self.space.bounds, self.space.features, row, position, ranked.threshold)

    def ranks(self, matrix: FloatArray) -> Ranks:
        """The ranks of `matrix` (rows, features), computed on its first call and reused after."""
        with self._lock:
            if self._ranks is None or self._matrix is None or self._matrix() is not matrix:
                self._ranks = self.space.ranks(matrix.T)
                self._matrix = weakref.ref(matrix, self._forget)
            return self._ranks

    def _forget(self, dead: weakref.ref[FloatArray]) -> None:
        """Drop a batch's ranks when its matrix is freed (they can be tens of megabytes)."""
        if self._matrix is dead:
            self._ranks = self._matrix = None
