import re
from pathlib import Path

import pandas as pd
import pytest

from features.contract import DEFAULT_METRICS
from models.text.encoder import EncoderConfig
from models.text.scorer import TextScorer
from pipelines.text import TEXT_SCORES, TextOptions, train_text

pytestmark = pytest.mark.slow


def _few_customers(tables: dict[str, pd.DataFrame], n: int) -> dict[str, pd.DataFrame]:
    keep = set(tables["customers"]["customer_id"].astype(str).sort_values().iloc[:n])
    return {name: t[t["customer_id"].astype(str).isin(keep)] for name, t in tables.items()}


def _planted_values_found(folder: Path, truth: pd.DataFrame) -> list[str]:
    """Planted PII values (whole words) in any file under `folder`; Parquet is read, not scanned."""
    contents = []
    for path in folder.rglob("*"):
        if path.suffix == ".parquet":
            contents.append(pd.read_parquet(path).astype(str).to_csv())
        elif path.is_file():
            contents.append(path.read_bytes().decode("latin-1"))
    everything = "\n".join(contents)
    words = set(re.findall(r"\w+", everything))  # a cheap first pass: every word of the value is there
    candidates = [v for v in truth["value"].unique() if set(re.findall(r"\w+", v)) <= words]
    return [v for v in candidates if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", everything)]


@pytest.fixture(scope="module")
def tfidf_run(tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("tfidf") / "text"
    return out, train_text(tables, DEFAULT_METRICS, out, TextOptions(use_encoder=False))


def test_the_fallback_trains_without_an_encoder_and_beats_chance(tfidf_run) -> None:
    out, result = tfidf_run

    assert result.models.head_kind == "tfidf" and result.models.encoder_id is None
    assert result.comparison["tfidf"].auc > 0.7
    scores = pd.read_parquet(out / TEXT_SCORES)
    assert list(scores.columns) == ["customer_id", "at", "source", "satisfaction", "negative", "theme"]
    assert scores["negative"].between(0, 1).all() and scores["satisfaction"].between(0, 10).all()


def test_the_scorer_redacts_and_scores_one_text(tfidf_run) -> None:
    out, _ = tfidf_run
    scorer = TextScorer.load(out)

    angry = scorer.score("Third late delivery, I'm done. Call me on (415) 555-0199, Karen.")
    happy = scorer.score("Fast delivery and great quality!")

    assert angry.redacted == "Third late delivery, I'm done. Call me on <PHONE>, <NAME>."
    assert angry.negative > happy.negative and angry.satisfaction < happy.satisfaction
    assert angry.sentiment == "negative"  # not merely "not positive": neutral is a wrong answer too
    assert happy.sentiment == "positive" and happy.theme is None


ANGRY = "This is unacceptable, my order came four days late again. I want to cancel."


def test_the_encoder_path_trains_heads_and_themes_on_a_few_customers(
    tables: dict[str, pd.DataFrame], company: Path, tmp_path: Path
) -> None:
    few = _few_customers(tables, 15)
    options = TextOptions(encoder=EncoderConfig(max_tokens=48, batch_size=32), n_themes=3)

    result = train_text(few, DEFAULT_METRICS, tmp_path / "text", options)

    assert set(result.comparison) == {"tfidf", "linear", "mlp", "stacked"}
    assert result.models.themes is not None and len(result.models.themes.themes_) == 3
    impact = result.models.metrics["themes"]
    assert impact, "no theme's impact was measured"  # an empty list would pass every check below
    assert {row["theme"] for row in impact} <= {0, 1, 2}
    assert all(row["customers"] >= 1 and row["texts"] >= row["customers"] for row in impact)
    scorer = TextScorer.load(tmp_path / "text", EncoderConfig(max_tokens=48, batch_size=32))
    angry = scorer.score(ANGRY, source="tickets")
    happy = scorer.score("Fast delivery and great quality, thank you!", source="tickets")
    assert angry.sentiment == "negative" and happy.sentiment == "positive"
    labels = {theme.label for theme in result.models.themes.themes_}
    assert angry.theme in labels and angry.theme_id in {0, 1, 2}  # a complaint gets its theme
    assert happy.theme is None  # praise is not filed under a complaint's theme
    new = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "at": pd.to_datetime(["2026-01-02", "2026-01-03"], utc=True),
            "source": ["tickets", "calls"],
            "text": ["My parcel never came, write to ann@mail.com", "Agent: hello. Customer: refund please"],
        }
    )
    rows = scorer.score_table(new)
    assert list(rows.columns) == ["customer_id", "at", "source", "satisfaction", "negative", "theme"]
    assert set(rows["theme"]) <= {result.models.theme_name(i) for i in range(3)}  # contacts get one
    truth = pd.read_parquet(company / "_truth" / "pii.parquet")
    assert _planted_values_found(tmp_path / "text", truth) == []


def test_no_planted_pii_reaches_any_written_artefact(tfidf_run, company: Path) -> None:
    out, _ = tfidf_run
    truth = pd.read_parquet(company / "_truth" / "pii.parquet")

    assert len(truth) > 100
    assert _planted_values_found(out, truth) == []


def test_the_artefact_scan_does_find_a_planted_value(company: Path, tmp_path: Path) -> None:
    truth = pd.read_parquet(company / "_truth" / "pii.parquet")
    email = truth.loc[truth["pii_type"] == "email", "value"].iloc[0]
    (tmp_path / "leak.json").write_text(f'{{"example": "write to {email} now"}}')

    assert _planted_values_found(tmp_path, truth) == [email]


def test_every_text_gets_one_score_row(tfidf_run, tables: dict[str, pd.DataFrame]) -> None:
    out, _ = tfidf_run
    scores = pd.read_parquet(out / TEXT_SCORES)
    comments = int(tables["surveys"]["comment"].notna().sum())

    expected = len(tables["tickets"]) + len(tables["calls"]) + len(tables["verbatims"]) + comments
    assert len(scores) == expected
    assert scores["at"].is_monotonic_increasing
