"""Secrets from mounted files: `NAME_FILE` names a file whose content becomes the variable `NAME`.

Orchestrators mount secrets as files (Docker and Compose secrets under `/run/secrets`, Kubernetes
Secret volumes) so that they never show in `docker inspect`, `ps e` or a crash dump of the
environment. Each process reads them once, at its start, before anything reads the variable:
the CLI's callback, and the service class when BentoML starts a worker (which may not have passed
through the CLI, as with `bentoml serve cxpredict:latest`).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

SUFFIX = "_FILE"
# what may be secret: database and tracking credentials (a URL may hold a password), key material
SECRET_VARIABLES = (
    "CX_DATABASE_URL",
    "CX_WEBHOOK_SECRET",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
)


def read_secret_files(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Set each secret variable whose `_FILE` twin is set from that file's content; the names set.

    A trailing newline (as `echo` and most editors leave) is not part of the secret. Setting both a
    variable and its `_FILE` twin to different values is a mistake, not a precedence to guess at;
    the same value twice is what a worker sees after its parent process read the file.

    Raises:
        ValueError: when a file cannot be read or is empty, or both forms disagree.
    """
    done = []
    for name in SECRET_VARIABLES:
        path = environ.get(name + SUFFIX)
        if not path:
            continue
        value = _read(name + SUFFIX, Path(path))
        if environ.get(name) and environ[name] != value:
            raise ValueError(f"{name} and {name}{SUFFIX} are both set and differ: set only one of them")
        environ[name] = value
        done.append(name)
    return done


def _read(variable: str, path: Path) -> str:
    """The content of a secret file without its trailing line ends."""
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ValueError(f"{variable}: cannot read {path}: {reason}") from None
    if not value.strip():
        raise ValueError(f"{variable}: {path} is empty")
    return value
