"""Rules files: every problem reported with its line and column; conditions evaluated safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from serving.conditions import ConditionError, compile_condition
from serving.rules import FlagAction
from serving.rules_file import RulesError, load_rules

CONTEXT: dict[str, Any] = {
    "customer_id": "C1",
    "churn": {"probability": 0.62, "horizon_days": 90},
    "scores": {"nps": {"score": 4.0, "negative": 0.8, "detractor": 0.8}},
    "flags": ["vip"],
    "features": {"deliveries_late_count_30d": 2, "tickets_open": 0},
    "attributes": {"segment": "retail"},
    "value": 120.0,
}

GOOD = """\
rules:
  - name: churn-alert
    when: churn.probability > 0.4 and features.deliveries_late_count_30d >= 1
    cooldown_days: 7
    actions:
      - notify: {team: retention, url: "http://127.0.0.1:9000/hook"}
      - worklist: {team: retention, priority: 90}
      - flag: churn-risk
      - survey: {metric: nps, url: "http://127.0.0.1:9000/survey", fatigue_days: 30, quota_per_day: 5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(RulesError) as caught:
        load_rules(write(tmp_path, text))
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_a_valid_file_loads_its_rules_and_actions(tmp_path: Path) -> None:
    [rule] = load_rules(write(tmp_path, GOOD))
    assert rule.spec.name == "churn-alert"
    assert [a.kind for a in rule.spec.actions] == ["notify", "worklist", "flag", "survey"]
    assert rule.spec.actions[2].spec == FlagAction(name="churn-risk")
    assert rule.cooldown_days(rule.spec.actions[0]) == 7


def test_a_missing_file_means_no_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "rules.yml") == []


def test_a_condition_error_names_the_line_and_column_in_the_file(tmp_path: Path) -> None:
    text = GOOD.replace("features.deliveries", "features.__class__.deliveries")
    [(line, column, message)] = problems_of(tmp_path, text)
    assert (line, column) == (3, 48)
    assert "__class__" in message and "churn-alert" in message


def test_a_quoted_condition_counts_its_quote(tmp_path: Path) -> None:
    text = GOOD.replace(
        "when: churn.probability > 0.4 and features.deliveries_late_count_30d >= 1",
        'when: "scores.nps.negative > 0.5 and open(1)"',
    )
    [(line, column, message)] = problems_of(tmp_path, text)
    assert (line, column) == (3, 42)
    assert "calls are not allowed" in message


def test_a_syntax_error_in_a_block_condition_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        "when: churn.probability > 0.4 and features.deliveries_late_count_30d >= 1",
        "when: |\n      churn.probability > 0.4\n        and and value > 1",
    )
    [(line, column, message)] = problems_of(tmp_path, text)
    assert (line, column) == (5, 13)
    assert "syntax error" in message


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        GOOD.replace("priority: 90}", "priority: 90, colour: red}")
        .replace(', url: "http://127.0.0.1:9000/survey"', "")
        .replace(">= 1", ">= 1 and features.x(1)")
    )
    found = problems_of(tmp_path, text)
    assert [(line, column) for line, column, _ in found] == [(3, 83), (7, 51), (9, 17)]
    assert "unknown key" in found[1][2] and "url: Field required" in found[2][2]


def test_broken_yaml_names_where_it_breaks(tmp_path: Path) -> None:
    [(line, _, message)] = problems_of(tmp_path, GOOD.replace("cooldown_days: 7", "cooldown_days: [7"))
    assert line >= 4 and "not valid YAML" in message


def test_an_action_has_exactly_one_kind_and_names_are_unique(tmp_path: Path) -> None:
    text = GOOD + GOOD.split("\n", 1)[1].replace("- flag: churn-risk", "- {flag: x, worklist: {team: t}}")
    found = problems_of(tmp_path, text)
    assert [(line, message.split(":")[0]) for line, _, message in found] == [
        (10, "rule 'churn-alert'"),
        (16, "rules.1.actions.2"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn.probability > 0.4 and features.deliveries_late_count_30d >= 1", True),
        ("churn.probability > 0.7", False),
        ('"vip" in flags and not "churn-risk" in flags', True),
        ('scores.nps.negative >= 0.8 or attributes.segment == "business"', True),
        ('features["tickets_open"] in [1, 2]', False),
        ("churn.probability * value > 50", True),
        ("churn.probability > 0.4 and\n  value < 100", False),
    ],
)
def test_conditions_evaluate_over_the_context(text: str, expected: bool) -> None:
    assert compile_condition(text).holds(CONTEXT) is expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('__import__("os").system("true")', "calls are not allowed"),
        ("churn.__class__", "private"),
        ("features._secret > 1", "private"),
        ("open", "unknown name"),
        ("(lambda: 1)", "lambdas"),
        ("[f for f in flags]", "ListComp"),
        ("(x := 1)", "assignments"),
        ("flags[0:1]", "literal key"),
        ("features[customer_id]", "literal key"),
        ("2 ** 1000000", "Pow"),
        ("import os", "syntax error"),
    ],
)
def test_unsafe_conditions_are_refused_before_they_run(text: str, why: str) -> None:
    with pytest.raises(ConditionError, match=why):
        compile_condition(text)


def test_a_missing_field_is_an_evaluation_error_not_a_python_attribute() -> None:
    with pytest.raises(ConditionError, match="keys"):
        compile_condition("churn.keys").holds(CONTEXT)
    with pytest.raises(ConditionError, match="nope"):
        compile_condition("features.nope > 1").holds(CONTEXT)


def test_a_misspelt_feature_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    known = {"features": {"deliveries_late_count_30d", "tickets_open_count"}, "scores": {"nps"}}
    path = write(tmp_path, GOOD.replace("deliveries_late_count_30d", "deliveries_late_count_3d"))
    with pytest.raises(RulesError) as caught:
        load_rules(path, known)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (3, 48)
    assert (
        "'deliveries_late_count_3d'" in problem.message and "'deliveries_late_count_30d'" in problem.message
    )
    assert len(load_rules(write(tmp_path, GOOD), known)) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[[1]*99999]*99999 == []", "arithmetic takes numbers"),
        ('"%01000000000d" % 1 == "1"', "arithmetic takes numbers"),
        ("flags * 3 == []", None),  # a list in a field: refused when evaluated, below
        ("+".join(["1"] * 600) + " > 0", "nested too deeply"),
        ("not " * 5000 + "True", "at most 2000 characters"),
        ("not " * 400 + "True", "nested too deeply"),
        ("(" * 300 + "1" + ")" * 300 + " > 0", "syntax error"),
        ("value > " + "9" * 40, "number literal"),
        ("customer_id == '" + "x" * 600 + "'", "text literal"),
        ("value in [" + ",".join(["1"] * 400) + "]", "too long"),
    ],
)
def test_costly_conditions_are_refused_at_load_in_one_sentence(text: str, why: str | None) -> None:
    if why is None:
        with pytest.raises(ConditionError, match="arithmetic takes numbers"):
            compile_condition(text).holds(CONTEXT)
        return
    with pytest.raises(ConditionError, match=why) as refused:
        compile_condition(text)
    assert "\n" not in refused.value.message


def test_arithmetic_on_a_text_field_is_an_evaluation_error_not_a_gigabyte() -> None:
    with pytest.raises(ConditionError, match="arithmetic takes numbers, got str and int"):
        compile_condition("customer_id * 999999999 == ''").holds(CONTEXT)
    assert compile_condition("value * 2 - 1 > 200 and value % 7 == 1").holds(CONTEXT)


def test_an_evaluation_past_its_time_budget_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("serving.conditions.BUDGET_S", 0.0)  # every evaluation is already late
    with pytest.raises(ConditionError, match="over its budget"):
        compile_condition("value > 1").holds(CONTEXT)


def test_a_rules_file_that_is_not_utf8_is_one_problem_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_bytes(b"rules:\n  - name: caf\xe9\n")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert [(p.line, p.column) for p in refused.value.problems] == [(2, 14)]
    assert str(refused.value) == f"{path}:2:14: not UTF-8 text: save the file as UTF-8"


def test_a_costly_rule_in_a_file_is_reported_on_one_line(tmp_path: Path) -> None:
    costly = GOOD.replace(
        "churn.probability > 0.4 and features.deliveries_late_count_30d >= 1", '"[[1]*99999]*99999 == []"'
    )
    problems = problems_of(tmp_path, costly)
    assert len(problems) == 1 and "arithmetic takes numbers" in problems[0][2]
    assert problems_of(tmp_path, "rules: [\n")[0][2].count("\n") == 0  # broken YAML too


@pytest.mark.parametrize(
    "content",
    [
        b"rules:\n  - name: caf\xe9\n",
        GOOD.replace("churn.probability > 0.4", "not " * 5000 + "True").encode(),
        GOOD.replace("churn.probability > 0.4", '"%01000000000d" % 1 == "1"').encode(),
    ],
)
def test_rules_check_answers_a_broken_file_in_one_line_per_problem(tmp_path: Path, content: bytes) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    (tmp_path / "rules.yml").write_bytes(content)
    result = CliRunner().invoke(app, ["rules", "check", str(tmp_path)], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
