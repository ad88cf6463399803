"""The demo's sample `rules.yml`: a first set a CX manager might write, so the worklist fills."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from features.validation import ValidationReport

DEMO_RULES = """\
# Written by `cxpredict demo` (kept if you change it). The service applies these to every customer
# an event arrives for; check them with `cxpredict rules check WORKSPACE`.
rules:
  - name: late-delivery-callback
    when: features.deliveries_late_count_30d >= 1 and churn.probability > 0.02
    cooldown_days: 7
    actions:
      - worklist: {team: retention, priority: 80}
      - flag: late-delivery
  - name: likely-detractor
    when: scores.nps.detractor > 0.5
    cooldown_days: 14
    actions:
      - worklist: {team: care, priority: 60}
      - flag: likely-detractor
"""


def write_demo_rules(console: Console, report: ValidationReport) -> None:
    """Write the sample rules into WORKSPACE/rules.yml unless the workspace has its own."""
    target: Path = report.workspace / "rules.yml"
    if target.exists():
        console.print(f"  {target} kept as it is")
        return
    target.write_text(DEMO_RULES, encoding="utf-8")
    console.print(f"  sample rules → {target} (the service's worklist fills as events arrive)")
