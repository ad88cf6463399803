"""`cxpredict text train` on workspaces of other shapes: no comments, no texts, undated answers."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()
GOOD = ["great fit love it", "lovely soft fabric", "perfect dress thank you", "beautiful colour"]
BAD = ["too small and cheap", "fabric ripped returned it", "awful fit very poor", "bad quality"]


def _reviews(folder: Path, n: int = 160, dated: bool = False, seed: int = 0) -> Path:
    """A workspace shaped like a review export: one review and one CSAT answer per customer, no comment."""
    rng = np.random.default_rng(seed)
    negative = rng.random(n) < 0.3
    ids = [f"c{i:04d}" for i in range(n)]
    answered = (
        pd.date_range("2024-01-01", periods=n, freq="D")
        if dated
        else pd.DatetimeIndex([pd.Timestamp("2024-02-04")] * n)
    )
    texts = [rng.choice(BAD if neg else GOOD) + f" item {rng.integers(50)}" for neg in negative]
    folder.mkdir(parents=True)
    pd.DataFrame({"customer_id": ids}).to_csv(folder / "customers.csv", index=False)
    scores = np.where(negative, rng.integers(1, 3, n), rng.integers(4, 6, n))
    surveys = pd.DataFrame({"customer_id": ids, "responded_at": answered, "metric": "csat", "score": scores})
    surveys.to_csv(folder / "surveys.csv", index=False)
    posted = answered - pd.Timedelta(minutes=1)
    pd.DataFrame({"customer_id": ids, "posted_at": posted, "text": texts}).to_csv(
        folder / "verbatims.csv", index=False
    )
    return folder


def _train(workspace: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["text", "train", str(workspace), "--no-encoder", *extra])
    return result.exit_code, result.output


def test_surveys_without_comments_and_one_date_train_on_a_customer_split(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")

    code, output = _train(workspace)

    assert code == 0, output
    assert "survey answers carry one date, so heads compared on 20% of customers held out" in output
    assert "Traceback" not in output
    assert (workspace / "text_scores.parquet").is_file()


def test_an_explicit_customer_holdout_is_used_even_where_time_would_do(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "dated", dated=True)

    by_time = _train(workspace, "--no-write-events")
    by_customer = _train(workspace, "--holdout-customers", "0.3", "--no-write-events")

    assert by_time[0] == 0 and "heads compared on texts from" in by_time[1], by_time[1]
    assert by_customer[0] == 0 and "30% of customers held out" in by_customer[1], by_customer[1]


def test_a_time_split_on_undated_answers_stops_at_once_naming_the_way_out(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")

    code, output = _train(workspace, "--holdout-from", "2024-02-01")

    assert code == 2
    assert "--holdout-customers" in output and "Traceback" not in output
    assert not (workspace / "_text_models").exists()  # stopped before anything was fitted or written


def test_learn_before_every_answer_stops_with_one_sentence(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")

    code, output = _train(workspace, "--learn-before", "2024-01-01")

    assert code == 2
    assert "--learn-before 2024-01-01 leaves no labelled text" in output


def test_a_workspace_without_any_text_stops_with_one_sentence(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")
    (workspace / "verbatims.csv").unlink()

    code, output = _train(workspace)

    assert code == 2
    assert output.splitlines()[-1].startswith("text train needs texts"), output


@pytest.mark.parametrize("negatives", [0, 3])
def test_labels_all_or_almost_all_on_one_side_stop_before_fitting(tmp_path: Path, negatives: int) -> None:
    workspace = _reviews(tmp_path / "reviews")
    surveys = pd.read_csv(workspace / "surveys.csv")
    surveys["score"] = 5
    surveys.loc[: negatives - 1, "score"] = 1
    surveys.to_csv(workspace / "surveys.csv", index=False)

    code, output = _train(workspace)

    assert code == 2
    assert f"{negatives} are negative" in output


def test_a_single_customer_stops_with_one_sentence(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")
    for table in ("customers", "surveys", "verbatims"):
        frame = pd.read_csv(workspace / f"{table}.csv")
        frame.assign(customer_id="c0000").iloc[: 1 if table == "customers" else None].to_csv(
            workspace / f"{table}.csv", index=False
        )

    code, output = _train(workspace)

    assert code == 2, output
    assert output.splitlines()[-1] == "text train needs labelled texts from two or more customers"


def test_a_vector_head_without_the_encoder_is_refused_before_any_work(tmp_path: Path) -> None:
    workspace = _reviews(tmp_path / "reviews")

    code, output = _train(workspace, "--head", "stacked")

    assert code == 2 and "--no-encoder" in output
    assert not (workspace / "_text_models").exists()


def test_the_chosen_head_is_the_best_and_the_baseline_wins_a_tie() -> None:
    from models.text.fitting import HeadResult
    from pipelines.text import best_head

    def result(auc: float) -> HeadResult:
        return HeadResult("x", 10, 10, auc, {})

    tie = {"tfidf": result(0.9), "linear": result(0.9), "stacked": result(float("nan"))}
    better = {"tfidf": result(0.9), "linear": result(0.85), "stacked": result(0.91)}

    assert best_head(tie) == "tfidf"  # type: ignore[arg-type]
    assert best_head(better) == "stacked"  # type: ignore[arg-type]
