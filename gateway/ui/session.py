"""Signed-in sessions of the reviewer pages, kept server-side, and the checks every POST passes.

The cookie holds a random 256-bit token; the database holds only its SHA-256 (like API keys), so
a leaked table row does not sign anyone in. Sessions live in the database rather than in a
signed cookie so that every replica sees them and signing out ends them everywhere. The API key
behind a session is looked up again on every request: revoking or deleting it ends the session.

CSRF: each session has a synchronizer token that every form carries; the sign-in form, which
comes before any session, carries a token matched against a short-lived cookie (double submit).
A POST whose ``Origin`` or ``Sec-Fetch-Site`` says it came from another site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy import delete, update

from gateway.auth import Principal, Role, authenticate
from gateway.errors import PermissionDenied
from gateway.services.container import Services
from gateway.store import tables

COOKIE = "tunegate_ui"
SIGN_IN_COOKIE = "tunegate_ui_signin"  # the sign-in form's CSRF token, before a session exists
COOKIE_PATH = "/ui"
SIGN_IN_TOKEN_SECONDS = 3600
CSRF_FIELD = "csrf_token"
SIGN_IN_ROLES = (Role.REVIEWER, Role.ADMIN)


@dataclass(frozen=True)
class UiSession:
    id: str
    principal: Principal
    csrf_token: str
    expires_at: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


async def sign_in(services: Services, api_key: str) -> tuple[str, UiSession]:
    """Check the key and open a session: (the cookie's token, the session).

    Raises ``AuthenticationFailed`` for an unknown or revoked key and ``PermissionDenied`` for
    a key whose role may not review.
    """
    now = int(time.time())
    async with services.sessions() as db:
        principal = await authenticate(db, f"Bearer {api_key.strip()}")
        if principal.role not in SIGN_IN_ROLES:
            raise PermissionDenied(
                f"This key has the role {principal.role.value}. The review pages are for keys with "
                "the role reviewer or admin; ask your platform team for one."
            )
        token = new_token()
        row = tables.UiSession(
            id=_hash(token),
            key_id=principal.key_id,
            tenant=principal.tenant,
            team=principal.team,
            role=principal.role.value,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + services.settings.ui.session_ttl_seconds,
            revoked=False,
        )
        db.add(row)
        # Expired sessions are of no use to anyone: clear them out now and then.
        await db.execute(delete(tables.UiSession).where(tables.UiSession.expires_at < now - 86400))
        await db.commit()
    return token, UiSession(row.id, principal, row.csrf_token, row.expires_at)


async def current(services: Services, request: Request) -> UiSession | None:
    """The request's live session, or None (no cookie, unknown, expired, revoked, key gone)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    now = int(time.time())
    async with services.sessions() as db:
        row = await db.get(tables.UiSession, _hash(token))
        if row is None or row.revoked or row.expires_at <= now:
            return None
        key = await db.get(tables.ApiKey, row.key_id)
        if key is None or key.revoked_at is not None or Role(key.role) not in SIGN_IN_ROLES:
            row.revoked = True
            await db.commit()
            return None
        principal = Principal(key_id=key.id, tenant=key.tenant, team=key.team, role=Role(key.role))
    return UiSession(row.id, principal, row.csrf_token, row.expires_at)


async def sign_out(services: Services, session: UiSession) -> None:
    async with services.sessions() as db:
        await db.execute(
            update(tables.UiSession).where(tables.UiSession.id == session.id).values(revoked=True)
        )
        await db.commit()


def _secure(request: Request, services: Services) -> bool:
    return services.settings.ui.secure_cookies or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, services: Services, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=services.settings.ui.session_ttl_seconds,
        path=COOKIE_PATH,
        secure=_secure(request, services),
        httponly=True,
        samesite="strict",
    )


def set_sign_in_cookie(response: Response, request: Request, services: Services, token: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=SIGN_IN_TOKEN_SECONDS,
        path=COOKIE_PATH,
        secure=_secure(request, services),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, request: Request, services: Services, name: str = COOKIE) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, secure=_secure(request, services), httponly=True, samesite="strict"
    )


def same_origin(request: Request) -> bool:
    """False when the request says it comes from another origin than the gateway's own.

    Browsers send ``Origin`` on every form POST. Under ``Referrer-Policy: no-referrer`` (which
    these pages set) they send ``Origin: null`` even for same-origin posts, so ``null`` is
    accepted only with ``Sec-Fetch-Site: same-origin``, which browsers set themselves and pages
    cannot forge. A request with neither header (curl, old clients) is left to the CSRF token.
    The host must match the Host header; the scheme may differ (a TLS-terminating proxy).
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return fetch_site == "same-origin"
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = request.headers.get("host", "")
    return parts.netloc.lower() == host.lower()
