"""API keys: stored as hashes only, resolved to a principal, rejected with 401 otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.auth import Role, authenticate, create_key, hash_key
from gateway.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from gateway.store.tables import ApiKey
from tests.gateway.store.conftest import engine, sessions  # noqa: F401  (fixtures)


async def test_key_round_trip_and_only_hash_stored(sessions):  # noqa: F811
    async with sessions() as session:
        key = await create_key(session, tenant="acme", team="ml", role=Role.REVIEWER)
    async with sessions() as session:
        principal = await authenticate(session, f"Bearer {key}")
        stored = (await session.scalars(select(ApiKey))).all()
    assert (principal.tenant, principal.team, principal.role) == ("acme", "ml", Role.REVIEWER)
    assert len(stored) == 1 and stored[0].key_hash == hash_key(key)
    assert all(key not in str(value) for value in vars(stored[0]).values())
    with pytest.raises(PermissionDenied):
        principal.require(Role.ADMIN)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer tg-wrong"])
async def test_bad_credentials_are_401(sessions, header):  # noqa: F811
    async with sessions() as session:
        with pytest.raises(AuthenticationFailed):
            await authenticate(session, header)


async def test_names_are_checked(sessions):  # noqa: F811
    async with sessions() as session:
        with pytest.raises(InvalidRequest):
            await create_key(session, tenant="a b", team="ml", role=Role.USER)
