"""Where, inside the workspace it serves, the dashboard reads what `cxpredict report` wrote.

Outputs never go into a workspace, except a report into one of these folders: the overview and the
Models page read its `summary.json` from there.
"""

from __future__ import annotations

# the demo's folder first, then the one `cxpredict report WORKSPACE --out WORKSPACE/report` writes
REPORT_FOLDERS = ("_out", "report")
SUMMARY_NAME = "summary.json"
