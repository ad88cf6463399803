"""The tables customers write in: tickets, calls, verbatims and surveys (with their comments)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.synthetic import params as P
from pipelines.synthetic.ids import row_ids
from pipelines.synthetic.surveys import METRICS, TONES
from pipelines.synthetic.tables import (
    Context,
    Rows,
    TextMaker,
    labels,
    observable,
    record_pii,
    record_texts,
    texts_in_chunks,
    timestamps,
)
from pipelines.synthetic.texts import Planted, comment_texts, languages, moods, ticket_texts, verbatim_texts
from pipelines.synthetic.transcripts import transcripts

MOODS = ("angry", "frustrated", "calm")


def _with_mood(ctx: Context, rows: Rows) -> Rows:
    return {**rows, "mood": moods(ctx.rng, rows["latent"])}


def _contact(
    ctx: Context, rows: Rows, table: str, time: str, prefix: str, make: TextMaker
) -> tuple[Rows, pa.Array, pa.ChunkedArray]:
    """The observable rows of a ticket or call table, their keys and texts, truth recorded.

    Every such text is about its issue in a mood, so all of them are recorded with a theme.
    """
    rows = _with_mood(ctx, observable(ctx, rows, time))
    keys, planted = row_ids(prefix, rows["row"]), Planted()
    text = texts_in_chunks(ctx, rows, make, planted)
    n = len(keys)
    record_texts(ctx, table, keys, rows, labels(MOODS, rows["mood"]), np.zeros(n, int), np.ones(n, bool))
    record_pii(ctx, table, keys, planted)
    return rows, keys, text


def build_tickets(ctx: Context, rows: Rows) -> pa.Table:
    """Tickets; a ticket still open at the end has no closing time and cannot have been reopened."""
    rows, keys, text = _contact(ctx, rows, "tickets", "opened", "TKT-", ticket_texts)
    closed = rows["closed"] < ctx.grid.end
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "ticket_id": keys,
            "opened_at": timestamps(rows["opened"]),
            "closed_at": timestamps(rows["closed"], closed),
            "channel": labels(P.CHANNELS, rows["channel"]),
            "category": labels(P.ISSUE_CATEGORY, rows["issue"]),
            "priority": labels(P.PRIORITIES, rows["priority"]),
            "reopened": pa.array(rows["reopened"] & closed),
            "text": text,
        }
    )


def build_calls(ctx: Context, rows: Rows) -> pa.Table:
    """Calls with waiting time, duration and transcript."""
    rows, keys, text = _contact(ctx, rows, "calls", "started", "CALL-", transcripts)
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "call_id": keys,
            "started_at": timestamps(rows["started"]),
            "duration_s": pa.array(rows["duration"]),
            "wait_s": pa.array(rows["wait"]),
            "transcript": text,
        }
    )


def build_verbatims(ctx: Context, rows: Rows) -> pa.Table:
    """Reviews, social posts, e-mails and chats, some in Spanish, German or French."""
    rows = observable(ctx, rows, "posted")
    lang = languages(ctx.rng, len(rows["cust"]))
    keys, planted = row_ids("V-", rows["row"]), Planted()

    def make(rng: np.random.Generator, part: Rows, people: object, planted: Planted, lo: int) -> pa.Array:
        return verbatim_texts(rng, part, ctx.people, planted, lo, lang[lo : lo + len(part["cust"])])

    text = texts_in_chunks(ctx, rows, make, planted)
    record_texts(ctx, "verbatims", keys, rows, labels(TONES, rows["tone"]), lang, rows["tone"] == 0)
    record_pii(ctx, "verbatims", keys, planted)
    return pa.table(
        {
            "verbatim_id": keys,
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "posted_at": timestamps(rows["posted"]),
            "source": labels(P.SOURCES, rows["source"]),
            "text": text,
        }
    )


def _comments(ctx: Context, rows: Rows, keys: pa.Array) -> pa.Array:
    """The comment texts of the responses that left one, recorded in the text truth."""
    said = rows["comment"]
    part = {k: v[said] for k, v in rows.items()}
    lang = languages(ctx.rng, int(said.sum()))
    tone = part["tone"]
    record_texts(ctx, "surveys", keys.filter(pa.array(said)), part, labels(TONES, tone), lang, tone == 0)
    return comment_texts(ctx.rng, part, lang)


def build_surveys(ctx: Context, rows: Rows) -> tuple[pa.Table, pa.Table]:
    """Survey answers, one row per metric asked; a comment sits on its response's first row.

    Returns the table and the truth of each response (its latent satisfaction when answering).
    """
    rows = observable(ctx, rows, "responded")
    keys = row_ids("R-", rows["row"])
    comments = _comments(ctx, rows, keys)
    asked = np.stack([~np.isnan(rows[m]) for m in METRICS], axis=1)
    response, metric = np.nonzero(asked)  # response-major, metrics in METRICS order
    first = np.r_[True, response[1:] != response[:-1]]
    commented = first & rows["comment"][response]
    index = np.where(commented, np.cumsum(rows["comment"])[response] - 1, len(comments))
    table = pa.table(
        {
            "response_id": keys.take(pa.array(response)),
            "customer_id": ctx.ids.take(pa.array(rows["cust"][response])),
            "responded_at": timestamps(rows["responded"][response]),
            "touchpoint": labels(P.TOUCHPOINTS, rows["touchpoint"][response]),
            "metric": labels(METRICS, metric),
            "score": pa.array(np.stack([rows[m] for m in METRICS], axis=1)[response, metric]),
            "comment": pa.concat_arrays([comments, pa.nulls(1, pa.string())]).take(pa.array(index)),
        }
    )
    truth = pa.table(
        {
            "response_id": keys,
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "touchpoint": labels(P.TOUCHPOINTS, rows["touchpoint"]),
            "latent": pa.array(rows["latent"], pa.float32()),
        }
    )
    return table, truth
