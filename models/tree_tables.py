"""Exact SHAP values of a LightGBM booster read from per-tree tables instead of computed per row.

A tree's SHAP values for a row depend only on which way the row goes at each of the tree's splits,
on its path and off it. A tree of k splits has at most 2^k such patterns: 64 for the project's
7-leaf trees. Each tree is rewritten as an equivalent tree that asks every split in turn, so its
leaf index *is* the pattern; LightGBM finds those leaves (`pred_leaf`) as fast as it predicts, with
its own handling of missing values and categories. Per tree and pattern, the SHAP values and the
leaf value are filled once from LightGBM's own `pred_contrib` on a row that showed the pattern,
so every later row is a table lookup: TreeSHAP costs about ten times a prediction, a lookup less
than one. Trees too large to expand fall back to `pred_contrib` for the whole booster.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

# 2^8 patterns per tree at most; a booster with a larger tree is explained by `pred_contrib` itself
MAX_SPLITS = 8
# below this many rows one thread predicts: on a busy machine, waiting for a second OpenMP thread
# to be scheduled cost a one-row prediction up to 30 ms instead of 0.1 ms
SMALL_BATCH = 512
FloatArray = NDArray[np.float64]


def threads_for(rows: int) -> int:
    """LightGBM's `num_threads` to predict `rows` rows: 1 for a small batch, else 0 (its default)."""
    return 1 if rows < SMALL_BATCH else 0


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: str  # as LightGBM wrote it; for a categorical split, the words of its bitset
    decision_type: str
    categories: tuple[str, ...] | None


def _fields(block: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)


def _trees(model_text: str) -> tuple[str, list[dict[str, str]]]:
    """The header lines and each tree's fields of a LightGBM text model."""
    header, rest = model_text.split("\nTree=", 1)
    blocks = ("Tree=" + rest).split("end of trees", 1)[0].strip().split("\n\n")
    header = "\n".join(line for line in header.splitlines() if not line.startswith("tree_sizes="))
    return header, [_fields(b) for b in blocks if b.strip()]


def _splits(tree: dict[str, str]) -> list[_Split]:
    count = int(tree["num_leaves"]) - 1
    if count <= 0:
        return []
    feature, threshold = tree["split_feature"].split(), tree["threshold"].split()
    decision = tree["decision_type"].split()
    bounds = [int(b) for b in tree.get("cat_boundaries", "").split()]
    words = tree.get("cat_threshold", "").split()
    result = []
    for i in range(count):
        categories = None
        if int(decision[i]) & 1:  # categorical: the threshold indexes the tree's bitsets
            k = int(float(threshold[i]))
            categories = tuple(words[bounds[k] : bounds[k + 1]])
        result.append(_Split(int(feature[i]), threshold[i], decision[i], categories))
    return result


def _leaf(pattern: int, left: list[int], right: list[int]) -> int:
    """The original leaf a row reaches when bit i of `pattern` says it went left at split i."""
    node = 0
    while node >= 0:
        node = left[node] if pattern >> node & 1 else right[node]
    return ~node


def _expanded_tree(index: int, tree: dict[str, str]) -> tuple[str, list[float]]:
    """A tree that asks every split of `tree` in turn: its leaf index is the row's pattern.

    Depth i asks split i; bit i of the leaf index is 1 when the row went left there. Its leaf
    values are the original leaves each pattern reaches, so it predicts what `tree` predicts.
    """
    splits = _splits(tree)
    if not splits:  # a single leaf asks nothing: the tree stays as it is
        block = "\n".join([f"Tree={index}", *(f"{k}={v}" for k, v in tree.items() if k != "Tree")])
        return block, [float(tree["leaf_value"])]
    features: list[int] = []
    thresholds: list[str] = []
    decisions: list[str] = []
    lefts: list[int] = []
    rights: list[int] = []
    bitsets: list[tuple[str, ...]] = []
    for depth, split in enumerate(splits):
        for prefix in range(1 << depth):
            features.append(split.feature)
            decisions.append(split.decision_type)
            if split.categories is None:
                thresholds.append(split.threshold)
            else:
                thresholds.append(str(len(bitsets)))
                bitsets.append(split.categories)
            for side, went_left in ((lefts, 1), (rights, 0)):
                pattern = prefix | went_left << depth
                last = depth + 1 == len(splits)
                side.append(~pattern if last else (1 << (depth + 1)) - 1 + pattern)
    left = [int(v) for v in tree["left_child"].split()]
    right = [int(v) for v in tree["right_child"].split()]
    values = tree["leaf_value"].split()
    leaves = 1 << len(splits)
    leaf_values = [values[_leaf(p, left, right)] for p in range(leaves)]
    fields = {
        "num_leaves": leaves,
        "num_cat": len(bitsets),
        "split_feature": features,
        "split_gain": [1] * len(features),
        "threshold": thresholds,
        "decision_type": decisions,
        "left_child": lefts,
        "right_child": rights,
        "leaf_value": leaf_values,
        "leaf_weight": [1] * leaves,
        "leaf_count": [1] * leaves,
        "internal_value": [0] * len(features),
        "internal_weight": [1] * len(features),
        "internal_count": [1] * len(features),
    }
    if bitsets:
        fields["cat_boundaries"] = np.cumsum([0, *(len(b) for b in bitsets)]).tolist()
        fields["cat_threshold"] = [word for b in bitsets for word in b]
    fields |= {"is_linear": 0, "shrinkage": 1}
    lines = [f"{k}={' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in fields.items()]
    return "\n".join([f"Tree={index}", *lines]), [float(v) for v in leaf_values]


class TreeTables:
    """Raw scores and SHAP values of a binary LightGBM booster, by table lookup.

    Thread-safe: tables grow under a lock, and a filled entry never changes.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        header, trees = _trees(booster.model_to_string())
        splits = [_splits(t) for t in trees]
        self.used = np.array(sorted({s.feature for tree in splits for s in tree}), dtype=np.intp)
        self._trees = len(trees)
        self._width = 1 << max((len(s) for s in splits), default=0)  # patterns per tree, padded
        self._leaf = np.zeros(self._trees * self._width)  # each tree's output per pattern
        self._expanded: lgb.Booster | None = None
        if max((len(s) for s in splits), default=0) <= MAX_SPLITS:
            blocks = []
            for i, tree in enumerate(trees):
                block, leaves = _expanded_tree(i, tree)
                blocks.append(block)
                self._leaf[i * self._width : i * self._width + len(leaves)] = leaves
            text = header + "\n\n" + "\n\n".join(blocks) + "\n\nend of trees\n\npandas_categorical:null\n"
            self._expanded = lgb.Booster(model_str=text)
        column = {int(f): j for j, f in enumerate(self.used)}
        # per tree, the columns of `used` its splits' features are: one SHAP value slot each
        self._slots = [[column[f] for f in dict.fromkeys(s.feature for s in tree)] for tree in splits]
        slots = max((len(s) for s in self._slots), default=0)
        self._values = np.zeros((slots, self._trees * self._width))  # SHAP value per slot and pattern
        self._known = np.zeros(self._trees * self._width, dtype=bool)
        self._columns: NDArray[np.intp] | None = None
        self._offsets = np.arange(self._trees, dtype=np.intp) * self._width
        self._lock = threading.Lock()

    def explain(self, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(raw score per row, SHAP values per row and `used` feature) of an encoded matrix."""
        threads = threads_for(len(matrix))
        if self._expanded is None:
            contributions = np.asarray(
                self.booster.predict(matrix, pred_contrib=True, num_threads=threads), dtype=float
            )
            return contributions.sum(axis=1), np.ascontiguousarray(contributions[:, self.used])
        patterns = np.asarray(
            self._expanded.predict(matrix, pred_leaf=True, num_threads=threads), dtype=np.intp
        )
        patterns = patterns.reshape(len(matrix), self._trees) + self._offsets
        if not self._known[patterns].all():
            self._fill(matrix, patterns)
        return self._leaf[patterns].sum(axis=1), self._lookup(patterns)

    def _lookup(self, patterns: NDArray[np.intp]) -> FloatArray:
        if len(patterns) < SMALL_BATCH:  # a few rows: one gather and one sum, not a call per tree
            return self._lookup_few(patterns)
        by_tree = np.ascontiguousarray(patterns.T)
        out = np.zeros((len(self.used), len(patterns)))
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
        sums = np.bincount(cells.ravel(), values.ravel(), minlength=len(patterns) * width)
        return np.asarray(sums.reshape(len(patterns), width)[:, :-1], dtype=np.float64)

    def _fill(self, matrix: FloatArray, patterns: NDArray[np.intp]) -> None:
        """Fill the entries of patterns not seen before, from LightGBM's TreeSHAP on one row each."""
        with self._lock:
            rows, trees = np.nonzero(~self._known[patterns])
            entries, first = np.unique(patterns[rows, trees], return_index=True)
            for tree in np.unique(trees[first]):
                pick = first[trees[first] == tree]
                contributions = np.asarray(
                    self.booster.predict(
                        matrix[rows[pick]],
                        pred_contrib=True,
                        start_iteration=int(tree),
                        num_iteration=1,
                        num_threads=1,
                    )
                )
                ids = patterns[rows[pick], tree]
                for slot, column in enumerate(self._slots[tree]):
                    self._values[slot, ids] = contributions[:, self.used[column]]
            self._known[entries] = True
