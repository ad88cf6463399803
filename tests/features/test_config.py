from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from features.config import ConfigError, WorkspaceConfig, load_config


def write_config(folder: Path, text: str) -> Path:
    (folder / "cx.yml").write_text(text)
    return folder


def test_a_workspace_without_cx_yml_gets_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == WorkspaceConfig()
    assert config.churn.horizon_days == 90
    assert set(config.scales) >= {"nps", "csat", "ces", "cxi_effective", "cxi_easy", "cxi_enjoy"}


def test_declared_metrics_churn_and_events_are_read(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
metrics:
  effort5: {low: 1, high: 5, negative_min: 4, description: effort on a five-point scale}
churn:
  horizon_days: 60
  cutoffs: [2024-01-01, 2024-02-01]
events:
  logins:
    time_column: logged_at
    aggregations:
      - {column: "*", aggs: [count, days_since_last]}
      - {column: minutes, aggs: [sum, mean]}
exclude_columns:
  customers: [email]
""",
    )
    config = load_config(tmp_path)
    assert config.scales["effort5"].is_negative(4) and not config.scales["effort5"].is_negative(3)
    assert config.churn.cutoffs == (dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    assert config.events["logins"].aggregations[1].aggs == ("sum", "mean")
    assert config.exclude_columns == {"customers": ("email",)}


def test_an_unknown_key_is_an_error_naming_its_line(tmp_path: Path) -> None:
    write_config(tmp_path, "churn:\n  horizon_days: 30\n  horizon_dayz: 60\n")
    with pytest.raises(ConfigError, match=r"cx.yml: line 3: churn.horizon_dayz: unknown key"):
        load_config(tmp_path)


def test_a_bad_value_is_an_error_naming_its_line(tmp_path: Path) -> None:
    write_config(tmp_path, "windows_days: [7, 30]\nchurn:\n  horizon_days: -5\n")
    with pytest.raises(ConfigError, match=r"line 3: churn.horizon_days: Input should be greater than 0"):
        load_config(tmp_path)


def test_a_metric_whose_negative_side_lies_outside_its_scale_is_an_error(tmp_path: Path) -> None:
    write_config(tmp_path, "metrics:\n  effort5: {low: 1, high: 5, negative_max: 9}\n")
    with pytest.raises(ConfigError, match=r"line 2: metrics.effort5: .*outside its scale"):
        load_config(tmp_path)


def test_an_event_table_may_not_redefine_a_contract_table(tmp_path: Path) -> None:
    write_config(tmp_path, "events:\n  tickets: {time_column: opened_at}\n")
    with pytest.raises(ConfigError, match="contract tables"):
        load_config(tmp_path)


def test_yaml_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    write_config(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="line 1: expected a mapping"):
        load_config(tmp_path)


def test_config_objects_are_frozen() -> None:
    config = WorkspaceConfig()
    with pytest.raises(ValueError, match="frozen"):
        config.churn.horizon_days = 5  # type: ignore[misc]


def test_cli_flags_override_the_file(tmp_path: Path) -> None:
    write_config(tmp_path, "churn:\n  horizon_days: 60\n  n_cutoffs: 3\n")
    config = load_config(tmp_path).with_overrides(churn={"horizon_days": 30, "cutoffs": None})
    assert (config.churn.horizon_days, config.churn.n_cutoffs) == (30, 3)
