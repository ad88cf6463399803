"""What one service process serves, read once from its environment into a frozen object.

`cxpredict serve` sets these variables before BentoML starts its workers: a worker imports the
service class by name, so the environment is how the command line reaches it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from models.mlflow_config import MlflowConfig, load_mlflow_config

WORKSPACE_VARIABLE = "CX_WORKSPACE"
MLFLOW_CONFIG_VARIABLE = "CX_MLFLOW_CONFIG"
MAX_BODY_VARIABLE = "CX_MAX_BODY_BYTES"
RULES_FILE = "rules.yml"
DEFAULT_MAX_BODY = 1_000_000
WEDGED_VARIABLE = "CX_WEDGED_S"
DEFAULT_WEDGED_S = 30.0  # a request holding a lock this long has stopped: /readyz turns false
MODEL_POLL_VARIABLE = "CX_MODEL_POLL_S"  # look for moved @champion aliases this often (0: never)


@dataclass(frozen=True)
class ServiceSettings:
    """The workspace served, where its models live, and the request limits."""

    workspace: Path
    mlflow: MlflowConfig
    max_body_bytes: int = DEFAULT_MAX_BODY
    wedged_s: float = DEFAULT_WEDGED_S
    model_poll_s: float = 0.0

    @property
    def rules_path(self) -> Path:
        """The CX managers' rules file."""
        return self.workspace / RULES_FILE


def load_settings(environ: Mapping[str, str] = os.environ) -> ServiceSettings:
    """Settings from `CX_WORKSPACE`, `CX_MLFLOW_CONFIG` (default `mlflow.yml`) and the limits.

    The limits: `CX_MAX_BODY_BYTES`, and `CX_WEDGED_S` (a request holding a lock longer: not ready).
    `CX_MODEL_POLL_S`: reload when a serving alias moved, looked at this often (0, the default: never).

    Raises:
        ValueError: when `CX_WORKSPACE` is not set or is not a folder.
    """
    workspace = Path(environ.get(WORKSPACE_VARIABLE, ""))
    if not environ.get(WORKSPACE_VARIABLE) or not workspace.is_dir():
        raise ValueError(f"{WORKSPACE_VARIABLE} must name the workspace folder to serve, got {workspace!s}")
    mlflow_file = Path(environ.get(MLFLOW_CONFIG_VARIABLE, "mlflow.yml"))
    max_body = int(environ.get(MAX_BODY_VARIABLE, DEFAULT_MAX_BODY))
    wedged_s = float(environ.get(WEDGED_VARIABLE, DEFAULT_WEDGED_S))
    model_poll_s = _seconds(environ.get(MODEL_POLL_VARIABLE, "0"), MODEL_POLL_VARIABLE)
    mlflow = load_mlflow_config(mlflow_file, environ)
    return ServiceSettings(workspace.resolve(), mlflow, max_body, wedged_s, model_poll_s)


def _seconds(text: str, variable: str) -> float:
    """A finite number of seconds, 0 or more, from an environment variable's text."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{variable} must be a number of seconds, 0 or more, got {text!r}")
    return seconds


def service_environment(workspace: Path, mlflow_file: Path) -> dict[str, str]:
    """The variables that make a service process serve `workspace` with the models of `mlflow_file`."""
    return {WORKSPACE_VARIABLE: str(workspace.resolve()), MLFLOW_CONFIG_VARIABLE: str(mlflow_file.resolve())}
