import pandas as pd
import pytest

from models.text.corpus import collect_texts
from models.text.quality import pii_recall
from models.text.redact import find_pii, iban_valid, luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+cx@mail.example.co.uk today", "write to <EMAIL> today"),
        ("call (212) 555-0182 or +44 7700 900123", "call <PHONE> or <PHONE>"),
        ("my number is 030 12345678.", "my number is <PHONE>."),
        ("card 4111 1111 1111 1111, thanks", "card <CARD>, thanks"),
        ("card 4111-1111-1111-1111", "card <CARD>"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN <IBAN> please"),
        ("account number: 12-3456-78", "account number: <ACCOUNT>"),
        ("see ORD-10000158 and ticket TKT-00000042", "see <ORDER> and ticket <ACCOUNT>"),
        ("Hi, this is Karen Scott.", "Hi, this is <NAME>."),
        ("My name is Zebulon and I am upset.", "My name is <NAME> and I am upset."),
        ("The agent Priya was kind.", "The agent <NAME> was kind."),
        ("Regards, Olga", "Regards, <NAME>"),
    ],
)
def test_redact_replaces_each_kind_with_its_placeholder(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Delivered on 2024-07-10, cost 1,299.99 and took 3 days.",
        "This is the third time, honestly.",
        "It's been 45 minutes on hold in 2025.",
        "I'm Still waiting. Thanks so much, bye.",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_card_numbers_must_pass_luhn_to_count_as_cards() -> None:
    assert luhn_valid("4111 1111 1111 1111")
    assert not luhn_valid("4111 1111 1111 1112")
    assert all(s.kind != "CARD" for s in find_pii("ref 4111 1111 1111 1112"))


def test_iban_check_digits_are_verified() -> None:
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB83 WEST 1234 5698 7654 32")


def test_recall_on_planted_pii_is_at_least_99_percent(tables: dict[str, pd.DataFrame], company) -> None:
    corpus = collect_texts(tables)
    redacted = dict(zip(zip(corpus["source"], corpus["key"], strict=True), corpus["text"], strict=True))
    truth = pd.read_parquet(company / "_truth" / "pii.parquet")

    recall = pii_recall(redacted, truth)

    assert {"email", "phone", "card", "name", "order"} <= set(recall)
    assert min(recall["email"], recall["phone"], recall["card"]) >= 0.99
    assert min(recall["name"], recall["order"]) >= 0.95
