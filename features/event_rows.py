"""New events as the online store's rows, straight from Python values.

The service stores events one request at a time, a row or a few. Through pandas (a frame, the
contract's parsing, Arrow) one row cost about 10 ms, half of an event's whole cost in the service;
its request models have already typed the values, so here they only take their storage form:
microseconds since the epoch, floats and strings. A value of any other type gives None, and the
caller takes the pandas path, which parses anything the contract accepts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from features.catalogue import Source

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


class _NotPlain(Exception):
    """A value that is not already of its column's type."""


def plain_rows(rows: Sequence[Mapping[str, Any]], source: Source) -> list[tuple[Any, ...]] | None:
    """The rows as (customer_id, *source columns) tuples, or None when a value needs parsing."""
    converters = [("customer_id", _text), *((c.name, _CONVERTERS[c.kind]) for c in source.columns)]
    try:
        return [tuple(convert(row.get(name)) for name, convert in converters) for row in rows]
    except _NotPlain:
        return None


def _time(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise _NotPlain
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # naive means UTC
    return (aware - _EPOCH) // _MICROSECOND


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float):  # bool is an int: True stores as 1.0, as in the batch
        raise _NotPlain
    number = float(value)
    return None if math.isnan(number) else number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _NotPlain
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {"time": _time, "number": _number, "text": _text}
