from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from training.tracking import DEFAULT_TRACKING_URI, flatten_metrics, load_mlflow_config

REPO_CONFIG = Path(__file__).resolve().parents[2] / "mlflow.yml"


def test_the_repository_mlflow_yml_is_read_into_typed_settings() -> None:
    config = load_mlflow_config(REPO_CONFIG, environ={})
    assert config.tracking_uri == DEFAULT_TRACKING_URI
    assert config.model_name("churn") == "cx-churn" and config.model_name("satisfaction") == "cx-satisfaction"
    assert config.serving_alias == "champion" and config.shadow_alias == "challenger"
    assert config.promotion.min_auc_gain == 0.002 and config.promotion.max_ece_increase == 0.005


def test_the_environment_tracking_uri_wins_over_the_file() -> None:
    config = load_mlflow_config(REPO_CONFIG, environ={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})
    assert config.tracking_uri == "http://mlflow:5000"


def test_a_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_mlflow_config(tmp_path / "mlflow.yml", environ={}).tracking_uri == DEFAULT_TRACKING_URI


def test_a_typo_in_mlflow_yml_is_an_error_not_a_default(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.yml"
    path.write_text("promotion:\n  min_auc_gian: 0.01\n")
    with pytest.raises(pydantic.ValidationError, match="min_auc_gian"):
        load_mlflow_config(path, environ={})


def test_a_shadow_alias_that_is_the_serving_alias_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.yml"
    path.write_text("serving_alias: live\nshadow_alias: live\n")
    with pytest.raises(pydantic.ValidationError, match="shadow_alias must differ from serving_alias"):
        load_mlflow_config(path, environ={})


def test_nested_metrics_flatten_to_dotted_names_without_undefined_values() -> None:
    flat = flatten_metrics({"nps": {"mae": 1.5, "auc_negative": None}, "auc": 0.7})
    assert flat == {"nps.mae": 1.5, "auc": 0.7}
