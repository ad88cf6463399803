"""A real webhook receiver on loopback for tests: records every request, can fail on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """What arrived, and how to answer: `failing` answers 503 to everything, `delay_s` answers late."""

    port: int = 0
    failing: bool = False
    redirect: str | None = None  # answer 307 to this location instead
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    arrived: list[str] = field(default_factory=list)  # every request's key as it arrives, answered or not
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def accepted_keys(self) -> list[str]:
        return [r.headers["Idempotency-Key"] for r in self.accepted()]

    def idle(self) -> bool:
        """No request is being answered now."""
        with self.lock:
            return self.in_flight == 0


def wait_for(condition: Callable[[], object], timeout_s: float = 20.0, what: str = "the condition") -> None:
    """Poll `condition` until it holds; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.in_flight += 1
                receiver.arrived.append(self.headers.get("Idempotency-Key", ""))
            try:
                self._answer(body)
            finally:
                with receiver.lock:
                    receiver.in_flight -= 1

        def _answer(self, body: bytes) -> None:
            time.sleep(receiver.delay_s)
            status = 503 if receiver.failing else 307 if receiver.redirect else 200
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status))
            self.send_response(status)
            if receiver.redirect:
                self.send_header("Location", receiver.redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    """Run `receiver` on its port (a free one when 0) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
