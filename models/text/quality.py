"""How well text models recover what a workspace's ground truth planted: PII recall, theme agreement."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

# The generator's PII type names and the placeholders that must replace them.
TRUTH_TYPES = {"email": "EMAIL", "phone": "PHONE", "card": "CARD", "order": "ORDER", "name": "NAME"}


def pii_recall(redacted: Mapping[tuple[str, str], str], truth: pd.DataFrame) -> dict[str, float]:
    """Share of planted PII values, per type, that no longer appear in their redacted text.

    Args:
        redacted: redacted text by (table, key).
        truth: planted mentions with columns `table`, `key`, `pii_type`, `value`.
    """
    gone = [
        value not in redacted.get((table, key), value)
        for table, key, value in zip(truth["table"], truth["key"], truth["value"], strict=True)
    ]
    return {str(k): float(v) for k, v in pd.Series(gone).groupby(truth["pii_type"].to_numpy()).mean().items()}


def theme_agreement(found: np.ndarray, planted: np.ndarray) -> dict[str, float]:
    """NMI and ARI between found clusters and planted themes (over the texts that have a planted one)."""
    return {
        "nmi": float(normalized_mutual_info_score(planted, found)),
        "ari": float(adjusted_rand_score(planted, found)),
    }
