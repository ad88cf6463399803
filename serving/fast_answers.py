"""`GET /customers/{id}`, answered in front of the framework's routing.

A cached answer is ready bytes (`serving.answers`): a dict lookup. Behind this layer a request
would pass BentoML's middleware, two routers, FastAPI's own middleware stack and its dependency
injection: together several times the cost of the answer. A miss is scored in a worker thread, as
FastAPI would run the route. The FastAPI route stays: it declares the endpoint in the API document
and answers the ids this layer leaves to it, the malformed ones (422).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import anyio.to_thread

from serving import metrics
from serving.asgi import ASGIApp, Receive, Scope, Send

Lookup = Callable[[str], bytes | None]
Answer = Callable[[str], tuple[int, bytes]]

PREFIX = "/customers/"
# `schemas.CustomerId`'s rule, and no slash (that is another path); the route answers the rest
VALID_ID = re.compile(r"[^\x00-\x1f/]{1,200}")


class FastAnswers:
    """ASGI middleware: a customer's answer, from the cache or scored; any other request passed on."""

    def __init__(self, app: ASGIApp, lookup: Lookup, answer: Answer) -> None:
        """Wrap `app`; `lookup(id)` gives the cached JSON or None, `answer(id)` the status and JSON."""
        self.app, self.lookup, self.answer = app, lookup, answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a customer read or pass on."""
        customer_id = _customer_id(scope)
        if customer_id is None:
            await self.app(scope, receive, send)
            return
        cached = self.lookup(customer_id)
        if cached is None:  # scoring reads the database and runs the models: not on the event loop
            status, body = await anyio.to_thread.run_sync(self.answer, customer_id)
        else:
            status, body = 200, cached
        if status == 200:
            metrics.count_scores("customers")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _customer_id(scope: Scope) -> str | None:
    """The id of a well-formed `GET /customers/{id}`, else None."""
    if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(PREFIX):
        return None
    customer_id: str = scope["path"][len(PREFIX) :]
    return customer_id if VALID_ID.fullmatch(customer_id) else None
