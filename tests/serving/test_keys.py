"""API keys: shown once, stored only as hashes, roles that include one another, revocation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.online_db import Database
from serving.keys import KeyStore, Principal, Role, VerifiedKeys, allows
from tests.serving.databases import KINDS, drop_prefixed, opened, unique_prefix


@pytest.fixture(params=KINDS)
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    prefix = unique_prefix()
    with opened(request.param, tmp_path) as db:
        yield KeyStore(db, prefix=prefix)
        drop_prefixed(db, prefix)


def stored_text(db: Database, table: str) -> str:
    return repr(db.query(f"SELECT * FROM {table}"))


def test_a_created_key_authenticates_as_its_name_and_role(keys: KeyStore) -> None:
    token = keys.create(Role.AGENT, "desk-1")
    assert keys.authenticate(token) == Principal("desk-1", Role.AGENT)


def test_only_the_hash_of_a_key_is_stored(keys: KeyStore) -> None:
    token = keys.create(Role.ADMIN, "ops")
    stored = stored_text(keys.db, keys.table)
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert all("hash" not in key for row in keys.list() for key in row)


@pytest.mark.parametrize("token", ["", "cxk_", "cxk_not-a-key", "Bearer x"])
def test_unknown_keys_authenticate_as_no_one(keys: KeyStore, token: str) -> None:
    keys.create(Role.AGENT, "desk-1")
    assert keys.authenticate(token) is None


def test_a_revoked_key_no_longer_authenticates(keys: KeyStore) -> None:
    token = keys.create(Role.INGEST, "loader")
    assert keys.revoke("loader") is True
    assert keys.authenticate(token) is None
    assert keys.revoke("loader") is False
    assert keys.list() == []


def test_names_are_unique_and_listed_with_roles(keys: KeyStore) -> None:
    keys.create(Role.MANAGER, "lead")
    with pytest.raises(ValueError, match="exists already"):
        keys.create(Role.AGENT, "lead")
    assert [(k["name"], k["role"]) for k in keys.list()] == [("lead", "manager")]


def test_every_key_is_new(keys: KeyStore) -> None:
    assert keys.create(Role.AGENT, "a") != keys.create(Role.AGENT, "b")


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (Role.ADMIN, Role.INGEST, True),
        (Role.ADMIN, Role.AGENT, True),
        (Role.MANAGER, Role.AGENT, True),
        (Role.MANAGER, Role.ADMIN, False),
        (Role.AGENT, Role.AGENT, True),
        (Role.AGENT, Role.INGEST, False),
        (Role.AGENT, Role.MANAGER, False),
        (Role.INGEST, Role.INGEST, True),
        (Role.INGEST, Role.AGENT, False),
    ],
)
def test_roles_include_what_they_should_and_nothing_more(role: Role, needed: Role, allowed: bool) -> None:
    assert allows(role, needed) is allowed


def test_the_service_database_is_chosen_by_the_online_store_variable() -> None:
    from features import online
    from serving import state

    assert state.URL_VARIABLE == online.URL_VARIABLE


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_key_is_trusted_for_a_while_then_asked_for_again(keys: KeyStore) -> None:
    clock = Clock()
    verified = VerifiedKeys(keys, trust_s=1.0, clock=clock)
    token = keys.create(Role.AGENT, "desk-2")
    assert verified.authenticate(token) == Principal("desk-2", Role.AGENT)
    keys.revoke("desk-2")  # as the CLI would, beside the service
    clock.now += 0.5
    assert verified.authenticate(token) == Principal("desk-2", Role.AGENT)  # within the trusted time
    clock.now += 0.6
    assert verified.authenticate(token) is None
    assert verified.authenticate(token) is None  # and it stays refused


def test_a_key_created_after_a_refusal_works_at_once(keys: KeyStore) -> None:
    verified = VerifiedKeys(keys, clock=Clock())
    assert verified.authenticate("cxk_not-yet") is None
    token = keys.create(Role.INGEST, "loader")
    assert verified.authenticate(token) == Principal("loader", Role.INGEST)
