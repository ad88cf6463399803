"""Tell running services that the champions moved: `POST /admin/reload` with an admin key.

A service answers once the new models are loaded and swapped in (`serving.runtime.Runtime.reload`),
so the answer names the versions it serves from then on; that is what `retrain` checks.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from features.problems import DataProblem

ADMIN_KEY_VARIABLE = "CX_ADMIN_KEY"
RELOAD_PATH = "/admin/reload"
RELOAD_TIMEOUT_S = 300.0  # a reload loads every model before it answers: minutes on a busy machine


@dataclass(frozen=True)
class Notified:
    """What one service said to the reload call.

    Attributes:
        url: the reload endpoint called.
        ok: the service answered 200 and serves every version expected.
        model_versions: the versions it says it serves now (empty when it did not answer 200).
        error: why not, in words (None when ok).
    """

    url: str
    ok: bool
    model_versions: dict[str, str]
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values."""
        return asdict(self)


def reload_url(url: str) -> str:
    """The service's reload endpoint: `url` itself when it names it, else `url` + `/admin/reload`.

    Raises:
        DataProblem: for a URL that is not http(s)://host[:port][/path].
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DataProblem(f"--notify {url}: give the service's http(s) address, e.g. http://127.0.0.1:3000")
    path = parts.path.rstrip("/")
    return url if path.endswith(RELOAD_PATH) else f"{parts.scheme}://{parts.netloc}{path}{RELOAD_PATH}"


def admin_key(key_file: Path | None, environ: Mapping[str, str] = os.environ) -> str:
    """The admin key: the first line of `key_file`, else `CX_ADMIN_KEY` (never a command-line value).

    Raises:
        DataProblem: when neither holds a key.
    """
    if key_file is not None:
        try:
            lines = key_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DataProblem(f"--admin-key-file {key_file} cannot be read: {exc.strerror or exc}") from None
        if lines and lines[0].strip():
            return lines[0].strip()
        raise DataProblem(f"--admin-key-file {key_file} is empty; put an admin key on its first line")
    key = environ.get(ADMIN_KEY_VARIABLE, "").strip()
    if not key:
        raise DataProblem(
            f"--notify needs an admin key: set {ADMIN_KEY_VARIABLE} or give --admin-key-file "
            "(create one with `cxpredict keys create --role admin`)"
        )
    return key


def notify_service(
    url: str, key: str, expected: Mapping[str, str], timeout_s: float = RELOAD_TIMEOUT_S
) -> Notified:
    """Ask the service at `url` to reload; ok when it then serves every version in `expected`."""
    request = urllib.request.Request(
        url, data=b"", method="POST", headers={"Authorization": f"Bearer {key}", "User-Agent": "cxpredict"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # http(s) only: see reload_url
            served = dict(json.loads(response.read(65_536)).get("model_versions", {}))
    except urllib.error.HTTPError as exc:
        return Notified(url, False, {}, f"HTTP {exc.code}: {_detail(exc)}")
    except (OSError, ValueError) as exc:  # refused, reset, timed out, not JSON
        return Notified(url, False, {}, f"{type(exc).__name__}: {exc}")
    behind = {name: v for name, v in expected.items() if served.get(name) != v}
    if behind:
        lagging = ", ".join(f"{name} {served.get(name, 'none')} instead of {v}" for name, v in behind.items())
        return Notified(url, False, served, f"still serves {lagging}")
    return Notified(url, True, served)


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read(4096)).get("detail", exc.reason))
    except (OSError, ValueError, AttributeError):
        return str(exc.reason)
