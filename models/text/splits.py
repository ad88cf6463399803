"""How the text heads are compared: a split by time where the answers allow one, else by customer.

Every check here runs before any text is encoded, so data that cannot support the step stops at once
with one sentence instead of failing after minutes of work. Undated data (answers that all carry one
placeholder date, as exports and snapshots often do) cannot be split by time; the comparison then
holds out a seeded share of customers, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_PER_SIDE = 5  # labelled texts each class needs: out-of-fold scoring uses five customer folds
DEFAULT_CUSTOMER_SHARE = 0.2


class SplitError(ValueError):
    """The labelled texts cannot support the asked split; the message is one sentence for the user."""


@dataclass(frozen=True)
class TextSplit:
    """Which labelled texts train the compared heads and which judge them.

    Attributes:
        train: one flag per labelled text, True where it trains.
        test: one flag per labelled text, True where it judges (never both).
        description: one line that says how the split was made.
    """

    train: np.ndarray
    test: np.ndarray
    description: str


def check_labels(labelled: pd.DataFrame) -> None:
    """Refuse labels too few or one-sided to fit, compare and score heads out of fold.

    Args:
        labelled: the labelled texts (`customer_id`, `negative` without missing values).

    Raises:
        SplitError: fewer than two customers, or fewer than `MIN_PER_SIDE` texts on either side.
    """
    if labelled.empty:
        raise SplitError(
            "text train found no text followed by a survey answer of its customer within 60 days, "
            "so there is nothing to learn from"
        )
    if labelled["customer_id"].nunique() < 2:
        raise SplitError("text train needs labelled texts from two or more customers")
    negative = int(labelled["negative"].sum())
    for side, count in (("negative", negative), ("not negative", len(labelled) - negative)):
        if count < MIN_PER_SIDE:
            raise SplitError(
                f"text train needs {MIN_PER_SIDE} or more labelled texts on each side; {count} are {side}"
            )


def choose_split(
    labelled: pd.DataFrame,
    holdout_from: pd.Timestamp | None = None,
    holdout_customers: float | None = None,
    seed: int = 0,
) -> TextSplit:
    """The split the heads are compared on.

    Args:
        labelled: labelled texts with `customer_id`, `at`, `answered_at` and a 0/1 `negative`.
        holdout_from: compare on answers from this moment on (a time split).
        holdout_customers: compare on this seeded share of customers (a customer split).
        seed: seeds the customer draw.

    With neither, a time split at the latest fifth of answers when the answers span two or more
    moments and both sides hold both outcomes; otherwise a customer split of a fifth.

    Raises:
        SplitError: the asked split leaves a side without both outcomes.
    """
    if holdout_customers is not None:
        return customer_split(labelled, holdout_customers, seed)
    if holdout_from is not None:
        split = time_split(labelled, holdout_from)
        if not _has_both_outcomes(labelled, split):
            raise SplitError(
                f"text train needs negative and other answers both before and after --holdout-from "
                f"{holdout_from:%Y-%m-%d} ({int(split.train.sum())} labelled texts before, "
                f"{int(split.test.sum())} after, over {labelled['answered_at'].nunique()} distinct answer "
                "times); use --holdout-customers 0.2"
            )
        return split
    moments = labelled["answered_at"].nunique()
    if moments >= 2:
        answered = labelled["answered_at"].sort_values()
        split = time_split(labelled, pd.Timestamp(answered.iloc[int(0.8 * (len(answered) - 1))]))
        if _has_both_outcomes(labelled, split):
            return split
    why = "one date" if moments < 2 else "dates too few to leave both outcomes on each side of a time split"
    fallback = customer_split(labelled, DEFAULT_CUSTOMER_SHARE, seed)
    return TextSplit(fallback.train, fallback.test, f"survey answers carry {why}, so {fallback.description}")


def time_split(labelled: pd.DataFrame, holdout_from: pd.Timestamp) -> TextSplit:
    """Train on texts answered before `holdout_from`, judge on texts written from it on."""
    train = (labelled["answered_at"] < holdout_from).to_numpy()
    test = (labelled["at"] >= holdout_from).to_numpy()
    return TextSplit(train, test, f"heads compared on texts from {holdout_from:%Y-%m-%d %H:%M} on")


def customer_split(labelled: pd.DataFrame, share: float, seed: int) -> TextSplit:
    """Judge on a seeded `share` of customers (all their texts), train on the others.

    Raises:
        SplitError: `share` is not strictly between 0 and 1, or a side lacks an outcome.
    """
    if not 0 < share < 1:
        raise SplitError(f"--holdout-customers must lie strictly between 0 and 1, got {share}")
    customers = np.sort(labelled["customer_id"].astype(str).unique())
    held = np.random.default_rng(seed).choice(customers, max(1, round(share * len(customers))), replace=False)
    test = labelled["customer_id"].astype(str).isin(held).to_numpy()
    split = TextSplit(~test, test, f"heads compared on {share:.0%} of customers held out (seed {seed})")
    if not _has_both_outcomes(labelled, split):
        raise SplitError(
            f"text train cannot compare heads on {share:.0%} of customers held out: one side lacks "
            "negative or other answers; try another --holdout-customers share"
        )
    return split


def _has_both_outcomes(labelled: pd.DataFrame, split: TextSplit) -> bool:
    y = labelled["negative"].to_numpy()
    return all(0 < y[side].sum() < side.sum() for side in (split.train, split.test))
