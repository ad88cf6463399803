"""Call transcripts: turns of agent and customer, worded by issue and mood, full of personal data.

A transcript is assembled turn by turn from phrase picks and PII arrays with Arrow's element-wise
join, so a million transcripts cost a few dozen vectorised passes, not a million f-strings.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.synthetic import phrases as T
from pipelines.synthetic.ids import order_ids
from pipelines.synthetic.params import ISSUE
from pipelines.synthetic.pii import Identities, cards
from pipelines.synthetic.strings import PhraseBank, join, where
from pipelines.synthetic.texts import Planted, pick, pick_pair, scatter

_HELLOS = PhraseBank(T.HELLOS)
_OPENINGS = PhraseBank(T.ISSUE_OPENINGS)
_ACTIONS = PhraseBank(T.AGENT_ACTIONS)
_REACTIONS = PhraseBank(T.REACTIONS)
_GOODBYES = PhraseBank(T.GOODBYES)


def _opening(
    rng: np.random.Generator, rows: dict[str, np.ndarray], mood: np.ndarray, agent: pa.Array, name: pa.Array
) -> pa.Array:
    n = len(mood)
    greet_before, greet_after = pick_pair(rng, T.AGENT_GREETINGS, n)
    intro_before, intro_after = pick_pair(rng, T.NAME_INTROS, n)
    hold = where(rows["wait"] > 600, pick(rng, T.HOLD_COMPLAINTS, n))
    return join(
        "Agent: ",
        greet_before,
        agent,
        greet_after,
        "\nCustomer: ",
        _HELLOS.pick(rng, mood),
        intro_before,
        name,
        intro_after,
        hold,
        pick(rng, T.ISSUE_LEADS, n),
        _OPENINGS.pick(rng, rows["issue"]),
        ".",
    )


def _order_turns(rng: np.random.Generator, cites: np.ndarray, order: pa.Array) -> pa.Array:
    n = len(cites)
    said_before, said_after = pick_pair(rng, T.ORDER_SAYS, n)
    turns = join("\nAgent: ", pick(rng, T.ASK_ORDER, n), "\nCustomer: ", said_before, order, said_after)
    return where(cites, turns)


def _contact_turns(rng: np.random.Generator, kind: np.ndarray, phone: pa.Array, email: pa.Array) -> pa.Array:
    """kind: 0 none, 1 phone, 2 e-mail, 3 both."""
    n = len(kind)
    both = join(phone, pick(rng, T.CONTACT_JOINS, n), email)
    contact = where(kind == 1, phone, where(kind == 2, email, both))
    said_before, said_after = pick_pair(rng, T.CONTACT_SAYS, n)
    return where(
        kind > 0,
        join("\nAgent: ", pick(rng, T.ASK_CONTACT, n), "\nCustomer: ", said_before, contact, said_after),
    )


def _card_turns(rng: np.random.Generator, asks: np.ndarray) -> tuple[pa.Array, pa.Array]:
    n = len(asks)
    number = scatter(cards(rng, int(asks.sum())), asks)
    said_before, said_after = pick_pair(rng, T.CARD_SAYS, n)
    turns = join("\nAgent: ", pick(rng, T.ASK_CARD, n), "\nCustomer: ", said_before, number, said_after)
    return where(asks, turns), number


def transcripts(
    rng: np.random.Generator, rows: dict[str, np.ndarray], people: Identities, planted: Planted, offset: int
) -> pa.Array:
    """Transcripts for a slice of the calls table starting at row `offset`; PII goes to `planted`."""
    n, cust = len(rows["cust"]), pa.array(rows["cust"])
    mood = rows["mood"]
    name, phone, email = people.full.take(cust), people.phone.take(cust), people.email.take(cust)
    cites = rows["order_row"] >= 0
    order = order_ids(np.maximum(rows["order_row"], 0))
    kind = rng.choice(4, n, p=[0.15, 0.45, 0.22, 0.18])
    asks_card = rng.random(n) < np.where(rows["issue"] == ISSUE["billing_error"], 0.35, 0.02)
    card_turns, card = _card_turns(rng, asks_card)
    agent = pick(rng, T.AGENT_NAMES, n)
    text = join(
        _opening(rng, rows, mood, agent, name),
        _order_turns(rng, cites, order),
        _contact_turns(rng, kind, phone, email),
        "\nAgent: ",
        _ACTIONS.pick(rng, rows["issue"]),
        "\nCustomer: ",
        _REACTIONS.pick(rng, mood),
        card_turns,
        "\nAgent: ",
        pick(rng, T.CLOSINGS, n),
        "\nCustomer: ",
        _GOODBYES.pick(rng, mood),
    )
    for mask, kind_name, values in (
        (np.ones(n, bool), "name", agent),
        (np.ones(n, bool), "name", name),
        (cites, "order", order),
        ((kind == 1) | (kind == 3), "phone", phone),
        (kind >= 2, "email", email),
        (asks_card, "card", card),
    ):
        planted.add(mask, kind_name, values, offset)
    return text
