"""The layers in front of BentoML's app: latency per route template, customer reads, the seam."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from serving.fast_answers import FastAnswers
from serving.front import CUSTOMER_ROUTE, OTHER_ROUTE, Timed, put_in_front

Message = dict[str, Any]


async def _inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b"inner"})


def _get(app: Any, path: str) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    asyncio.run(app(scope, None, send))
    return sent


def test_paths_are_labelled_by_route_template_so_series_stay_few() -> None:
    timed = Timed(_inner, routes=["/score", "/events"])
    assert timed.route("/score") == "/score"
    assert timed.route("/customers/C0000001") == timed.route("/customers/anyone") == CUSTOMER_ROUTE
    assert timed.route("/wp-admin/login.php") == timed.route("/scoreboard") == OTHER_ROUTE


def test_timed_passes_the_answer_through_unchanged() -> None:
    sent = _get(Timed(_inner, routes=[]), "/anything")
    assert [m.get("status") for m in sent] == [418, None] and sent[1]["body"] == b"inner"


def test_a_cached_customer_is_answered_without_scoring_and_a_miss_is_scored() -> None:
    scored: list[str] = []

    def answer(customer_id: str) -> tuple[int, bytes]:
        scored.append(customer_id)
        return 404, b'{"detail":"no such customer"}'

    app = FastAnswers(_inner, lookup={"C1": b'{"customer_id":"C1"}'}.get, answer=answer)
    hit, miss = _get(app, "/customers/C1"), _get(app, "/customers/C2")
    assert (hit[0]["status"], hit[1]["body"]) == (200, b'{"customer_id":"C1"}')
    assert (miss[0]["status"], scored) == (404, ["C2"])
    assert dict(hit[0]["headers"])[b"content-length"] == b"20"


@pytest.mark.parametrize(
    "path", ["/customers/", "/customers/a/b", "/customers/" + "x" * 201, "/customers/\x01"]
)
def test_a_malformed_customer_path_goes_on_to_the_routes_to_be_refused(path: str) -> None:
    app = FastAnswers(
        _inner, lookup=lambda _: pytest.fail("looked up"), answer=lambda _: pytest.fail("scored")
    )
    assert _get(app, path)[0]["status"] == 418


def test_put_in_front_wraps_what_the_class_would_serve() -> None:
    class Service:
        __slots__ = ("name",)

        def __init__(self) -> None:
            self.name = "s"

        def to_asgi(self, is_main: bool = True) -> Any:
            return ("app", is_main)

    service = Service()
    put_in_front(service, lambda app: ("front", app))
    assert service.to_asgi(False) == ("front", ("app", False)) and isinstance(service, Service)
