"""The gate in front of every endpoint: API key and role, then the size of the body.

It runs as ASGI middleware around the whole service, BentoML's own routes included, so nothing
but the probes answers without a key. Refusals say only what the caller may know: no key or an
unknown key (401), a key whose role may not call this endpoint (403), a body too large (413).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from features.online_db import StoreUnavailable
from serving.asgi import ASGIApp, Receive, Scope, Send
from serving.keys import Principal, Role, allows

Authenticate = Callable[[str], Principal | None]

OPEN = {"/livez", "/readyz", "/healthz"}
# the dashboard's page and assets hold no data: the browser needs them to ask for a key at all
UI_PREFIX = "/ui"
PRINCIPAL = "cx.principal"  # where the caller is left in the ASGI scope for the endpoints
ANY_ROLE = None  # any valid key: the API docs and unknown paths (a 404 needs a key too)
# (method, path pattern, role needed); the first match wins
ROUTES: tuple[tuple[str, re.Pattern[str], Role], ...] = tuple(
    (method, re.compile(pattern), role)
    for method, pattern, role in (
        ("GET", r"/customers/[^/]+", Role.AGENT),
        ("GET", r"/worklist", Role.AGENT),
        ("POST", r"/worklist/handled", Role.AGENT),
        ("POST", r"/worklist/trends", Role.AGENT),
        ("GET", r"/timeline", Role.AGENT),
        ("GET", r"/history", Role.AGENT),
        ("GET", r"/overview", Role.MANAGER),
        ("GET", r"/models", Role.MANAGER),
        ("GET", r"/rules", Role.MANAGER),
        ("POST", r"/score", Role.AGENT),
        ("POST", r"/text/score", Role.AGENT),
        ("POST", r"/events", Role.INGEST),
        ("POST", r"/surveys", Role.INGEST),
        ("POST", r"/admin/reload", Role.ADMIN),
        ("GET", r"/metrics", Role.MONITOR),
    )
)


def needed_role(method: str, path: str) -> Role | None:
    """The role an endpoint needs; `ANY_ROLE` (None) where any valid key will do."""
    for route_method, pattern, role in ROUTES:
        if method == route_method and pattern.fullmatch(path):
            return role
    return ANY_ROLE


class Guard:
    """ASGI middleware: keys and roles, then a body-size limit, before the app sees a request."""

    def __init__(self, app: ASGIApp, open_gate: Callable[[], tuple[Authenticate, int]]) -> None:
        """Wrap `app`; `open_gate` gives the key check and the body limit, called on the first request.

        Opening late keeps the database connection in the worker process that serves requests.
        """
        self.app, self._open_gate = app, open_gate
        self._authenticate: Authenticate | None = None
        self.max_body_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or pass on one request."""
        if scope["type"] != "http" or scope["path"] in OPEN or is_ui(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            status = self._check(scope)
        except StoreUnavailable as exc:  # the keys cannot be read: neither yes nor no, but later
            status = 503, f"keys cannot be checked now, try again later: {exc}"
        if status is not None:
            await _refuse(send, *status)
            return
        body, too_large = await self._read_body(scope, receive)
        if too_large:
            await _refuse(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")
            return
        await self.app(scope, _replay(body, receive), send)

    def _check(self, scope: Scope) -> tuple[int, str] | None:
        token = _bearer(scope)
        if self._authenticate is None:
            self._authenticate, self.max_body_bytes = self._open_gate()
        principal = self._authenticate(token) if token else None
        if principal is None:
            return 401, "a valid API key is required: Authorization: Bearer <key>"
        scope[PRINCIPAL] = principal
        needed = needed_role(scope["method"], scope["path"])
        if needed is not None and not allows(principal.role, needed):
            return 403, "this key's role may not call this endpoint"
        return None

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        """The whole body, or (b"", True) as soon as it passes the limit (declared or actual)."""
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return b"", True
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", True
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks), False


def is_ui(path: str) -> bool:
    """Whether a path is the dashboard's page or one of its assets."""
    return path == UI_PREFIX or path.startswith(UI_PREFIX + "/")


def _bearer(scope: Scope) -> str | None:
    value = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the client's own messages (a disconnect, when it comes)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return dict(await receive())
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
