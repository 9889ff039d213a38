"""API keys and the principal behind a request.

Keys are random 256-bit strings shown once; only their SHA-256 is stored (a slow hash adds
nothing for keys of that entropy and would cost every request). A key maps to one tenant,
one team and one role.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from gateway.ids import new_id
from gateway.store.tables import ApiKey

KEY_PREFIX = "tg-"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class Role(StrEnum):
    USER = "user"
    REVIEWER = "reviewer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant: str
    team: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            needed = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"This route needs the role {needed}; your key has {self.role.value}.")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_name(kind: str, value: str) -> None:
    if not value or len(value) > 64 or not set(value) <= _NAME_CHARS:
        raise InvalidRequest(
            f"{kind} must be 1-64 characters of letters, digits, '-', '_' or '.'", param=kind
        )


async def create_key(session: AsyncSession, *, tenant: str, team: str, role: Role) -> str:
    """Store a new key's hash and return the key itself (the only time it is visible)."""
    _check_name("tenant", tenant)
    _check_name("team", team)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=new_id("key_", 16),
            key_hash=hash_key(key),
            tenant=tenant,
            team=team,
            role=role.value,
            created_at=int(time.time()),
        )
    )
    await session.commit()
    return key


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """Resolve an ``Authorization: Bearer`` header to a principal, or raise 401."""
    if not authorization:
        raise AuthenticationFailed(
            "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer KEY'."
        )
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise AuthenticationFailed("The Authorization header must be 'Bearer KEY'.")
    # One indexed lookup per request, never cached: a revoked key stops working at once.
    lookup = select(ApiKey.id, ApiKey.tenant, ApiKey.team, ApiKey.role, ApiKey.revoked_at)
    row = (await session.execute(lookup.where(ApiKey.key_hash == hash_key(key)))).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("Incorrect API key provided. Create one with 'tunegate keys create'.")
    return Principal(key_id=row.id, tenant=row.tenant, team=row.team, role=Role(row.role))
