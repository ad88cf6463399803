"""Each customer's answer to `GET /customers/{id}`, kept as JSON bytes until their scores change.

A read is then a dict lookup and one number written: the age of the features, which grows with the
clock. Answers are dropped when a process refreshes a customer (events, surveys, the flags rules
set): this one at once, the others on the same Postgres when its change reaches them
(`serving.changes`). They are ignored after a models reload (their generation). They are kept as
bytes in plain tuples, not as response objects: the garbage collector does not track them, so a
million cached customers do not lengthen its full collections, which stall every request in flight.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

from serving.schemas import CustomerScores

CACHE_SIZE = 100_000
AGE_FIELD = b'"age_seconds":'

FORGOTTEN = -1  # the generation of a dropped answer: no answer, only the as_of it had
# (models generation, as_of of the feature row in microseconds, the JSON up to the age's value)
Answer = tuple[int, int, bytes]


def answer_head(scores: CustomerScores) -> bytes:
    """The answer's JSON up to the value of `freshness.age_seconds`, the one part that changes."""
    if scores.freshness is None:
        raise ValueError("only a stored customer's scores (with their freshness) are cached")
    body = scores.model_dump_json(exclude={"freshness"}).encode()
    as_of = json.dumps(scores.freshness.model_dump(mode="json")["as_of"]).encode()
    return body[:-1] + b',"freshness":{"as_of":' + as_of + b"," + AGE_FIELD


class Answers:
    """Answers by customer id, the oldest dropped past `size`."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.writes = 0  # forgets so far: an answer computed across one may be stale, so is not kept
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, customer_id: str, generation: int) -> bytes | None:
        """The answer's JSON with the age as of now; None when not cached for this generation."""
        answer = self._answers.get(customer_id)  # one dict read: safe beside writers under the GIL
        if answer is None or answer[0] != generation:
            return None
        age = max(time.time() - answer[1] / 1e6, 0.0)
        return answer[2] + repr(age).encode() + b"}}"

    def scores(self, customer_id: str, generation: int) -> CustomerScores | None:
        """`body` as the response object."""
        body = self.body(customer_id, generation)
        return None if body is None else CustomerScores.model_validate_json(body)

    def keep(self, scores: CustomerScores, as_of: int, generation: int, writes: int) -> None:
        """Cache a customer's answer, unless a customer was forgotten since `writes` was read.

        Nor is an answer kept that is older than the one cached or forgotten last: two refreshes of
        one customer may finish in either order, and a read must never go back in time.
        """
        answer = (generation, as_of, answer_head(scores))
        with self._lock:
            current = self._answers.get(scores.customer_id)
            if self.writes != writes or (current is not None and as_of < current[1]):
                return
            self._answers[scores.customer_id] = answer
            if len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def forget(self, customer_id: str) -> int:
        """Drop a customer's answer (their features or flags changed); the new `writes`."""
        with self._lock:
            old = self._answers.pop(customer_id, None)
            if old is not None:  # what was served stays the floor: no older answer is kept after it
                self._answers[customer_id] = (FORGOTTEN, old[1], b"")
            self.writes += 1
            return self.writes

    def forget_all(self) -> None:
        """Drop every answer (changes may have been missed: none can be trusted)."""
        with self._lock:
            self._answers.clear()
            self.writes += 1
