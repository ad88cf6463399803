"""Exact SHAP values of a LightGBM booster read from per-tree tables instead of computed per row.

A tree's SHAP values for a row depend only on which way the row goes at each of the tree's splits,
on its path and off it. A tree of k splits has at most 2^k such patterns: 64 for the project's
7-leaf trees. Every split of every tree is asked of all rows at once, in numpy, with LightGBM's own
rules for missing values, zeros and categories (`Tree::NumericalDecision` and
`CategoricalDecision`), and a row's answers in one tree make its pattern. Per tree and pattern, the
SHAP values and the leaf value are filled once from LightGBM's own `pred_contrib` on a row that
showed the pattern, so every later row is a table lookup: TreeSHAP costs about ten times a
prediction, a lookup less than one, and no row goes through LightGBM's per-row conversion of all
the features. Trees too large to tabulate fall back to `pred_contrib` for the whole booster.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from models.shared_ranks import SharedRanks
from models.tree_splits import CELLS_PER_CHUNK, RankedSplits, Split, TreeSplits, tree_splits

# 2^8 patterns per tree at most; a booster with a larger tree is explained by `pred_contrib` itself
MAX_SPLITS = 8
# below this many rows one thread predicts: on a busy machine, waiting for a second OpenMP thread
# to be scheduled cost a one-row prediction up to 30 ms instead of 0.1 ms
SMALL_BATCH = 512
FloatArray = NDArray[np.float64]


def threads_for(rows: int) -> int:
    """LightGBM's `num_threads` to predict `rows` rows: 1 for a small batch, else 0 (its default)."""
    return 1 if rows < SMALL_BATCH else 0


def _fields(block: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)


def _trees(model_text: str) -> list[dict[str, str]]:
    """Each tree's fields of a LightGBM text model."""
    rest = model_text.split("\nTree=", 1)[1]
    blocks = ("Tree=" + rest).split("end of trees", 1)[0].strip().split("\n\n")
    return [_fields(b) for b in blocks if b.strip()]


def _ints(tree: dict[str, str], key: str) -> list[int]:
    return [int(v) for v in tree.get(key, "").split()]


def _splits_of(tree: dict[str, str]) -> list[Split]:
    keys = ("cat_boundaries", "cat_threshold", "decision_type", "split_feature")
    return list(tree_splits({k: _ints(tree, k) for k in keys}, tree.get("threshold", "").split()))


def _leaf(pattern: int, left: list[int], right: list[int]) -> int:
    """The leaf a row reaches when bit i of `pattern` says it went left at split i."""
    node = 0
    while node >= 0:
        node = left[node] if pattern >> node & 1 else right[node]
    return ~node


def share_ranks(tables: Sequence[TreeTables]) -> None:
    """Let boosters that read the same encoded rows rank each batch once between them."""
    parts = [t for t in tables if t.ranked is not None]
    if len(parts) > 1:
        shared = SharedRanks([t.ranked for t in parts if t.ranked is not None])
        for t in parts:
            t.share_ranks(shared)


def tables_of(owner: Any) -> TreeTables:
    """The tables of `owner.booster_`, built on first use and kept on the owner (never saved)."""
    tables: TreeTables | None = owner.__dict__.get("_tables")
    if tables is None or tables.booster is not owner.booster_:
        tables = owner.__dict__["_tables"] = TreeTables(owner.booster_)
    return tables


class TreeTables:
    """Raw scores of a LightGBM booster, and SHAP values of a binary one, by table lookup.

    Thread-safe: tables grow under a lock, and a filled entry never changes.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        trees = _trees(booster.model_to_string())
        self._trees = len(trees)
        features = [list(dict.fromkeys(_ints(t, "split_feature"))) for t in trees]
        self.used = np.array(sorted({f for tree in features for f in tree}), dtype=np.intp)
        most = max((int(t["num_leaves"]) - 1 for t in trees), default=0)
        self._splits = (
            TreeSplits.of([_splits_of(t) for t in trees], max(most, 1)) if most <= MAX_SPLITS else None
        )
        self._width = 1 << min(most, MAX_SPLITS)  # patterns per tree, padded
        self._leaf = np.zeros(self._trees * self._width)  # each tree's output per pattern
        if self._splits is not None:
            for i, tree in enumerate(trees):
                left, right = _ints(tree, "left_child"), _ints(tree, "right_child")
                values = [float(v) for v in tree["leaf_value"].split()]
                patterns = range(1 << (int(tree["num_leaves"]) - 1))
                self._leaf[i * self._width : i * self._width + len(patterns)] = [
                    values[_leaf(p, left, right)] if left else values[0] for p in patterns
                ]
        column = {int(f): j for j, f in enumerate(self.used)}
        # per tree, the columns of `used` its splits' features are: one SHAP value slot each
        self._slots = [[column[f] for f in tree] for tree in features]
        slots = max((len(s) for s in self._slots), default=0)
        self._values = np.zeros((slots, self._trees * self._width))  # SHAP value per slot and pattern
        self._known = np.zeros(self._trees * self._width, dtype=bool)
        self._owner = np.zeros(self._trees * self._width, dtype=np.intp)  # scratch of `_first_rows`
        self._columns: NDArray[np.intp] | None = None
        self._offsets = np.arange(self._trees, dtype=np.intp) * self._width
        self._lock = threading.Lock()

    def share_ranks(self, shared: SharedRanks) -> None:
        """Rank the rows through `shared`, with the other boosters that read the same matrices."""
        if self._splits is not None:
            ranked = shared.rebase(self._splits.ranked)
            self._splits = dataclasses.replace(self._splits, ranked=ranked, ranks_of=shared.ranks)

    @property
    def ranked(self) -> RankedSplits | None:
        """The splits decided by ranks (None when the booster is explained by LightGBM itself)."""
        return None if self._splits is None else self._splits.ranked

    def outputs(self, matrix: FloatArray) -> FloatArray:
        """The booster's raw output per row (rows, or rows by class for several trees per iteration)."""
        per_iteration = self.booster.num_model_per_iteration()
        if self._splits is None:
            raw = self.booster.predict(matrix, raw_score=True, num_threads=threads_for(len(matrix)))
            return np.asarray(raw, dtype=float)
        by_class = self._sums(self._splits.patterns(matrix, self._trees), per_iteration)
        return by_class[0] if per_iteration == 1 else np.ascontiguousarray(by_class.T)

    def _sums(self, patterns: NDArray[np.integer[Any]], per_iteration: int = 1) -> FloatArray:
        """(classes, rows): leaf values summed over the trees of each class, given each tree's pattern.

        Patterns are table entries when they are `intp` (offsets added), else patterns within a tree.
        In slices of rows, so that the (trees, rows) temporaries stay in the processor's cache.
        """
        out = np.empty((per_iteration, patterns.shape[1]))
        offsets = 0 if patterns.dtype == np.intp else self._offsets[:, None]
        step = max(64, CELLS_PER_CHUNK // max(self._trees, 1))
        for start in range(0, patterns.shape[1], step):
            window = slice(start, start + step)
            # gathered as (rows, classes, iterations) and summed along the contiguous last axis: numpy
            # then sums each row alike whatever the batch, so a customer scored alone gets the very
            # bits they get in a batch (summed across rows, one row was summed in another order)
            leaves = self._leaf[(patterns[:, window] + offsets).T]
            by_class = leaves.reshape(leaves.shape[0], -1, per_iteration).transpose(0, 2, 1)
            out[:, window] = np.ascontiguousarray(by_class).sum(axis=2).T
        return out

    def explain(self, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(raw score per row, SHAP values per row and `used` feature) of an encoded matrix."""
        if self._splits is None:
            contributions = np.asarray(
                self.booster.predict(matrix, pred_contrib=True, num_threads=threads_for(len(matrix))),
                dtype=float,
            )
            return contributions.sum(axis=1), np.ascontiguousarray(contributions[:, self.used])
        by_tree = self._splits.patterns(matrix, self._trees) + self._offsets[:, None]
        if not self._known[by_tree].all():
            self._fill(matrix, by_tree.T)
        return self._sums(by_tree)[0], self._lookup(by_tree)

    def _lookup(self, by_tree: NDArray[np.intp]) -> FloatArray:
        """SHAP values per row and `used` feature of (trees, rows) table entries."""
        if by_tree.shape[1] < SMALL_BATCH:  # a few rows: one gather and one sum, not a call per tree
            return self._lookup_few(by_tree.T)
        out = np.zeros((len(self.used), by_tree.shape[1]))
        for t, columns in enumerate(self._slots):
            for slot, column in enumerate(columns):
                out[column] += self._values[slot].take(by_tree[t])
        return np.ascontiguousarray(out.T)

    def _lookup_few(self, patterns: NDArray[np.intp]) -> FloatArray:
        width = len(self.used) + 1  # the last column takes the padding of trees with fewer features
        if self._columns is None:
            columns = np.full((self._trees, self._values.shape[0]), width - 1, dtype=np.intp)
            for t, slots in enumerate(self._slots):
                columns[t, : len(slots)] = slots
            self._columns = columns
        values = self._values[:, patterns]  # (slots, rows, trees)
        rows = np.arange(len(patterns))[None, :, None]
        cells = rows * width + self._columns.T[:, None, :]
        # bincount adds in input order: tree by tree, then slot by slot, the order `_lookup` adds in,
        # so that a few rows get the bits a large batch gets
        order = (2, 0, 1)
        sums = np.bincount(
            cells.transpose(order).ravel(), values.transpose(order).ravel(), minlength=len(patterns) * width
        )
        return np.asarray(sums.reshape(len(patterns), width)[:, :-1], dtype=np.float64)

    def _fill(self, matrix: FloatArray, patterns: NDArray[np.intp]) -> None:
        """Fill the entries of patterns not seen before, from LightGBM's TreeSHAP on one row each."""
        with self._lock:
            for tree in range(patterns.shape[1]):
                rows = self._first_rows(patterns[:, tree])
                if len(rows):
                    self._fill_tree(tree, matrix[rows], patterns[rows, tree])

    def _first_rows(self, ids: NDArray[np.intp]) -> NDArray[np.intp]:
        """One row per table entry among `ids` that is not known yet.

        Which row stands for an entry does not matter (every row of a pattern gets the same bits),
        so a scatter picks it: linear in the rows, where a sort of every row and tree took most of
        a large batch's first explanation.
        """
        new = np.flatnonzero(~self._known[ids])
        entries = ids[new]
        self._owner[entries] = new  # of rows sharing an entry, one write stays
        return new[self._owner[entries] == new]

    def _fill_tree(self, tree: int, rows: FloatArray, ids: NDArray[np.intp]) -> None:
        contributions = np.asarray(
            self.booster.predict(
                rows, pred_contrib=True, start_iteration=tree, num_iteration=1, num_threads=1
            )
        )
        for slot, column in enumerate(self._slots[tree]):
            self._values[slot, ids] = contributions[:, self.used[column]]
        self._known[ids] = True
