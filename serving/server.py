"""Start the real service: the BentoML HTTP server with the `CxService` class, for one workspace."""

from __future__ import annotations

import os
from pathlib import Path

from models.mlflow_config import load_mlflow_config
from serving.scorer import champion_versions
from serving.settings import service_environment

SERVICE = "serving.service:CxService"
# one thread per model call: requests already run side by side, and OpenMP spinning on a busy
# 2-core machine stalls single-row predictions
QUIET_ENVIRONMENT = {"BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}


def check_servable(workspace: Path, mlflow_file: Path) -> dict[str, str]:
    """The champion versions the service would load.

    Raises:
        ValueError: when the workspace is not a folder.
        LookupError: when no model has a champion yet.
    """
    if not workspace.is_dir():
        raise ValueError(f"{workspace} is not a workspace folder")
    config = load_mlflow_config(mlflow_file)
    versions = champion_versions(config)
    if not versions:
        raise LookupError(
            f"no model has a @{config.serving_alias} in {config.tracking_uri}: "
            "run `cxpredict train WORKSPACE` first"
        )
    return versions


def serve(workspace: Path, mlflow_file: Path, *, host: str = "127.0.0.1", port: int = 3000) -> None:
    """Serve `workspace` until interrupted (the models load in the worker; /readyz says when)."""
    import bentoml

    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ.update(service_environment(workspace, mlflow_file))
    bentoml.serve(SERVICE, host=host, port=port, working_dir=os.getcwd(), blocking=True)
