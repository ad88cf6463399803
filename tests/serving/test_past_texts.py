"""Past texts read from a workspace's own files: the customer's alone, at the store's moments, redacted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serving.ui.past_texts import past_texts


def test_a_csv_and_a_parquet_table_give_the_customer_s_texts_redacted_at_their_utc_microseconds(
    tmp_path: Path,
) -> None:
    (tmp_path / "calls.csv").write_text(
        "\ufeffcustomer_id,call_id,started_at,transcript\n"
        " C1 ,K1,2025-03-01T10:00:00+02:00,Mail me at jane.doe@example.com please\n"
        "C2,K2,2025-03-01T10:00:00,Not this customer's\n"
        "C1,K3,2025-03-02 08:30:00,\n",
        encoding="utf-8",
    )
    verbatims = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "posted_at": [pd.Timestamp("2025-03-05T12:00:00", tz="UTC")],
            "text": ["Great service"],
        }
    )
    verbatims.to_parquet(tmp_path / "verbatims.parquet", index=False)
    (tmp_path / "tickets.csv").write_text(
        "customer_id,ticket_id,opened_at\nC1,T1,2025-03-03\n", encoding="utf-8"
    )
    found = past_texts(tmp_path, "C1")
    eight_utc = int(pd.Timestamp("2025-03-01T08:00:00", tz="UTC").timestamp() * 1_000_000)
    noon = int(pd.Timestamp("2025-03-05T12:00:00", tz="UTC").timestamp() * 1_000_000)
    assert found == {("calls", eight_utc): "Mail me at <EMAIL> please", ("verbatims", noon): "Great service"}


def test_a_workspace_without_text_tables_gives_nothing(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    assert past_texts(tmp_path, "C1") == {}
