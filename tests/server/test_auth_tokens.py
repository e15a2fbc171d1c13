"""The token store (SQLite and PostgreSQL), the role rules and the session secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

import mlpilot
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.server.auth import Action, Principal, load_secret
from mlpilot.store import schema
from mlpilot.store.tokens import Role, TokenStore, hash_token


def _initiative(ws: mlpilot.Workspace, slug: str) -> None:
    ws.create_initiative(slug, name=slug, problem="p", prediction_use="u", task="binary",
                         shape="batch", baseline="rule")  # fmt: skip


def test_tokens_are_stored_hashed_verified_listed_and_revoked(ws: mlpilot.Workspace) -> None:
    _initiative(ws, "churn")
    store = TokenStore(ws.store)
    viewer, viewer_secret = store.create("viewer", name="grafana")
    scoped, scoped_secret = store.create(Role.EDITOR, initiative="churn")

    assert viewer_secret != scoped_secret
    assert viewer_secret.startswith("mlp_")
    with ws.store.engine.connect() as connection:
        stored = connection.execute(select(schema.access_tokens.c.token_hash)).scalars().all()
    assert sorted(stored) == sorted([hash_token(viewer_secret), hash_token(scoped_secret)])
    assert viewer_secret not in stored

    found = store.verify(scoped_secret)
    assert found is not None
    assert (found.id, found.role, found.initiative) == (scoped.id, Role.EDITOR, "churn")
    assert store.verify(viewer_secret[:-1] + ("A" if viewer_secret[-1] != "A" else "B")) is None
    assert store.verify("not-a-token") is None
    assert [t.name for t in store.list()] == ["grafana", "editor token"]

    revoked = store.revoke(viewer.id)
    assert revoked.revoked_at is not None
    assert store.verify(viewer_secret) is None
    assert store.revoke(viewer.id).revoked_at == revoked.revoked_at  # twice is harmless
    assert [t.id for t in store.list(include_revoked=False)] == [scoped.id]


def test_bad_token_requests_change_nothing(ws: mlpilot.Workspace) -> None:
    store = TokenStore(ws.store)
    with pytest.raises(ValidationError, match="unknown role 'owner'"):
        store.create("owner")
    with pytest.raises(NotFoundError, match="no initiative 'nope'"):
        store.create("viewer", initiative="nope")
    with pytest.raises(NotFoundError, match="no token 7"):
        store.revoke(7)
    assert store.list() == []


ROLE_RULES = {
    Role.VIEWER: {Action.READ},
    Role.EDITOR: {Action.READ, Action.WRITE, Action.INGEST},
    Role.ADMIN: set(Action),
    Role.INGEST: {Action.INGEST},
}


@pytest.mark.parametrize("role", list(Role))
def test_roles_allow_exactly_their_actions(role: Role) -> None:
    everywhere = Principal(1, "t", role, None, via_session=False)
    scoped = Principal(2, "t", role, "churn", via_session=False)
    for action in Action:
        expected = action in ROLE_RULES[role]
        assert everywhere.allows(action, None) is expected
        assert everywhere.allows(action, "fraud") is expected
        assert scoped.allows(action, "churn") is expected
        assert scoped.allows(action, "fraud") is False
        # workspace-wide, a scoped token may only read (the listing, filtered)
        assert scoped.allows(action, None) is (expected and action is Action.READ)
    assert scoped.sees("churn")
    assert not scoped.sees("fraud")
    assert everywhere.sees("fraud")


def test_session_secret_is_private_and_stable(tmp_path: Path) -> None:
    first = load_secret(tmp_path / "ws")
    mode = stat.S_IMODE((tmp_path / "ws" / "server.secret").stat().st_mode)

    assert len(first) == 32
    assert mode == 0o600
    assert load_secret(tmp_path / "ws") == first
    assert load_secret(tmp_path / "other") != first
