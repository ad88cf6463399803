"""Which way every row goes at every split of a LightGBM booster, decided for all rows at once.

LightGBM's rules for missing values, zeros and categories (`Tree::NumericalDecision` and
`CategoricalDecision`) are kept exactly. Most splits compare a number with a threshold: each
feature's values are first replaced by their rank among the feature's thresholds (small integers,
one `searchsorted` per feature), so a split is one comparison of small integers and the rows of a
split lie side by side in memory. Categorical splits answer by one lookup in a (split, code) table;
the rare others (zero as missing, a threshold within LightGBM's zero) one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# LightGBM reads |x| <= this as zero (its dense rows drop such values), and as "missing" where a
# split treats zero as missing (`kZeroThreshold`, a float constant)
ZERO = float(np.float32(1e-35))
# splits x rows decided at once: the temporaries stay within the processor's cache
CELLS_PER_CHUNK = 1 << 19
FEW = 64
FloatArray = NDArray[np.float64]
Split = tuple[int, float, int, bool, NDArray[np.bool_] | None]


def tree_splits(ints: dict[str, list[int]], thresholds: list[str]) -> Iterator[Split]:
    """Each split of a tree: feature, threshold, missing type, default left, codes going left.

    The codes are those of a categorical split (its threshold indexes the tree's bitsets), else None.
    """
    bounds, words = ints["cat_boundaries"], ints["cat_threshold"]
    for f, text, d in zip(ints["split_feature"], thresholds, ints["decision_type"], strict=True):
        value, lookup = float(text), None
        if d & 1:
            bits = np.array(words[bounds[int(value)] : bounds[int(value) + 1]], dtype=np.uint32)
            lookup = np.unpackbits(bits.view(np.uint8), bitorder="little") == 1
        yield f, value, (d >> 2) & 3, bool(d & 2), lookup


@dataclass(frozen=True)
class RankedSplits:
    """The plain numerical splits: `rank of the value <= position of the threshold` (ranks from 1).

    Each ranked feature has two rows of ranks: in the first NaN ranks above every threshold (it goes
    right), in the second below them all (it goes left); a split reads the row of its NaN direction.
    Padding and the other splits read row 0 against position 0, which never holds.
    """

    bounds: list[FloatArray]  # per ranked feature, its sorted distinct thresholds
    features: NDArray[np.intp]  # per ranked feature, its column
    row: NDArray[np.intp]  # per split, its row of ranks
    position: NDArray[np.uint16]  # per split, 1 + its threshold's position in the feature's bounds
    threshold: FloatArray  # per split, its threshold (NaN where not ranked: nothing is <= NaN)

    def went_left(self, columns: FloatArray) -> NDArray[np.bool_]:
        """(splits, rows) answers of the ranked splits, by comparing values (cheaper for a few rows)."""
        values = columns[self.features[self.row % len(self.features)]]
        left = values <= self.threshold[:, None]
        left |= np.isnan(values) & (self.row >= len(self.features))[:, None]
        return left

    def ranks(self, columns: FloatArray) -> NDArray[np.uint16]:
        """(2 x ranked features, rows): 1 + how many of the feature's thresholds lie below each value."""
        k = len(self.bounds)
        out = np.empty((2 * k, columns.shape[1]), dtype=np.uint16)
        for i, (bounds, f) in enumerate(zip(self.bounds, self.features.tolist(), strict=True)):
            out[i] = np.searchsorted(bounds, columns[f], side="left") + 1
        np.multiply(out[:k], ~np.isnan(columns[self.features]), out=out[k:])
        return out


@dataclass(frozen=True)
class TreeSplits:
    """Every split of every tree that has any, `width` per tree: split i of a tree is bit i.

    Trees with fewer splits than `width` are padded with splits that never go left.
    """

    ranked: RankedSplits
    special: dict[int, tuple[int, float, int, bool]]  # split -> feature, threshold, missing, default
    categorical: NDArray[np.intp]  # the categorical splits
    categorical_features: NDArray[np.intp]  # the columns categorical splits read
    categorical_row: NDArray[np.intp]  # per categorical split, its feature's row of codes
    lookup: NDArray[np.bool_]  # (categorical split, code): whether the code goes left; last never
    width: int
    trees: NDArray[np.intp]  # positions of the trees that have splits
    # the ranks of a (rows, features) matrix for `ranked`, when shared with other boosters
    ranks_of: Callable[[FloatArray], NDArray[np.uint16]] | None = None

    @classmethod
    def of(cls, trees: list[list[Split]], width: int) -> TreeSplits:
        """The splits of each tree (from `tree_splits`), `width` columns per tree."""
        padded: list[Split | None] = []
        for splits in trees:
            padded += [*splits, *[None] * (width - len(splits))] if splits else []
        kinds = [_kind(s) for s in padded]
        categorical = [i for i, k in enumerate(kinds) if k == "categorical"]
        special = {i: s[:4] for i, s in enumerate(padded) if s is not None and _kind(s) == "special"}
        lookups = [s[4] for s in padded if s is not None and s[4] is not None]
        read = [s[0] for s in padded if s is not None and s[4] is not None]
        features = sorted(set(read))
        return cls(
            ranked_splits(padded, kinds),
            special,
            np.array(categorical, dtype=np.intp),
            np.array(features, dtype=np.intp),
            np.array([features.index(f) for f in read], dtype=np.intp),
            _table(lookups),
            width,
            np.array([t for t, splits in enumerate(trees) if splits], dtype=np.intp),
        )

    def went_left(
        self, columns: FloatArray, ranks: NDArray[np.uint16] | None, codes: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """(splits, rows): whether each row (a column of `columns`) goes left at each split.

        `ranks` and `codes` are the same rows' `ranked.ranks` (None: compare the values themselves)
        and `category_codes`.
        """
        ranked = self.ranked
        if not len(ranked.bounds):
            left = np.zeros((len(ranked.row), columns.shape[1]), dtype=bool)
        elif ranks is None:
            left = ranked.went_left(columns)
        else:
            left = ranks[ranked.row] <= ranked.position[:, None]
        if len(self.categorical):
            left[self.categorical] = self.lookup[self._categorical_rows, codes[self.categorical_row]]
        for s, split in self.special.items():
            left[s] = _special_left(columns[split[0]], *split[1:])
        return left

    @property
    def _categorical_rows(self) -> NDArray[np.intp]:
        return np.arange(len(self.categorical))[:, None]

    def category_codes(self, columns: FloatArray) -> NDArray[np.intp]:
        """(categorical features, rows): each code as a column of `lookup` (its last: goes right).

        LightGBM casts a code to int (toward zero): NaN, negative and unseen codes go right.
        """
        values = columns[self.categorical_features]
        never = self.lookup.shape[1] - 1
        inside = (values > -1) & (values < never)
        return np.where(inside, np.where(inside, values, 0).astype(np.intp), never)

    def patterns(self, matrix: FloatArray, trees: int) -> NDArray[np.uint8]:
        """(trees, rows): each row's pattern per tree (bit i set: it went left at split i)."""
        out = np.zeros((trees, len(matrix)), dtype=np.uint8)
        if not len(self.trees):
            return out
        columns = matrix.T  # (features, rows): a feature's values side by side
        # ranking costs one search per feature: below FEW rows, comparing the values is cheaper
        ranks = None
        if len(matrix) >= FEW:
            ranks = self.ranks_of(matrix) if self.ranks_of is not None else self.ranked.ranks(columns)
        codes = self.category_codes(columns)
        step = max(64, CELLS_PER_CHUNK // len(self.ranked.row))
        for start in range(0, len(matrix), step):
            window = slice(start, start + step)
            some = None if ranks is None else ranks[:, window]
            left = self.went_left(columns[:, window], some, codes[:, window]).view(np.uint8)
            bits = left.reshape(len(self.trees), self.width, -1)
            pattern = bits[:, 0].copy()
            for i in range(1, self.width):
                pattern |= bits[:, i] << i
            out[self.trees, window] = pattern
        return out


def _kind(split: Split | None) -> str:
    if split is None:
        return "padding"
    if split[4] is not None:
        return "categorical"
    value, missing = split[1], split[2]
    return "special" if missing == 1 or -ZERO <= value < ZERO else "ranked"


def ranked_splits(padded: list[Split | None], kinds: list[str]) -> RankedSplits:
    """The ranks and positions of the plain numerical splits among `padded`."""
    chosen = [(i, s) for i, (s, k) in enumerate(zip(padded, kinds, strict=True)) if s and k == "ranked"]
    features = sorted({s[0] for _, s in chosen})
    bounds = [np.unique([s[1] for _, s in chosen if s[0] == f]) for f in features]
    row = np.zeros(len(padded), dtype=np.intp)
    position = np.zeros(len(padded), dtype=np.uint16)
    threshold = np.full(len(padded), np.nan)
    for i, split in chosen:
        f, value, missing, default_left = split[:4]
        k = features.index(f)
        # a missing value is zero unless the split treats NaN as missing
        nan_left = default_left if missing == 2 else value >= 0.0
        row[i], position[i] = k + len(features) * nan_left, np.searchsorted(bounds[k], value) + 1
        threshold[i] = value
    if max((len(b) for b in bounds), default=0) >= np.iinfo(np.uint16).max:
        raise ValueError("a feature has more distinct split thresholds than 16-bit ranks can hold")
    return RankedSplits(bounds, np.array(features, dtype=np.intp), row, position, threshold)


def _table(lookups: list[NDArray[np.bool_]]) -> NDArray[np.bool_]:
    """The categorical splits' codes going left as one (split, code) table, padded with False."""
    table = np.zeros((len(lookups), max((len(x) for x in lookups), default=0) + 1), dtype=bool)
    for k, lookup in enumerate(lookups):
        table[k, : len(lookup)] = lookup
    return table


def _special_left(
    values: FloatArray, threshold: float, missing: int, default_left: bool
) -> NDArray[np.bool_]:
    """A numerical split's answers by LightGBM's rules in full (`Tree::NumericalDecision`)."""
    nan = np.isnan(values)
    values = np.where(np.abs(values) <= ZERO, 0.0, values)  # LightGBM's dense rows drop such values
    if missing != 2:
        values = np.where(nan, 0.0, values)
    default = (nan & (missing == 2)) | ((values == 0.0) & (missing == 1))
    return np.where(default, default_left, values <= threshold)
