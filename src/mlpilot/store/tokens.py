"""API tokens of the team server, kept hashed in the metadata database.

A token is 32 random bytes (URL-safe text with an ``mlp_`` prefix). Only its SHA-256 is stored:
tokens are high-entropy, so a plain hash cannot be reversed and needs no salt. The token itself
is shown once, when it is created.

>>> import tempfile
>>> from mlpilot.workspace import Workspace
>>> ws = Workspace.open(tempfile.mkdtemp())
>>> info, secret = TokenStore(ws.store).create("viewer", name="grafana")
>>> TokenStore(ws.store).verify(secret).role.value
'viewer'
>>> ws.close()
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update

from mlpilot.domain.parsing import optional_text, parse_choice
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.store import schema as t
from mlpilot.store.metadata import MetadataStore, _utc

__all__ = ["TOKEN_PREFIX", "Role", "TokenInfo", "TokenStore", "hash_token"]

TOKEN_PREFIX = "mlp_"


class Role(StrEnum):
    """What a token may do: viewer reads, editor reads and writes, admin does everything, ingest
    only sends events."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    INGEST = "ingest"


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    id: int
    name: str
    role: Role
    initiative: str | None  # None: the whole workspace
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True until the token is revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (never the secret, which is not stored)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "initiative": self.initiative,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Create, list, revoke and verify tokens in a workspace's metadata database."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def create(
        self, role: str | Role, *, initiative: str | None = None, name: str | None = None
    ) -> tuple[TokenInfo, str]:
        """Store a new token and return it with its secret (shown once, never stored)."""
        parsed = parse_choice(Role, role, "role")
        label = optional_text(name) or f"{parsed.value} token"
        if len(label) > 200:
            raise ValidationError("a token name must be at most 200 characters")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._metadata._tx() as connection:
            initiative_id = (
                None if initiative is None else self._metadata._id(connection, initiative)
            )
            new_id = connection.execute(
                insert(t.access_tokens).values(
                    name=label,
                    role=parsed.value,
                    initiative_id=initiative_id,
                    token_hash=hash_token(secret),
                    created_at=now,
                )
            ).inserted_primary_key
        assert new_id is not None
        return TokenInfo(int(new_id[0]), label, parsed, initiative, now, None), secret

    def list(self, *, include_revoked: bool = True) -> list[TokenInfo]:
        """Every token, oldest first."""
        query = _select().order_by(t.access_tokens.c.id)
        if not include_revoked:
            query = query.where(t.access_tokens.c.revoked_at.is_(None))
        with self._metadata._tx() as connection:
            return [_info(row) for row in connection.execute(query)]

    def get(self, token_id: int) -> TokenInfo | None:
        """The token with this id, revoked or not; None when there is none."""
        with self._metadata._tx() as connection:
            row = connection.execute(_BY_ID, {"token_id": token_id}).first()
        return None if row is None else _info(row)

    def revoke(self, token_id: int) -> TokenInfo:
        """Revoke a token; it is refused from the next request on. Revoking twice is harmless."""
        now = datetime.now(UTC)
        with self._metadata._tx() as connection:
            connection.execute(
                update(t.access_tokens)
                .where(t.access_tokens.c.id == token_id, t.access_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = connection.execute(_select().where(t.access_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token {token_id}; 'mlpilot token list' shows the tokens")
        return _info(row)

    def verify(self, token: str) -> TokenInfo | None:
        """The active token with this secret, or None (unknown, malformed or revoked)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self._metadata._tx() as connection:
            row = connection.execute(_ACTIVE_BY_HASH, {"token_hash": hash_token(token)}).first()
        return None if row is None else _info(row)


def _select() -> Any:
    tokens = t.access_tokens
    return select(
        tokens.c.id,
        tokens.c.name,
        tokens.c.role,
        t.initiatives.c.slug,
        tokens.c.created_at,
        tokens.c.revoked_at,
    ).select_from(tokens.outerjoin(t.initiatives, tokens.c.initiative_id == t.initiatives.c.id))


# Built once: every request verifies a token, and building a statement costs more than running it.
_BY_ID = _select().where(t.access_tokens.c.id == bindparam("token_id"))
_ACTIVE_BY_HASH = _select().where(
    t.access_tokens.c.token_hash == bindparam("token_hash"),
    t.access_tokens.c.revoked_at.is_(None),
)


def _info(row: Row[Any]) -> TokenInfo:
    return TokenInfo(
        id=int(row.id),
        name=str(row.name),
        role=Role(row.role),
        initiative=row.slug,
        created_at=_utc(row.created_at),
        revoked_at=None if row.revoked_at is None else _utc(row.revoked_at),
    )
