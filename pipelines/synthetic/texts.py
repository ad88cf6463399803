"""Short texts: ticket messages, verbatims and survey comments, with the personal data they carry.

Tone follows the writer's latent satisfaction; the topic of a negative text is the planted issue
(the customer's latest bad experience), which the ground truth records for theme recovery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from pipelines.synthetic import params as P
from pipelines.synthetic import phrases as T
from pipelines.synthetic.ids import order_ids
from pipelines.synthetic.pii import Identities
from pipelines.synthetic.strings import PhraseBank, grouped, join, where

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2


@dataclass
class Planted:
    """Personal data planted in one table's texts: for each mention, its row, type and value."""

    rows: list[np.ndarray] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    values: list[pa.Array] = field(default_factory=list)

    def add(self, mask: np.ndarray, kind: str, values: pa.Array, offset: int = 0) -> None:
        """Record the values of the rows where `mask` holds (rows counted from `offset`)."""
        self.rows.append(np.flatnonzero(mask) + offset)
        self.kinds.append(kind)
        self.values.append(values.filter(pa.array(mask)))


def pick_pair(
    rng: np.random.Generator, pairs: Sequence[tuple[str, str]], n: int
) -> tuple[pa.Array, pa.Array]:
    """A (before, after) pair of phrases per row, drawn together so they fit each other."""
    index = pa.array(rng.integers(0, len(pairs), n))
    return pa.array([a for a, _ in pairs]).take(index), pa.array([b for _, b in pairs]).take(index)


def pick(rng: np.random.Generator, phrases: Sequence[str], n: int) -> pa.Array:
    """One of `phrases` per row."""
    return PhraseBank([phrases]).pick(rng, np.zeros(n, np.int64))


def moods(rng: np.random.Generator, latent: np.ndarray) -> np.ndarray:
    """0 angry, 1 frustrated, 2 calm: a noisy reading of latent satisfaction."""
    return np.digitize(latent + rng.normal(0.0, 0.6, len(latent)), [5.5, 7.0])


def scatter(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """Spread values drawn for the rows where `mask` holds over all rows ("" elsewhere)."""
    index = np.where(mask, np.cumsum(mask) - 1, len(values))
    return pa.concat_arrays([values, pa.array([""])]).take(pa.array(index))


_LANG_ISSUE = [(lang, issue) for lang in range(len(P.LANGUAGES)) for issue in range(len(P.ISSUES))]
_NEGATIVE = grouped(
    _LANG_ISSUE, {(li, i): T.NEGATIVE[lang][i] for li, lang in enumerate(P.LANGUAGES) for i in range(10)}
)
_ENDINGS = PhraseBank([T.NEGATIVE_ENDINGS[lang] for lang in P.LANGUAGES])
_NEUTRAL = PhraseBank([T.NEUTRAL[lang] for lang in P.LANGUAGES])
_POSITIVE = PhraseBank([T.POSITIVE[lang] for lang in P.LANGUAGES])
_SOURCE_PREFIXES = PhraseBank(T.SOURCE_PREFIXES)


def opinion(rng: np.random.Generator, tone: np.ndarray, issue: np.ndarray, lang: np.ndarray) -> pa.Array:
    """A review-style sentence: about the issue when negative, general when neutral or positive."""
    negative = join(_NEGATIVE.pick(rng, lang * len(P.ISSUES) + issue), _ENDINGS.pick(rng, lang))
    return where(
        tone == NEGATIVE,
        negative,
        where(tone == NEUTRAL, _NEUTRAL.pick(rng, lang), _POSITIVE.pick(rng, lang)),
    )


def languages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly English, with some Spanish, German and French."""
    return rng.choice(len(P.LANGUAGES), n, p=P.LANGUAGE_SHARE)


def verbatim_texts(
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    people: Identities,
    planted: Planted,
    offset: int,
    lang: np.ndarray,
) -> pa.Array:
    """Reviews, social posts, e-mails and chats; e-mails are often signed with the writer's name."""
    n, source = len(lang), rows["source"]
    english = lang == 0
    prefix = where(english, _SOURCE_PREFIXES.pick(rng, source))
    signed = english & (source == P.SOURCES.index("email")) & (rng.random(n) < 0.7)
    first = people.first.take(pa.array(rows["cust"]))
    planted.add(signed, "name", first, offset)
    body = opinion(rng, rows["tone"], rows["issue"], lang)
    return join(prefix, body, where(signed, join(pick(rng, T.EMAIL_SIGNOFFS, n), first)))


def ticket_texts(
    rng: np.random.Generator, rows: dict[str, np.ndarray], people: Identities, planted: Planted, offset: int
) -> pa.Array:
    """A customer's message opening a ticket: the issue, often the order, sometimes contact details."""
    n, cust = len(rows["cust"]), pa.array(rows["cust"])
    mood = rows["mood"]
    cites = (rows["order_row"] >= 0) & (rng.random(n) < 0.8)
    order = order_ids(np.maximum(rows["order_row"], 0))
    before, after = pick_pair(rng, T.ORDER_REFS, n)
    reply = rng.random(n) < 0.12
    email = people.email.take(cust)
    reply_before, reply_after = pick_pair(rng, T.REPLY_TOS, n)
    planted.add(cites, "order", order, offset)
    planted.add(reply, "email", email, offset)
    return join(
        pick(rng, T.TICKET_HELLOS, n),
        PhraseBank(T.ISSUE_OPENINGS).pick(rng, rows["issue"]),
        ". ",
        where(cites, join(before, order, after, " ")),
        where(reply, join(reply_before, email, reply_after, " ")),
        PhraseBank(T.TICKET_ASKS).pick(rng, mood),
    )


def comment_texts(rng: np.random.Generator, rows: dict[str, np.ndarray], lang: np.ndarray) -> pa.Array:
    """Optional survey comments; their tone follows the answer, their topic the recent issue."""
    return opinion(rng, rows["tone"], rows["issue"], lang)
