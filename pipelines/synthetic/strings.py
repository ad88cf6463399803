"""Vectorised string building: ids and digit strings from byte matrices, phrase picks, joins.

No Python code runs per row: digits are written into a uint8 matrix and handed to Arrow as one
buffer, phrases are picked with one `take`, and pieces are joined column-wise by Arrow kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Piece: TypeAlias = pa.Array | pa.ChunkedArray | str


def fixed_width(chars: np.ndarray) -> pa.StringArray:
    """An (n, width) uint8 matrix of ASCII codes as n strings of `width` characters."""
    n, width = chars.shape
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _write_digits(chars: np.ndarray, columns: list[int], values: np.ndarray) -> None:
    """Write zero-padded decimal digits of non-negative integers into the given columns of `chars`."""
    values = np.asarray(values)
    # Dividing 32-bit integers is several times faster than 64-bit; most ids fit.
    small = len(values) == 0 or int(values.max()) < 2**32
    rest = values.astype(np.uint32 if small else np.uint64)
    for column in reversed(columns):
        rest, digit = np.divmod(rest, 10)
        chars[:, column] = digit
        chars[:, column] += 48


def template(values: np.ndarray, pattern: str) -> pa.StringArray:
    """Format integers into a pattern where each `#` takes one digit, e.g. `(###) ###-####`."""
    chars = np.empty((len(values), len(pattern)), np.uint8)
    chars[:] = np.frombuffer(pattern.encode("ascii"), np.uint8)
    _write_digits(chars, [i for i, ch in enumerate(pattern) if ch == "#"], values)
    return fixed_width(chars)


def make_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """Ids such as `C0000001`: a prefix and zero-padded numbers, widened if a number needs it."""
    top = int(numbers.max()) if len(numbers) else 0
    width = max(width, len(str(top)))
    return template(numbers, prefix + "#" * width)


def digits(values: np.ndarray) -> pa.Array:
    """Non-negative integers as decimal strings without padding."""
    return pc.cast(pa.array(np.asarray(values, np.int64)), pa.string())


def join(*pieces: Piece) -> pa.Array:
    """Concatenate arrays (and constant strings) row by row."""
    return pc.binary_join_element_wise(*pieces, "")


def where(mask: np.ndarray, piece: Piece, other: Piece = "") -> pa.Array:
    """The piece where the mask holds, else `other` (an empty string by default)."""
    return pc.if_else(pa.array(mask), piece, other)


class PhraseBank:
    """Phrase variants per group (an issue, a mood, a language...), flattened for one `take`.

    Groups are addressed by integer codes; every group needs at least one variant (use "" for none).
    """

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        if any(len(g) == 0 for g in groups):
            raise ValueError("every phrase group needs at least one variant")
        self.values = pa.array([p for g in groups for p in g], pa.string())
        self.sizes = np.array([len(g) for g in groups], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    def pick(self, rng: np.random.Generator, group: np.ndarray) -> pa.Array:
        """One variant per row, uniformly among the variants of the row's group."""
        group = np.asarray(group, np.int64)
        index = self.offsets[group] + (rng.random(len(group)) * self.sizes[group]).astype(np.int64)
        return self.values.take(pa.array(index))


def grouped(keys: Sequence[tuple[int, ...]], table: dict[tuple[int, ...], Sequence[str]]) -> PhraseBank:
    """A bank whose group `i` holds the phrases of `keys[i]` (missing keys get an empty phrase)."""
    return PhraseBank([table.get(k, [""]) for k in keys])
