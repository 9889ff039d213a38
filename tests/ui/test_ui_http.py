"""The reviewer pages over plain HTTP (no browser): sessions, CSRF, origins, headers, tenancy.

A real gateway process (tests/ui/conftest.py); httpx plays the browser. Where no API exists
for what is tested (ageing a session, revoking an API key), the test edits the gateway's own
SQLite database, as an operator would.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import time
from typing import Any

import httpx
import pytest

from tests.ui.conftest import UiGateway, form_token

TENANT = "initech"


class Browser:
    """An httpx client that keeps cookies and sends Origin like a browser does on form posts."""

    def __init__(self, gateway: UiGateway, *, origin: str | None = "self") -> None:
        self.gateway = gateway
        self.client = httpx.Client(base_url=gateway.base, timeout=30, follow_redirects=False)
        self.origin = gateway.base if origin == "self" else origin

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, str], *, origin: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        sent = origin or self.origin
        if sent:
            headers["Origin"] = sent
        return self.client.post(path, data=data, headers=headers, **kwargs)

    def sign_in(self, key: str, **kwargs: Any) -> httpx.Response:
        page = self.get("/ui/sign-in")
        assert page.status_code == 200, page.text
        return self.post("/ui/sign-in", {"csrf_token": form_token(page.text), "api_key": key}, **kwargs)

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="module")
def held(ui_gateway: UiGateway) -> dict[str, str]:
    """Two held files of the tenant: one to decide here (no job: nothing trains), one with a waiting job."""
    decide_file, _ = ui_gateway.upload_held(TENANT, "decide", with_job=False)
    other_file, other_job = ui_gateway.upload_held(TENANT, "waiting", with_job=True)
    assert other_job
    return {
        "decide_file": decide_file,
        "decide_review": ui_gateway.pending_review(TENANT, file_id=decide_file),
        "file": other_file,
        "job": other_job,
        "review": ui_gateway.pending_review(TENANT, file_id=other_file),
    }


@pytest.fixture
def browser(ui_gateway: UiGateway):  # type: ignore[no-untyped-def]
    opened = Browser(ui_gateway)
    yield opened
    opened.close()


def _cookie_header(response: httpx.Response, name: str) -> str:
    (found,) = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    return found


def _signed_in(ui_gateway: UiGateway, browser: Browser, role: str = "reviewer", tenant: str = TENANT) -> str:
    """Sign in; return the CSRF token of the session's forms."""
    response = browser.sign_in(ui_gateway.key(tenant, "safety", role))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ui/queue"
    queue = browser.get("/ui/queue")
    assert queue.status_code == 200
    return form_token(queue.text)


def test_sign_in_sets_a_strict_cookie_and_every_page_carries_the_security_headers(ui_gateway, browser):
    page = browser.get("/ui/sign-in")
    for response in (page, browser.get("/ui/static/ui.css")):
        assert "script-src 'none'" in response.headers["content-security-policy"]
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text

    signed_in = browser.post(
        "/ui/sign-in",
        {"csrf_token": form_token(page.text), "api_key": ui_gateway.key(TENANT, "safety", "reviewer")},
    )
    assert signed_in.status_code == 303, signed_in.text
    cookie = _cookie_header(signed_in, "tunegate_ui").lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
    assert "secure" not in cookie  # plain http here; see the https case below
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 256 random bits, URL-safe base64

    queue = browser.get("/ui/queue")
    assert queue.status_code == 200 and "Review queue" in queue.text
    assert queue.headers["cache-control"] == "no-store"
    assert queue.headers["x-frame-options"] == "DENY"
    # The database keeps only the token's hash.
    with contextlib.closing(sqlite3.connect(ui_gateway.process.workdir / "data" / "tunegate.db")) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM ui_sessions")]
    assert token not in ids and len(ids) >= 1

    # Behind a TLS-terminating proxy on this host (uvicorn trusts X-Forwarded-Proto from 127.0.0.1)
    # the cookie is Secure.
    proxied = Browser(ui_gateway)
    try:
        page = proxied.get("/ui/sign-in", headers={"X-Forwarded-Proto": "https"})
        sign_in_cookie = _cookie_header(page, "tunegate_ui_signin")
        assert "secure" in sign_in_cookie.lower()
        proxied.client.cookies.clear()  # a Secure cookie: httpx would not send it over http itself
        response = proxied.post(
            "/ui/sign-in",
            {"csrf_token": form_token(page.text), "api_key": ui_gateway.key(TENANT, "safety", "reviewer")},
            headers={"X-Forwarded-Proto": "https", "Cookie": sign_in_cookie.split(";")[0]},
            origin=ui_gateway.base.replace("http://", "https://"),
        )
        assert response.status_code == 303, response.text
        assert "secure" in _cookie_header(response, "tunegate_ui").lower()
    finally:
        proxied.close()


def test_only_reviewer_and_admin_keys_may_sign_in(ui_gateway, browser):
    user = browser.sign_in(ui_gateway.key(TENANT, "ml", "user"))
    assert user.status_code == 403
    assert "role user" in user.text and "reviewer or admin" in user.text
    assert not [c for c in user.headers.get_list("set-cookie") if c.startswith("tunegate_ui=")]
    assert browser.get("/ui/queue").status_code == 303

    unknown = browser.sign_in("tg-not-a-key")
    assert unknown.status_code == 401 and "unknown or has been revoked" in unknown.text

    admin = browser.sign_in(ui_gateway.key(TENANT, "ops", "admin"))
    assert admin.status_code == 303
    assert browser.get("/ui/audit").status_code == 200


def test_posts_without_the_sessions_csrf_token_change_nothing(ui_gateway, browser, held):
    token = _signed_in(ui_gateway, browser)
    review = held["decide_review"]
    path = f"/ui/reviews/{review}/decide"
    for data in (
        {"decision": "approve", "reason": "fine"},
        {"decision": "approve", "reason": "fine", "csrf_token": ""},
        {"decision": "approve", "reason": "fine", "csrf_token": token[:-2] + "xx"},
    ):
        refused = browser.post(path, data)
        assert refused.status_code == 403, refused.text
        assert "Request refused" in refused.text and "Nothing was changed" in refused.text
    assert ui_gateway.review(TENANT, review)["status"] == "pending"

    # Another session's token does not fit this one.
    other = Browser(ui_gateway)
    try:
        other_token = _signed_in(ui_gateway, other)
    finally:
        other.close()
    assert other_token != token
    assert (
        browser.post(path, {"decision": "approve", "reason": "x", "csrf_token": other_token}).status_code
        == 403
    )

    # Sign-out needs the token too; the session survives a forged one.
    assert browser.post("/ui/sign-out", {}).status_code == 403
    assert browser.get("/ui/queue").status_code == 200

    # The sign-in form's token must match its cookie.
    fresh = Browser(ui_gateway)
    try:
        fresh.get("/ui/sign-in")
        forged = fresh.post(
            "/ui/sign-in", {"csrf_token": "forged", "api_key": ui_gateway.key(TENANT, "safety", "reviewer")}
        )
        assert forged.status_code == 403
        assert fresh.get("/ui/queue").status_code == 303
    finally:
        fresh.close()
    assert ui_gateway.review(TENANT, review)["status"] == "pending"


def test_a_post_from_another_origin_is_refused(ui_gateway, browser, held):
    token = _signed_in(ui_gateway, browser)
    path = f"/ui/reviews/{held['decide_review']}/decide"
    for origin, fetch_site in (
        ("http://evil.example", None),
        ("null", None),  # a sandboxed frame anywhere
        ("null", "cross-site"),
        (ui_gateway.base.replace("127.0.0.1", "localhost"), None),
        (ui_gateway.base, "cross-site"),  # the browser's own word beats a header a proxy may rewrite
        (ui_gateway.base, "same-site"),
    ):
        headers = {"Sec-Fetch-Site": fetch_site} if fetch_site else {}
        refused = browser.post(
            path, {"decision": "reject", "reason": "x", "csrf_token": token}, origin=origin, headers=headers
        )
        assert refused.status_code == 403, (origin, fetch_site, refused.text)
        assert "Request refused" in refused.text
    assert ui_gateway.review(TENANT, held["decide_review"])["status"] == "pending"


def test_a_decision_needs_a_reason_and_then_goes_through_the_review_service(ui_gateway, browser, held):
    token = _signed_in(ui_gateway, browser)
    review = held["decide_review"]
    path = f"/ui/reviews/{review}/decide"
    for reason in ("", "   \n"):
        refused = browser.post(path, {"decision": "approve", "reason": reason, "csrf_token": token})
        assert refused.status_code == 400
        assert "Write a reason before approving" in refused.text
        assert 'aria-invalid="true"' in refused.text
    assert ui_gateway.review(TENANT, review)["status"] == "pending"

    # As Chromium posts under Referrer-Policy no-referrer: Origin null, Sec-Fetch-Site same-origin.
    reason = "Quoted from a lab safety manual; acceptable in context."
    decided = browser.post(
        path,
        {"decision": "approve", "reason": reason, "csrf_token": token},
        origin="null",
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert decided.status_code == 303 and decided.headers["location"] == f"/ui/reviews/{review}?decided=1"
    shown = ui_gateway.review(TENANT, review)
    assert shown["status"] == "approved" and shown["decision_reason"] == reason
    assert "(safety, reviewer)" in shown["decided_by"]
    page = browser.get(decided.headers["location"])
    assert "Decision recorded." in page.text and reason in page.text

    # Decided once: the form is gone and a replayed post is a conflict that changes nothing.
    again = browser.post(path, {"decision": "reject", "reason": "changed my mind", "csrf_token": token})
    assert again.status_code == 409 and "decided once" in again.text
    assert ui_gateway.review(TENANT, review)["status"] == "approved"

    # The same audit log as the API.
    log = ui_gateway.api(ui_gateway.key(TENANT, "ops", "admin"), "GET", "/tunegate/audit-log").json()
    assert [(e["action"], e["subject"], e["reason"]) for e in log["data"]] == [
        ("review.approve", review, reason)
    ]


def test_signed_out_expired_and_revoked_sessions_go_back_to_sign_in(ui_gateway):
    db_path = ui_gateway.process.workdir / "data" / "tunegate.db"

    def session_of(browser: Browser) -> str:
        browser.get("/ui/queue")
        return browser.client.cookies["tunegate_ui"]

    def replay(cookie: str, path: str = "/ui/reviews/anything") -> httpx.Response:
        return httpx.get(ui_gateway.base + path, cookies={"tunegate_ui": cookie}, timeout=30)

    # Signed out: the old cookie is refused server-side, not just deleted in the browser.
    first = Browser(ui_gateway)
    token = _signed_in(ui_gateway, first)
    cookie = session_of(first)
    out = first.post("/ui/sign-out", {"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/ui/sign-in?signed_out=1"
    assert "max-age=0" in _cookie_header(out, "tunegate_ui").lower()
    gone = replay(cookie)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/ui/sign-in?next=%2Fui%2Freviews%2Fanything"
    first.close()

    # Expired.
    second = Browser(ui_gateway)
    _signed_in(ui_gateway, second)
    cookie = session_of(second)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        db.execute(
            "UPDATE ui_sessions SET expires_at = ? WHERE id = ?",
            (int(time.time()) - 1, hashlib.sha256(cookie.encode()).hexdigest()),
        )
        db.commit()
    assert replay(cookie, "/ui/queue").status_code == 303
    second.close()

    # The API key behind the session is revoked: the next request ends the session.
    key = ui_gateway.key(TENANT, "temp", "reviewer")
    third = Browser(ui_gateway)
    assert third.sign_in(key).status_code == 303
    cookie = session_of(third)
    assert replay(cookie, "/ui/queue").status_code == 200
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        db.execute("UPDATE api_keys SET revoked_at = ? WHERE team = 'temp'", (int(time.time()),))
        db.commit()
    assert replay(cookie, "/ui/queue").status_code == 303
    third.close()


def test_another_tenants_items_are_404_pages_like_missing_ones(ui_gateway, browser, held):
    _signed_in(ui_gateway, browser, tenant="umbrella")
    queue = browser.get("/ui/queue?status=all")
    assert queue.status_code == 200
    for ident in held.values():
        assert ident not in queue.text
    for path, missing in (
        (f"/ui/reviews/{held['review']}", "/ui/reviews/review-nope"),
        (f"/ui/files/{held['file']}", "/ui/files/file-nope"),
        (f"/ui/jobs/{held['job']}", "/ui/jobs/ftjob-nope"),
    ):
        hidden = browser.get(path)
        absent = browser.get(missing)
        assert hidden.status_code == absent.status_code == 404
        assert "belongs to another tenant" in hidden.text
        assert re.sub(r"\s+", " ", hidden.text) == re.sub(r"\s+", " ", absent.text)
        assert held["file"] not in hidden.text
    token = form_token(queue.text)
    refused = browser.post(
        f"/ui/reviews/{held['review']}/decide",
        {"decision": "reject", "reason": "not mine", "csrf_token": token},
    )
    assert refused.status_code == 404
    assert ui_gateway.review(TENANT, held["review"])["status"] == "pending"

    # The owning tenant's reviewer opens the same URLs.
    mine = Browser(ui_gateway)
    try:
        _signed_in(ui_gateway, mine)
        assert mine.get(f"/ui/reviews/{held['review']}").status_code == 200
        assert mine.get(f"/ui/jobs/{held['job']}").status_code == 200
        to_review = mine.get(f"/ui/files/{held['file']}")
        assert (
            to_review.status_code == 303 and to_review.headers["location"] == f"/ui/reviews/{held['review']}"
        )
    finally:
        mine.close()
