"""PII redaction: e-mails, phones, cards, IBANs, account and order numbers and names → typed placeholders.

The recognisers are our own rather than Presidio's. Presidio's `AnalyzerEngine` runs every
recogniser, even the pattern ones, on top of a spaCy pipeline whose models are downloaded at run
time from outside the package registries, so it cannot run fully offline here; its pattern
recognisers are regular expressions plus checksums (Luhn for cards, mod-97 for IBANs), which this
module reproduces and tests against the synthetic company's planted PII.

Recognisers run in priority order and a later match that overlaps an earlier one is dropped, so a
16-digit card is never half-redacted as a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from models.text.names import FIRST_NAMES

EMAIL, PHONE, CARD, IBAN, ACCOUNT, ORDER, NAME = "EMAIL", "PHONE", "CARD", "IBAN", "ACCOUNT", "ORDER", "NAME"
PII_TYPES = (EMAIL, PHONE, CARD, IBAN, ACCOUNT, ORDER, NAME)


@dataclass(frozen=True)
class Span:
    """One PII mention: its type and character offsets in the original text."""

    kind: str
    start: int
    end: int


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_ORDER = re.compile(r"\b(?:ORD|ORDER|SO|PO)[-#]?\d{4,}\b", re.IGNORECASE)
_ACCOUNT = re.compile(
    r"(?i:\b(?:account|acct|customer|member|client)\s*(?:number|no\.?|num|id|#)\s*[:#]?\s*)"
    r"(?P<value>[A-Z]{0,4}-?\d[\d -]{3,}\d)"
)
_REFERENCE = re.compile(r"\b[A-Z]{1,5}-?\d{6,}\b")  # ticket, customer and other internal ids
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){0,4}(?!\w)"
)
_LONG_NUMBER = re.compile(r"(?<!\w)\d{8,}(?!\w)")
_CUE = re.compile(
    r"(?:\b(?:[Mm]y name is|[Tt]his is|I'm|I am|[Ii]t's|[Nn]ame's|[Ss]peaking with|[Tt]hanks|[Rr]egards|"
    r"[Bb]est|[Cc]heers|[Ss]incerely|[Mm]e llamo|[Ss]oy|[Ii]ch bin|[Jj]e m'appelle|[Ss]aludos|[Gg]rüße|"
    r"[Cc]ordialement)[,:]?\s+)(?P<value>[A-Z][a-zà-ÿ'-]+(?:\s+[A-Z][a-zà-ÿ'-]+)?)"
)
_CAPITALISED = re.compile(r"\b[A-Z][a-zà-ÿ'-]+\b")
_SURNAME = re.compile(r"\s+([A-Z][a-zà-ÿ'-]+)\b")
# Capitalised words a cue is often followed by that are not names.
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        "The This That There It Its I Im A An And But So Not No Yes Okay Ok Sorry Still Just Very Really "
        "Thank Thanks Hello Hi Good Great Please Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
        "Customer Agent Support Team Order",
    )
)


def digit_count(text: str) -> int:
    """How many digits a string holds."""
    return sum(ch.isdigit() for ch in text)


def luhn_valid(number: str) -> bool:
    """Whether the digits of `number` pass the Luhn checksum that every payment card number carries."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return len(digits) >= 13 and total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Whether a string is an IBAN by its ISO 13616 mod-97 check."""
    compact = candidate.replace(" ", "")
    rotated = compact[4:] + compact[:4]
    as_number = "".join(str(int(ch, 36)) for ch in rotated)
    return 15 <= len(compact) <= 34 and int(as_number) % 97 == 1


def _matches(pattern: re.Pattern[str], kind: str, text: str, group: int | str = 0) -> Iterator[Span]:
    for match in pattern.finditer(text):
        yield Span(kind, match.start(group), match.end(group))


def _checked(pattern: re.Pattern[str], kind: str, text: str, check: Callable[[str], bool]) -> Iterator[Span]:
    for span in _matches(pattern, kind, text):
        if check(text[span.start : span.end]):
            yield span


def _phone_shaped(candidate: str) -> bool:
    """9-15 digits: short enough to exclude cards, long enough to exclude years, dates and prices."""
    return 9 <= digit_count(candidate) <= 15


def _cued_names(text: str) -> Iterator[Span]:
    for match in _CUE.finditer(text):
        words = match.group("value").split()
        if words[0] in _NOT_NAMES:
            continue
        end = match.start("value") + len(words[0])
        if len(words) > 1 and words[1] not in _NOT_NAMES:
            end = match.end("value")
        yield Span(NAME, match.start("value"), end)


def _listed_names(text: str) -> Iterator[Span]:
    """Known given names, with the capitalised word after them taken as the surname."""
    for match in _CAPITALISED.finditer(text):
        if match.group() not in FIRST_NAMES:
            continue
        end = match.end()
        surname = _SURNAME.match(text, end)
        if surname and surname.group(1) not in _NOT_NAMES:
            end = surname.end()
        yield Span(NAME, match.start(), end)


def find_pii(text: str) -> list[Span]:
    """Every PII mention in `text`, without overlaps, in text order."""
    candidates: Iterable[Span] = (
        *_matches(_EMAIL, EMAIL, text),
        *_checked(_CARD, CARD, text, luhn_valid),
        *_checked(_IBAN, IBAN, text, iban_valid),
        *_matches(_ORDER, ORDER, text),
        *_matches(_ACCOUNT, ACCOUNT, text, "value"),
        *_matches(_REFERENCE, ACCOUNT, text),
        *_checked(_PHONE, PHONE, text, _phone_shaped),
        *_matches(_LONG_NUMBER, ACCOUNT, text),
        *_cued_names(text),
        *_listed_names(text),
    )
    kept: list[Span] = []
    for span in candidates:  # earlier recognisers win overlaps
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def redact(text: str) -> str:
    """`text` with every PII mention replaced by its typed placeholder, such as `<EMAIL>`."""
    pieces, last = [], 0
    for span in find_pii(text):
        pieces += [text[last : span.start], f"<{span.kind}>"]
        last = span.end
    return "".join([*pieces, text[last:]])


def redact_all(texts: Iterable[str | None]) -> list[str]:
    """Redact many texts; a missing text becomes the empty string."""
    return [redact(t) if isinstance(t, str) else "" for t in texts]
