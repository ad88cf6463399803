"""Turn the Women's E-Commerce Clothing Reviews case into a cxpredict workspace.

The shared folder already holds it in the contract's shape (`customers.csv`, `surveys.csv` with one CSAT
answer per review and no `comment` column, `verbatims.csv` with the review's title and text); this
script copies the tables and `cx.yml`, as a user would lay out a workspace. Every answer carries one
placeholder date, so `cxpredict text train` compares its heads on held-out customers by itself.

Usage: python -m examples.womens_clothing.prepare [SOURCE_FOLDER] [WORKSPACE]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from examples.holdouts import shared_data

HERE = Path(__file__).resolve().parent
TABLES = ("customers.csv", "surveys.csv", "verbatims.csv")


def prepare(source: Path, workspace: Path) -> None:
    """Copy the three tables and cx.yml into `workspace` (writable copies of read-only files)."""
    workspace.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        shutil.copyfile(source / name, workspace / name)
    shutil.copyfile(HERE / "cx.yml", workspace / "cx.yml")
    print(f"{workspace}: the {', '.join(TABLES)} of {source}")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data("womens_clothing")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("workspaces/womens_clothing")
    prepare(source, target)
