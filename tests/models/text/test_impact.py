import numpy as np
import pandas as pd

from features.contract import DEFAULT_METRICS
from models.text.impact import theme_impact
from pipelines.text_cli import theme_line


def test_theme_summaries_use_the_metrics_own_scale() -> None:
    at = pd.to_datetime(["2025-01-02"] * 4, utc=True)
    labelled = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "answered_at": at})
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "theme": pd.array([0, 0, 1, pd.NA], "Int64")})
    surveys = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "a"],
            "responded_at": ["2025-01-02"] * 4 + ["2025-03-01"],
            "metric": ["csat", "csat", "csat", "csat", "nps"],
            "score": [1, 2, 5, 4, 10],
        }
    )

    table = theme_impact(scores, labelled, surveys, DEFAULT_METRICS)

    first = table.set_index("theme").loc[0]
    assert first["metric"] == "csat" and first["high"] == 5
    assert first["next_answer"] == 1.5 and np.isclose(first["moves"], 1.5 - 3.0)
    line = theme_line(first.to_dict() | {"theme": 0}, None)
    assert "next csat answer 1.5/5 (-1.5 vs all texts)" in line and "/10" not in line
