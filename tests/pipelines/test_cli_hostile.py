"""Careless and hostile input on the command line: a clear refusal, never a traceback or a stray file."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from pipelines.cli import app
from pipelines.cli_errors import LOG_DIR_VARIABLE
from pipelines.outputs import spreadsheet_safe
from tests.features.workspace_factory import snapshot, write_workspace

# wide enough that no temporary path wraps (an xdist worker's is longer): lines are matched whole
runner = CliRunner(env={"COLUMNS": "240"})
CALLS_HEADER = "customer_id,call_id,started_at,wait_s\n"


def invoke(*args: object, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250", **(env or {})})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def with_calls(folder: Path, text: str) -> Path:
    write_workspace(folder)
    (folder / "calls.csv").write_text(text, encoding="utf-8")
    return folder


# (calls.csv body, row, column, words of the rule)
BAD_CALLS = {
    "more fields than the header": (CALLS_HEADER + "C2,K1,2024-02-12,5,extra\n", "2", "", "has 5"),
    "fewer fields than the header": (CALLS_HEADER + "C2,K1,2024-02-12,5\nC2,K2\n", "3", "", "has 2"),
    "every row one field more": (
        CALLS_HEADER + "C2,K1,2024-02-12,5,6\nC2,K2,2024-02-13,5,6\n",
        "2",
        "",
        "has 5",
    ),
    "a header name over 131,072 characters": (
        "customer_id,call_id,started_at," + "x" * 140_000 + "\nC2,K1,2024-02-12,1\n",
        "1",
        "",
        "at most 200",
    ),
    "infinity": (CALLS_HEADER + "C2,K1,2024-02-12,inf\n", "2", "wait_s", "finite number"),
    "a number past float range": (CALLS_HEADER + "C2,K1,2024-02-12,1e400\n", "2", "wait_s", "finite number"),
    "year 0001": (CALLS_HEADER + "C2,K1,0001-02-12,5\n", "2", "started_at", "before 1900-01-01"),
    "year 1850": (CALLS_HEADER + "C2,K1,1850-02-12,5\n", "2", "started_at", "before 1900-01-01"),
    "a NUL byte": (CALLS_HEADER + "C2,K\x001,2024-02-12,5\n", "2", "call_id", "NUL"),
    "a NUL byte in an unknown column": (
        "customer_id,call_id,started_at,note\nC2,K1,2024-02-12,a\x00b\n",
        "2",
        "note",
        "NUL",
    ),
    "a duplicate header name": (
        "customer_id,call_id,started_at,started_at\nC2,K1,2024-02-12,2024-02-12\n",
        "1",
        "started_at",
        "unique",
    ),
    "an empty header name": ("customer_id,call_id,started_at,\nC2,K1,2024-02-12,3\n", "1", "", "no name"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_validate_refuses_bad_cells_and_rows_naming_file_row_column_and_rule(
    tmp_path: Path, case: str
) -> None:
    body, row, column, rule = BAD_CALLS[case]
    folder = with_calls(tmp_path / "ws", body)
    result = invoke("validate", folder)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "calls.csv" in line and "│" in line]
    assert any(f" {row} " in line and column in line and rule in line for line in lines), result.output


def test_an_unexpected_error_prints_one_line_and_a_redacted_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault deep in a step (here: the engine, made to fail) ends in one line and a log without PII."""
    import features.training_sets

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine lost its mind over jane.doe@example.com")

    monkeypatch.setattr(features.training_sets, "build_scoring_set", broken)
    folder, logs = write_workspace(tmp_path / "ws"), tmp_path / "logs"
    result = invoke("features", folder, "--out", tmp_path / "f.parquet", env={LOG_DIR_VARIABLE: str(logs)})
    assert result.exit_code == 70, result.output
    assert len(result.output.strip().splitlines()) == 1 and str(logs) in result.output
    (log,) = logs.iterdir()
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text and "<EMAIL>" in text
    assert "jane.doe@example.com" not in text and not (tmp_path / "f.parquet").exists()


@pytest.mark.parametrize("option", ["--problems-out", "--out"])
@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_an_output_into_a_missing_folder_or_onto_a_folder_exits_2_before_any_work(
    tmp_path: Path, option: str, where: str
) -> None:
    folder = write_workspace(tmp_path / "ws", {"calls": {"customer_id": ["C9"]}})
    target = tmp_path / "nowhere" / "out.file" if where == "missing folder" else tmp_path
    command = "validate" if option == "--problems-out" else "features"
    result = invoke(command, folder, option, target)
    assert result.exit_code == 2
    assert option in result.output and len(result.output.strip().splitlines()) == 1


def test_problems_out_refuses_the_workspace_and_escapes_spreadsheet_formulas(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path / "ws", {"calls": {"customer_id": ["=HYPERLINK(1)"], "wait_s": ["-5"]}})
    before = snapshot(folder)
    inside = invoke("validate", folder, "--problems-out", folder / "problems.csv")
    assert inside.exit_code == 2 and "inside the workspace" in inside.output
    assert snapshot(folder) == before
    out = tmp_path / "problems.csv"
    assert invoke("validate", folder, "--problems-out", out).exit_code == 2
    cells = pd.read_csv(out, dtype=str, keep_default_na=False).to_numpy().ravel()
    assert "'=HYPERLINK(1)" in cells and "'-5" in cells
    assert not any(str(c).startswith(("=", "+", "-", "@")) for c in cells)


@pytest.mark.parametrize(("cell", "want"), [("=1+1", "'=1+1"), ("+3", "'+3"), ("@x", "'@x"), ("ok", "ok")])
def test_spreadsheet_safe_makes_formulas_text(cell: str, want: str) -> None:
    assert spreadsheet_safe(cell) == want


def test_features_as_of_before_every_customer_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path / "ws")
    out = tmp_path / "f.parquet"
    result = invoke("features", folder, "--as-of", "1500-01-01", "--out", out)
    assert result.exit_code == 2 and "no customer existed" in result.output
    assert not out.exists()


def test_a_failed_write_leaves_no_half_written_file(tmp_path: Path) -> None:
    from pipelines.outputs import atomic_path

    target = tmp_path / "f.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["features", "--engine", "bogus"], "'bogus' is not one of"),
        (["serve", "--port", "99999"], "65535"),
        (["train", "--holdout-customers", "1.5"], "strictly between 0 and 1"),
        (["score", "--as-of", "1500-01-01"], "no customer existed before 1500-01-01"),
    ],
)
def test_an_impossible_option_value_is_refused(tmp_path: Path, args: list[str], words: str) -> None:
    folder = write_workspace(tmp_path / "ws")
    result = invoke(args[0], folder, *args[1:])
    assert result.exit_code == 2 and words in result.output


def test_serve_on_a_busy_port_exits_2_naming_it(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path / "ws")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke("serve", folder, "--port", port)
    assert result.exit_code == 2 and f"127.0.0.1:{port}" in result.output


CommandArgs = Callable[[Path], list[object]]


@pytest.mark.parametrize(
    "args",
    [
        lambda p: ["keys", "create", p, "--role", "agent", "--name", "x"],
        lambda p: ["keys", "list", p],
        lambda p: ["actions", "list", p],
        lambda p: ["actions", "purge", p],
    ],
)
def test_admin_commands_on_a_mistyped_path_create_no_state_database(
    tmp_path: Path, args: CommandArgs
) -> None:
    write_workspace(tmp_path / "workspace")
    typo = tmp_path / "worksapce"
    result = invoke(*args(typo))
    assert result.exit_code == 2 and "not a cxpredict workspace" in result.output
    assert not typo.exists()
