"""The service's admin commands: `cxpredict rules`, `cxpredict actions` and `cxpredict keys`.

They act on the workspace's service database (`CX_DATABASE_URL`, else `WORKSPACE/_service/cx.db`),
the same one the running service uses, so they work while it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from serving.keys import Role

if TYPE_CHECKING:
    from serving.state import Database

console = Console()
EXIT_INVALID = 2  # as every cxpredict command: invalid input

Workspace = Annotated[Path, typer.Argument(help="Workspace folder (holds rules.yml and the service state).")]
rules_app = typer.Typer(
    help="Check the workspace's rules.yml and show what each rule does.", no_args_is_help=True
)
actions_app = typer.Typer(
    help="The actions outbox: queued, delivered, failed and dead deliveries.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="API keys for the service's roles: agent, ingest, manager, admin, monitor.",
    no_args_is_help=True,
)


@rules_app.command("check")
def rules_check(
    workspace: Workspace,
    file: Annotated[
        Path | None, typer.Option(help="Rules file to check (default: WORKSPACE/rules.yml).")
    ] = None,
) -> None:
    """Validate the rules file: every problem with its line and column; exit code 2 when invalid."""
    from serving.rules import describe
    from serving.rules_file import RULES_FILE, RulesError, load_rules
    from serving.rules_names import workspace_names

    path = file or workspace / RULES_FILE
    if not path.exists():
        console.print(f"{path}: no such file", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)
    known = workspace_names(workspace)
    try:
        rules = load_rules(path, known)
    except RulesError as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    _print_rows("Rules", [describe(rule) for rule in rules])
    checked = "names checked against the workspace" if known else "feature names not checked (no tables)"
    console.print(
        f"✓ {path}: {len(rules)} rules, valid; {checked}", style="green", markup=False, soft_wrap=True
    )


@actions_app.command("list")
def actions_list(
    workspace: Workspace,
    status: Annotated[
        str | None, typer.Option(help="Only this status: queued, failed, delivered or dead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 50,
) -> None:
    """List the outbox's deliveries with their status, tries and last error, and count each status."""
    from serving.outbox import STATUSES, Outbox

    if status is not None and status not in STATUSES:
        console.print(f"--status {status!r}: use one of {', '.join(STATUSES)}", style="red", markup=False)
        raise typer.Exit(EXIT_INVALID)
    outbox = Outbox(_open_state(workspace))
    columns = ("created_at", "status", "attempts", "rule", "kind", "team", "customer_id", "idempotency_key")
    _print_rows(
        "Actions outbox", [_when(row) for row in outbox.list(status, limit)], (*columns, "last_error")
    )
    console.print(", ".join(f"{name} {count:,}" for name, count in outbox.counters().items()))


@actions_app.command("requeue")
def actions_requeue(workspace: Workspace) -> None:
    """Give every dead delivery a fresh set of tries (after fixing the receiver)."""
    import time

    from serving.outbox import Outbox

    outbox = Outbox(_open_state(workspace))
    count = outbox.requeue_dead(time.time())
    outbox.db.commit()
    console.print(f"{count:,} dead deliveries queued again")


@actions_app.command("purge")
def actions_purge(
    workspace: Workspace,
    older_than_days: Annotated[
        float, typer.Option(min=0, help="Forget deliveries delivered this long ago.")
    ] = 30,
) -> None:
    """Forget old delivered deliveries (queued, failed and dead ones are kept)."""
    import time

    from serving.outbox import Outbox

    outbox = Outbox(_open_state(workspace))
    count = outbox.purge(time.time() - older_than_days * 86_400)
    outbox.db.commit()
    console.print(f"{count:,} delivered deliveries older than {older_than_days:g} days forgotten")


@keys_app.command("create")
def keys_create(
    workspace: Workspace,
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    name: Annotated[str, typer.Option(help="A unique name saying who or what uses the key.")],
) -> None:
    """Create a key and print it once: only its hash is stored, so it cannot be shown again."""
    from serving.keys import KeyStore

    try:
        token = KeyStore(_open_state(workspace)).create(role, name)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"Key {name!r} ({role.value}), shown this once; keep it secret:")
    print(token)  # plain, so it can be piped


@keys_app.command("list")
def keys_list(workspace: Workspace) -> None:
    """List the keys' names, roles and creation times (never the keys)."""
    from serving.keys import KeyStore

    _print_rows("API keys", KeyStore(_open_state(workspace)).list())


@keys_app.command("revoke")
def keys_revoke(
    workspace: Workspace, name: Annotated[str, typer.Option(help="The name of the key to revoke.")]
) -> None:
    """Revoke a key at once: the service refuses it from the next request on."""
    from serving.keys import KeyStore

    if not KeyStore(_open_state(workspace)).revoke(name):
        console.print(f"no key named {name!r}", style="red", markup=False)
        raise typer.Exit(EXIT_INVALID)
    console.print(f"Key {name!r} revoked")


def _open_state(workspace: Path) -> Database:
    """The workspace's service database; a path that is no workspace is refused, never given one."""
    from features.io import is_workspace
    from serving.state import open_database

    if not is_workspace(workspace):
        console.print(
            f"{workspace} is not a cxpredict workspace (no customers table, cx.yml or _service folder): "
            "check the path",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INVALID)
    return open_database(workspace)


def _print_rows(title: str, rows: list[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    table = Table(title=title, title_justify="left")
    names = list(columns or (rows[0] if rows else []))
    for column in names:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in names))
    console.print(table)


def _when(row: dict[str, Any]) -> dict[str, Any]:
    """Show the outbox's epoch seconds as UTC times."""
    stamp = row["created_at"]
    shown = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return row | {"created_at": shown}
