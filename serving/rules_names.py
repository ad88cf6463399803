"""The names a workspace's rules may read: its features, customer attributes and survey metrics.

They come from the catalogue the service's online store was built with, else from the workspace's
tables, so `cxpredict rules check` can refuse a misspelt feature that would never let a rule fire.
"""

from __future__ import annotations

from pathlib import Path

from features.catalogue import Catalogue
from features.config import ConfigError, load_config
from features.discover import build_catalogue
from features.online import OnlineStore
from features.problems import WorkspaceError
from features.validation import load_workspace
from serving.rules_file import Known
from serving.state import database_url

ATTRIBUTE_PREFIX = "customer_"  # customer attributes are features named customer_<column>


def workspace_names(workspace: Path) -> Known | None:
    """The names of `features`, `attributes` and `scores` in this workspace; None when unknown."""
    catalogue = stored_catalogue(workspace) or built_catalogue(workspace)
    return None if catalogue is None else names_of(catalogue)


def names_of(catalogue: Catalogue) -> Known:
    """The context names a catalogue gives the rules."""
    features = {f.name for f in catalogue.features}
    attributes = {n.removeprefix(ATTRIBUTE_PREFIX) for n in features if n.startswith(ATTRIBUTE_PREFIX)}
    return {"features": features, "attributes": attributes, "scores": set(catalogue.metrics)}


def stored_catalogue(workspace: Path) -> Catalogue | None:
    """The catalogue of the service's online store, if it has been materialised (nothing is created)."""
    url = database_url(workspace, create=False)
    if not url.startswith(("postgresql://", "postgres://")) and not Path(url).exists():
        return None
    store = OnlineStore.open(url)
    try:
        return store.catalogue
    except LookupError:
        return None
    finally:
        store.close()


def built_catalogue(workspace: Path) -> Catalogue | None:
    """The catalogue the workspace's tables give, if they pass validation."""
    try:
        loaded = load_workspace(workspace, load_config(workspace))
    except (ConfigError, WorkspaceError):
        return None
    return build_catalogue(loaded.tables, loaded.config) if "customers" in loaded.tables else None
