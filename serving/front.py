"""The outermost layers of the served app, outside BentoML's own middleware.

BentoML puts the middleware a service adds (`add_asgi_middleware`) inside its own: request metrics
labelled by the raw path, an OpenTelemetry span, an access-log line and a timeout task for every
request. On 2 cores those layers cost about four times what answering a cached customer does
(figures in docs/benchmarks.md, "Real-time service"), and the raw-path
label makes a metric series per customer id read. So the service's app is wrapped once more,
after BentoML built it: `Timed` (latency per route template) around `Guard` (keys and roles)
around the customer reads; every other request goes on to BentoML's stack unchanged.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from serving.asgi import ASGIApp, Receive, Scope, Send

CUSTOMER_ROUTE = "/customers/{customer_id}"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_ROUTE = "other"  # unknown paths share one label: a scan must not create a series per path
# from well under a cached read (~0.2 ms) to the request timeout
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def put_in_front(service: Any, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
    """Make `wrap(app)` the app BentoML serves for `service`, outside BentoML's middleware.

    BentoML's worker serves `service.to_asgi()`, with no hook after it; a subclass that wraps its
    result is the one seam (it adds no slots, so the instance can take it as its class).
    """

    class Fronted(type(service)):  # type: ignore[misc]
        __slots__ = ()

        def to_asgi(self, is_main: bool = True) -> ASGIApp:
            return wrap(super().to_asgi(is_main))

    service.__class__ = Fronted


@functools.cache
def _latency() -> Any:
    """The histogram, made on first use (BentoML's workers set the multiprocess folder after import)."""
    from prometheus_client import Histogram

    return Histogram(
        "cx_request_duration_seconds",
        "Time from a request's arrival to its answer, per route template, method and status",
        ["route", "method", "status"],
        buckets=BUCKETS,
    )


class Timed:
    """ASGI middleware: every HTTP request's latency, labelled by its route template."""

    def __init__(self, app: ASGIApp, routes: Iterable[str]) -> None:
        """Wrap `app`; `routes` are the fixed paths that get a label of their own."""
        self.app, self.routes = app, frozenset(routes)
        self._children: dict[tuple[str, str, int], Any] = {}  # labels() takes a lock: look up once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and observe how long its answer took."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500  # a request that raises counts as a 500

        async def noted(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self._child(self.route(scope["path"]), method, status).observe(time.perf_counter() - start)

    def route(self, path: str) -> str:
        """The label for a path: its route template, or `other`."""
        if path in self.routes:
            return path
        return CUSTOMER_ROUTE if path.startswith("/customers/") else OTHER_ROUTE

    def _child(self, route: str, method: str, status: int) -> Any:
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = _latency().labels(route, method, str(status))
        return child


class KnownPaths:
    """ASGI middleware: a path no route serves is answered 404 here, before BentoML's own layers.

    BentoML labels its request metrics with the raw path; only paths of the service's routes reach
    it, so its series stay as few as the routes (customer ids included: their reads are answered
    in front, and a malformed one is refused here).
    """

    def __init__(self, app: ASGIApp, routes: Callable[[], Iterable[str]]) -> None:
        """Wrap `app`; `routes()` gives the fixed paths served (the customer route is known already).

        Routes are read when a request comes, and again for a path not seen among them: the endpoints
        join the app when the service instance is made, which may be after this layer is.
        """
        self.app, self._routes = app, routes
        self.routes: frozenset[str] = frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass on a known path; answer any other."""
        path = scope.get("path", "")
        if scope["type"] == "http" and path not in self.routes:
            self.routes = frozenset(self._routes())
        if scope["type"] != "http" or path in self.routes:
            await self.app(scope, receive, send)
        elif not path.startswith("/customers/"):
            await _answer(send, 404, {"detail": "Not Found"})
        elif scope["method"] != "GET":
            await _answer(send, 405, {"detail": "Method Not Allowed"})
        elif _well_formed(path):
            await self.app(scope, receive, send)
        else:
            rule = "a customer id has 1 to 200 characters, no control character and no slash"
            await _answer(
                send, 422, {"detail": [{"loc": ["path", "customer_id"], "msg": rule, "type": "value_error"}]}
            )


def _well_formed(path: str) -> bool:
    from serving.fast_answers import PREFIX, VALID_ID

    return VALID_ID.fullmatch(path[len(PREFIX) :]) is not None


async def _answer(send: Send, status: int, detail: dict[str, Any]) -> None:
    body = json.dumps(detail).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
