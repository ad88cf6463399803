"""`GET /customers/{id}` answered from the answer cache, in front of the framework's routing.

A cached answer is ready bytes (`serving.answers`): a dict lookup. Behind this middleware a request
still passes BentoML's context middleware, two routers, FastAPI's own middleware stack and its
dependency injection, which hands the service instance over through a worker thread: together
several times the cost of the answer, and the thread hand-offs queue behind each other under load.
BentoML's metrics, tracing and access log wrap this middleware, and the key check (`Guard`) runs
before it, so a fast answer is counted, traced, logged and guarded as any other. Anything else, a
cache miss included, goes on to the FastAPI route, which declares the endpoint in the API document
and scores the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from serving import metrics

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]
Lookup = Callable[[str], bytes | None]

PREFIX = "/customers/"


class FastAnswers:
    """ASGI middleware: a cached customer's answer, or the request passed on unchanged."""

    def __init__(self, app: ASGIApp, lookup: Lookup) -> None:
        """Wrap `app`; `lookup(customer_id)` gives the cached JSON, or None to pass the request on."""
        self.app, self.lookup = app, lookup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the cache or pass on."""
        body = self._cached(scope)
        if body is None:
            await self.app(scope, receive, send)
            return
        metrics.count_scores("customers")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _cached(self, scope: Scope) -> bytes | None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
            return None
        path: str = scope["path"]
        customer_id = path[len(PREFIX) :]
        if not path.startswith(PREFIX) or not customer_id or "/" in customer_id:
            return None  # not this route: the router decides what it is
        return self.lookup(customer_id)
