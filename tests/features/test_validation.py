from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.config import WorkspaceConfig
from features.problems import WorkspaceError
from features.validation import load_workspace, validate_workspace
from tests.features.workspace_factory import VALID_TABLES, write_workspace

NOW = pd.Timestamp("2025-01-01", tz="UTC")


def problems_of(folder: Path, config: WorkspaceConfig | None = None) -> list[str]:
    return [str(p) for p in validate_workspace(folder, config, now=NOW).problems]


def test_valid_workspace_has_no_problems(tmp_path: Path) -> None:
    assert problems_of(write_workspace(tmp_path)) == []


# Each case breaks one cell; the passing case is the valid workspace above.
BROKEN_CELLS = [
    (
        "customers",
        "created_at",
        ["2024-01-01", "yesterday", "2024-01-03"],
        "row 3, column created_at: must be an ISO",
    ),
    (
        "surveys",
        "customer_id",
        ["C1", "C9", "C3"],
        "surveys.csv, row 3, column customer_id: customer_id must exist",
    ),
    (
        "surveys",
        "score",
        ["11", "2", "7"],
        "surveys.csv, row 2, column score: score must lie inside the nps scale 0-10",
    ),
    (
        "surveys",
        "score",
        ["9", "0", "7"],
        "surveys.csv, row 3, column score: score must lie inside the csat scale 1-5",
    ),
    ("surveys", "score", ["9", "two", "7"], "surveys.csv, row 3, column score: must be a number"),
    (
        "surveys",
        "metric",
        ["nps", "happiness", "ces"],
        "surveys.csv, row 3, column metric: metric must be one of",
    ),
    (
        "surveys",
        "responded_at",
        ["2024-03-01", "2031-01-01", "2024-03-03"],
        "row 3, column responded_at: must not be in the future",
    ),
    (
        "surveys",
        "responded_at",
        ["2024-03-01", "", "2024-03-03"],
        "row 3, column responded_at: required value is empty",
    ),
    ("deliveries", "order_id", ["O1", "O1"], "deliveries.csv, row 3, column order_id: must be unique"),
    (
        "deliveries",
        "delivered_at",
        ["2024-01-15", ""],
        "row 2, column delivered_at: delivered_at must not be before ordered_at",
    ),
    (
        "deliveries",
        "promised_at",
        ["2024-01-01", "2024-02-05"],
        "row 2, column promised_at: promised_at must not be before ordered_at",
    ),
    ("deliveries", "amount", ["-3", "5"], "deliveries.csv, row 2, column amount: must not be negative"),
    ("tickets", "reopened", ["maybe"], "tickets.csv, row 2, column reopened: must be true or false"),
    (
        "tickets",
        "closed_at",
        ["2024-02-09"],
        "tickets.csv, row 2, column closed_at: closed_at must not be before",
    ),
    ("calls", "wait_s", ["-1"], "calls.csv, row 2, column wait_s: must not be negative"),
]


@pytest.mark.parametrize(("table", "column", "values", "expected"), BROKEN_CELLS)
def test_a_broken_cell_is_reported_with_file_row_column_and_rule(
    tmp_path: Path, table: str, column: str, values: list[object], expected: str
) -> None:
    folder = write_workspace(tmp_path, {table: {column: values}})
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_a_repeated_customer_id_is_reported_on_its_second_row(tmp_path: Path) -> None:
    customers = {
        "customer_id": ["C1", "C2", "C3", "C1"],
        "created_at": ["2024-01-01"] * 4,
        "plan": ["basic"] * 4,
    }
    folder = write_workspace(tmp_path, {"customers": customers})
    assert problems_of(folder) == [
        "customers.csv, row 5, column customer_id: must be unique (the value already appears in an earlier row) (got 'C1')"
    ]


def test_a_missing_required_column_is_reported(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    pd.DataFrame({k: v for k, v in VALID_TABLES["surveys"].items() if k != "score"}).to_csv(
        folder / "surveys.csv", index=False
    )
    assert problems_of(folder) == ["surveys.csv, column score: required column is missing"]


def test_the_customers_table_is_required(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "customers.csv").unlink()
    assert "customers.csv: the customers table is required" in problems_of(folder)


def test_an_empty_file_and_a_header_only_file_are_reported(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "calls.csv").write_text("")
    (folder / "tickets.csv").write_text("customer_id,ticket_id,opened_at\n")
    assert problems_of(folder) == [
        "calls.csv: the file is empty",
        "tickets.csv: the file has a header but no data rows",
    ]


def test_a_semicolon_separated_file_is_reported(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "calls.csv").write_text("customer_id;call_id;started_at\nC1;K1;2024-01-01\n")
    assert problems_of(folder) == [
        "calls.csv, row 1: fields must be separated by commas, but the header is separated by ';'"
    ]


def test_a_file_that_is_not_utf8_is_reported_with_its_row(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "verbatims.csv").write_bytes(b"customer_id,posted_at,text\nC2,2024-02-20,caf\xe9 cold\n")
    [problem] = problems_of(folder)
    assert problem.startswith("verbatims.csv, row 2: the file must be UTF-8 encoded: byte 0xe9")


def test_a_row_with_too_many_fields_is_reported(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "calls.csv").write_text(
        "customer_id,call_id,started_at\nC1,K1,2024-01-01\nC2,K2,2024-01-02,x\n"
    )
    assert problems_of(folder) == [
        "calls.csv, row 3: every row must have 3 fields like the header, this one has 4"
    ]


def test_two_files_for_one_table_are_reported(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    pd.DataFrame(VALID_TABLES["calls"]).to_parquet(folder / "calls.parquet")
    assert any("one file per table" in p for p in problems_of(folder))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = write_workspace(
        tmp_path,
        {"surveys": {"score": ["11", "x", "7"]}, "deliveries": {"order_id": ["O1", "O1"]}},
    )
    assert len(problems_of(folder)) == 3  # two scores, one repeated order id


def test_timestamps_are_normalised_to_utc(tmp_path: Path) -> None:
    report = load_workspace(write_workspace(tmp_path))
    created = report.tables["customers"]["created_at"]
    assert str(created.dtype) == "datetime64[us, UTC]"
    # naive means UTC; +02:00 is converted; Z is UTC
    assert list(created.dt.strftime("%Y-%m-%d %H:%M")) == [
        "2024-01-01 00:00",
        "2024-01-02 06:00",
        "2024-01-03 00:00",
    ]


def test_metric_names_are_normalised_and_numbers_parsed(tmp_path: Path) -> None:
    surveys = load_workspace(write_workspace(tmp_path)).tables["surveys"]
    assert list(surveys["metric"]) == ["nps", "csat", "ces"]
    assert surveys["score"].dtype == float


def test_a_metric_declared_in_config_is_accepted_with_its_own_scale(tmp_path: Path) -> None:
    folder = write_workspace(
        tmp_path, {"surveys": {"metric": ["nps", "effort5", "ces"], "score": ["9", "5", "7"]}}
    )
    config = WorkspaceConfig.model_validate(
        {"metrics": {"effort5": {"low": 1, "high": 5, "negative_min": 4}}}
    )
    assert problems_of(folder, config) == []
    outside = write_workspace(
        tmp_path / "b", {"surveys": {"metric": ["nps", "effort5", "ces"], "score": ["9", "6", "7"]}}
    )
    assert "score must lie inside" in problems_of(outside, config)[0]


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "calls.csv").unlink()
    calls = pd.DataFrame(
        {"customer_id": ["C1", "C2"], "call_id": ["K1", "K2"], "started_at": ["2024-01-01", "2024-01-02"]}
    )
    calls["started_at"] = pd.to_datetime(calls["started_at"])  # naive datetimes in Parquet mean UTC
    calls["wait_s"] = [3.0, -2.0]
    calls.to_parquet(folder / "calls.parquet")
    assert problems_of(folder) == ["calls.parquet, row 2, column wait_s: must not be negative (got '-2.0')"]


def test_an_extra_event_table_needs_its_declared_columns(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    pd.DataFrame({"customer_id": ["C1"], "logged_at": ["2024-01-05"]}).to_csv(
        folder / "logins.csv", index=False
    )
    config = WorkspaceConfig.model_validate(
        {
            "events": {
                "logins": {
                    "time_column": "logged_at",
                    "aggregations": [{"column": "minutes", "aggs": ["sum"]}],
                }
            }
        }
    )
    assert problems_of(folder, config) == ["logins.csv, column minutes: required column is missing"]


def test_an_undeclared_file_is_ignored_not_validated(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "notes.csv").write_text("anything;at all\n")
    report = validate_workspace(folder, now=NOW)
    assert report.ok and report.ignored == ["notes.csv"]


def test_load_workspace_raises_with_every_problem(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path, {"surveys": {"score": ["11", "x", "7"]}})
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(folder)
    assert len(caught.value.problems) == 2


def test_a_cell_of_only_spaces_is_empty_and_numbers_keep_their_type(tmp_path: Path) -> None:
    customers = {**VALID_TABLES["customers"], "total_spent": ["10.5", " ", "3"]}
    report = load_workspace(write_workspace(tmp_path, {"customers": customers}))
    spent = report.tables["customers"]["total_spent"]
    assert spent.dtype == float and spent.isna().tolist() == [False, True, False]


def test_typed_parquet_columns_are_checked_for_infinities_and_nul_by_their_kind(tmp_path: Path) -> None:
    # typed columns take a different path from CSV text: numbers are tested directly, text parsed
    # only where it could spell an infinity, timestamps and booleans not at all
    folder = write_workspace(tmp_path)
    (folder / "calls.csv").unlink()
    calls = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C2"],
            "call_id": ["K1", "K2", "K3"],
            "started_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "wait_s": [3.0, float("inf"), 1.0],
            "note": ["Infinite patience", "1e400", "a\x00b"],
            "answered": [True, False, True],
        }
    )
    calls.to_parquet(folder / "calls.parquet")
    found = problems_of(folder)
    assert found[:2] == [
        "calls.parquet, row 2, column note: must be a finite number (got '1e400')",
        "calls.parquet, row 2, column wait_s: must be a finite number (got 'inf')",
    ]
    assert len(found) == 3 and found[2].startswith("calls.parquet, row 3, column note: must not contain NUL")
