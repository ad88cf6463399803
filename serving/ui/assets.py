"""The dashboard's page and assets, answered in front of the service from files of the package.

They hold no data (the page asks the API for it with the key the user gives), so they are served
without a key; only the fixed set of files below, never a path taken from the request.
"""

from __future__ import annotations

import functools
from importlib import resources

from serving.asgi import ASGIApp, Receive, Scope, Send
from serving.auth import is_ui

FILES = {
    "/ui": ("index.html", "text/html; charset=utf-8"),
    "/ui/": ("index.html", "text/html; charset=utf-8"),
    "/ui/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/ui/app.css": ("app.css", "text/css; charset=utf-8"),
}
# the page runs only its own script and style, and talks only to the service that served it
POLICY = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@functools.cache
def _content(name: str) -> bytes:
    return resources.files("serving.ui").joinpath("static", name).read_bytes()


class Assets:
    """ASGI middleware: GET or HEAD of a dashboard path answered here; everything else passed on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a dashboard asset, or pass the request on."""
        if scope["type"] != "http" or not is_ui(scope["path"]):
            await self.app(scope, receive, send)
            return
        found = FILES.get(scope["path"])
        if scope["method"] not in ("GET", "HEAD"):
            status, body, kind = 405, b"method not allowed", "text/plain"
        elif found is None:
            status, body, kind = 404, b"not found", "text/plain"
        else:
            status, body, kind = 200, _content(found[0]), found[1]
        headers = [
            (b"content-type", kind.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"content-security-policy", POLICY),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-cache"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
