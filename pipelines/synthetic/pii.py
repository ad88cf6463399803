"""Personal data planted in texts: names, e-mail addresses, phone numbers and card numbers.

Each customer keeps one name, e-mail and phone number across all their texts, as a real person
does; card numbers are drawn per mention and pass the Luhn check (test numbers, never real cards).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.synthetic.phrases import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES
from pipelines.synthetic.strings import PhraseBank, digits, join, template, where

PHONE_PATTERNS = (
    "(###) ###-####",
    "###-###-####",
    "###.###.####",
    "+1 ### ### ####",
    "+1##########",
    "+44 7### ######",
    "+49 30 ########",
    "0### ### ####",
)
CARD_PATTERNS = ("#### #### #### ####", "####-####-####-####", "################")


@dataclass(frozen=True)
class Identities:
    """Per-customer personal data, each an Arrow string array indexed by customer row."""

    first: pa.Array
    full: pa.Array
    email: pa.Array
    phone: pa.Array


def by_pattern(values: np.ndarray, patterns: Sequence[str], choice: np.ndarray) -> pa.Array:
    """Format each value with the pattern `choice` names for its row (`#` = one digit)."""
    order = np.argsort(choice, kind="stable")
    parts = [template(values[order][choice[order] == i], p) for i, p in enumerate(patterns)]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays(parts).take(pa.array(inverse))


def phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Phone numbers in several national and international formats."""
    choice = rng.choice(len(PHONE_PATTERNS), n, p=[0.22, 0.2, 0.1, 0.14, 0.08, 0.1, 0.08, 0.08])
    width = np.array([p.count("#") for p in PHONE_PATTERNS])[choice]
    low = 2 * 10 ** (width - 1)  # no leading zero or one: area codes start at 2
    values = low + (rng.random(n) * (10**width - low)).astype(np.int64)
    return by_pattern(values, PHONE_PATTERNS, choice)


def emails(rng: np.random.Generator, first: pa.Array, last: pa.Array) -> pa.Array:
    """`first.last@`, `flast42@`, `first_last@`, `firstlast1987@` and the like."""
    n = len(first)
    lower_first, lower_last = pc.utf8_lower(first), pc.utf8_lower(last)
    initial = rng.random(n) < 0.3
    head = where(initial, pc.utf8_slice_codeunits(lower_first, 0, 1), lower_first)
    separator = PhraseBank([[".", "_", ""]]).pick(rng, np.zeros(n, np.int64))
    suffix = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), rng.integers(1960, 2006, n))
    number = where(rng.random(n) < 0.4, digits(suffix))
    domain = pa.array(EMAIL_DOMAINS).take(pa.array(rng.integers(0, len(EMAIL_DOMAINS), n)))
    return join(head, where(initial, "", separator), lower_last, number, "@", domain)


def draw_identities(rng: np.random.Generator, n: int) -> Identities:
    """Names, e-mail addresses and phone numbers for `n` customers."""
    first = pa.array(FIRST_NAMES).take(pa.array(rng.integers(0, len(FIRST_NAMES), n)))
    last = pa.array(LAST_NAMES).take(pa.array(rng.integers(0, len(LAST_NAMES), n)))
    return Identities(first, join(first, " ", last), emails(rng, first, last), phones(rng, n))


def luhn_complete(payload: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to (n, 15) digit rows, giving valid 16-digit card numbers."""
    doubled = payload[:, 0::2] * 2  # from the right of a 16-digit number, these positions double
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + payload[:, 1::2].sum(axis=1)
    check = (10 - total % 10) % 10
    return np.concatenate([payload, check[:, None]], axis=1)


def cards(rng: np.random.Generator, n: int) -> pa.Array:
    """Luhn-valid Visa- and Mastercard-like test numbers in spaced, dashed and plain forms."""
    payload = rng.integers(0, 10, (n, 15))
    payload[:, 0] = rng.choice([4, 5], n)
    number = luhn_complete(payload) @ (10 ** np.arange(15, -1, -1, dtype=np.int64))
    return by_pattern(number, CARD_PATTERNS, rng.choice(len(CARD_PATTERNS), n, p=[0.5, 0.2, 0.3]))
