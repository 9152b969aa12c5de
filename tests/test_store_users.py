"""Users, argon2 passwords, hashed API tokens and server-side sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from allcare.store import Conflict, InvalidRecord
from allcare.store.models import ApiToken, User, UserSession
from allcare.store.users import (
    authenticate,
    create_session,
    create_token,
    create_user,
    digest,
    make_hasher,
    revoke_token,
    update_user,
    user_for_session,
    user_for_token,
)

HASHER = make_hasher(1, 64, 1)
PASSWORD = "a long passphrase"


@pytest.fixture
def user(store, cli_actor):
    with store.transaction() as session:
        return create_user(session, cli_actor, HASHER, username="Dr.Who", password=PASSWORD, role="clinician")


def test_passwords_are_stored_as_argon2id_hashes(store, user):
    with store.sessions() as session:
        stored = session.get(User, user.id)
    assert stored.username == "dr.who"  # usernames are case-insensitive
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


@pytest.mark.parametrize(("username", "password", "ok"), [
    ("dr.who", PASSWORD, True), ("DR.WHO", PASSWORD, True), ("dr.who", PASSWORD.upper(), False),
    ("nobody", PASSWORD, False), ("dr.who", "", False),
])
def test_authenticate(store, user, username, password, ok):
    with store.transaction() as session:
        assert (authenticate(session, HASHER, username, password) is not None) is ok


def test_a_deactivated_user_cannot_log_in_and_loses_their_sessions(store, cli_actor, user):
    with store.transaction() as session:
        token = create_session(session, user, "127.0.0.1", 3600)
    with store.transaction() as session:
        update_user(session, cli_actor, HASHER, user.id, active=False)
    with store.transaction() as session:
        assert authenticate(session, HASHER, "dr.who", PASSWORD) is None
        assert user_for_session(session, token) is None
        assert session.scalars(select(UserSession)).all() == []


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(store, cli_actor):
    weak = make_hasher(1, 64, 1)
    strong = make_hasher(2, 128, 1)
    with store.transaction() as session:
        create_user(session, cli_actor, weak, username="old", password=PASSWORD, role="registrar")
    with store.transaction() as session:
        assert authenticate(session, strong, "old", PASSWORD) is not None
    with store.sessions() as session:
        assert "m=128,t=2" in session.scalar(select(User.password_hash).where(User.username == "old"))


@pytest.mark.parametrize(("fields", "where"), [
    ({"username": "has space", "role": "clinician"}, "username"),
    ({"username": "ok", "role": "superuser"}, "role"),
    ({"username": "ok", "role": "patient"}, "patient_id"),
    ({"username": "ok", "role": "clinician", "patient_id": 1}, "patient_id"),
    ({"username": "ok", "role": "clinician", "password": "short"}, "password"),
])
def test_new_users_are_checked(store, cli_actor, fields, where):
    arguments = {"password": PASSWORD, **fields}
    with pytest.raises(InvalidRecord) as error, store.transaction() as session:
        create_user(session, cli_actor, HASHER, **arguments)
    assert where in [field for field, _ in error.value.problems]


def test_usernames_are_unique(store, cli_actor, user):
    with pytest.raises(Conflict), store.transaction() as session:
        create_user(session, cli_actor, HASHER, username="DR.WHO", password=PASSWORD, role="admin")


def test_api_tokens_are_stored_hashed_and_can_be_revoked(store, cli_actor, user):
    with store.transaction() as session:
        created = create_token(session, cli_actor, user, "nightly export", 30)
    with store.sessions() as session:
        row = session.get(ApiToken, created.row.id)
        assert row.token_hash == digest(created.token) and created.token not in (row.token_hash, row.prefix)
    with store.transaction() as session:
        assert user_for_token(session, created.token).id == user.id
        assert user_for_token(session, created.token + "x") is None
    with store.transaction() as session:
        revoke_token(session, cli_actor, user.id, created.row.id)
    with store.transaction() as session:
        assert user_for_token(session, created.token) is None


def test_expired_tokens_and_sessions_are_refused(store, cli_actor, user):
    with store.transaction() as session:
        token = create_token(session, cli_actor, user, "old", 1)
        cookie = create_session(session, user, None, 60)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with store.transaction() as session:
        session.execute(update(ApiToken).values(expires_at=past))
        session.execute(update(UserSession).values(expires_at=past))
    with store.transaction() as session:
        assert user_for_token(session, token.token) is None
        assert user_for_session(session, cookie) is None
