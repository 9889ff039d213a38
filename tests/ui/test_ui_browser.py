"""The reviewer pages in a real browser: Debian's headless Chromium driven by Playwright.

A real gateway and the session's reference trainer; a user of tenant acme uploads two files that
the policy holds (tests/ui/conftest.py) and starts a job on each. A reviewer signs in with the
keyboard alone, reads the flagged rows and approves the first file: its job trains, the model
gate holds the model for review (its judge fails the tiny model), and the reviewer reads the
safety report chart and releases it. An admin rejects the second file: its job fails with the
reason. Screenshots of every page go to tests/artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import wait_for
from tests.ui.conftest import ENCODED_LINE, ENCODED_TEXT, HELD_TEXT, PLAIN_LINE, UiGateway

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install .[dev])"
)
expect = playwright_api.expect

CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
        if p and Path(p).exists()
    ),
    None,
)
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
TENANT = "acme"
WIDE = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: `make browser` installs Debian's chromium and chromium-driver"
)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("chromium-home")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            env={**os.environ, "HOME": str(home)},  # Playwright gives it a fresh profile; nothing lands in ~
        )
        yield browser
        browser.close()


@pytest.fixture
def context(chromium, ui_gateway):  # type: ignore[no-untyped-def]
    opened = chromium.new_context(base_url=ui_gateway.base, viewport=WIDE)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def held(ui_gateway: UiGateway) -> dict[str, str]:
    """Two held files of acme, each with a job waiting in validating_files."""
    approve_file, approve_job = ui_gateway.upload_held(TENANT, "approve-me", with_job=True)
    reject_file, reject_job = ui_gateway.upload_held(TENANT, "reject-me", with_job=True)
    assert approve_job and reject_job
    return {
        "approve_file": approve_file,
        "approve_job": approve_job,
        "approve_review": ui_gateway.pending_review(TENANT, file_id=approve_file),
        "reject_file": reject_file,
        "reject_job": reject_job,
        "reject_review": ui_gateway.pending_review(TENANT, file_id=reject_file),
    }


APPROVE_REASON = "Quoted from a lab safety manual; acceptable in context."
REJECT_REASON = "Synthesis instructions; not acceptable training data."


def _ensure_decided(ui_gateway: UiGateway, review_id: str, verb: str, reason: str) -> None:
    """For tests run alone: make the decision an earlier test makes in the browser."""
    if ui_gateway.review(TENANT, review_id)["status"] == "pending":
        response = ui_gateway.api(
            ui_gateway.key(TENANT, "safety", "reviewer"),
            "POST",
            f"/tunegate/reviews/{review_id}/{verb}",
            json={"reason": reason},
        )
        assert response.status_code == 200, response.text


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _sign_in(page: Any, key: str) -> None:
    page.goto("/ui/sign-in")
    page.get_by_label("Reviewer API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r".*/ui/queue$"))


def _tab_to(page: Any, predicate: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies the JS predicate on ``el``."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!el && ({predicate}); }})()"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached an element with {predicate}")


def test_a_reviewer_signs_in_with_the_keyboard_reads_the_rows_and_approves(ui_gateway, context, held):
    page = context.new_page()
    page.goto("/ui/queue")
    expect(page).to_have_url(re.compile(r".*/ui/sign-in\?next="))
    expect(page.get_by_role("heading", name="Sign in to review")).to_be_visible()
    _shot(page, "01-sign-in.png")

    # Keyboard only: Tab to the key field, type, Enter.
    _tab_to(page, "el.id === 'api_key'")
    page.keyboard.type(ui_gateway.key(TENANT, "safety", "reviewer"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r".*/ui/queue$"))

    # The queue: both held files, with team, policy, age and reason.
    queue = page.locator("table.queue tbody tr")
    row = queue.filter(has_text="acme-approve-me.jsonl")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Training file")
    expect(row).to_contain_text("ml")
    expect(row).to_contain_text("hold-for-review")
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("harmful rows")
    expect(row).to_contain_text("1 job waiting")
    expect(queue.filter(has_text="acme-reject-me.jsonl")).to_have_count(1)
    _shot(page, "02-queue.png")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _shot(page, "07-queue-narrow-390px.png")
    page.set_viewport_size(WIDE)

    # The file: flagged rows with line, category and score; text collapsed until opened.
    page.get_by_role("link", name="acme-approve-me.jsonl").click()
    expect(page).to_have_url(re.compile(f".*/ui/reviews/{held['approve_review']}$"))
    plain = page.locator(f"#line-{PLAIN_LINE}")
    expect(plain.locator(".line")).to_have_text(str(PLAIN_LINE))
    expect(plain).to_contain_text("Flagged")
    expect(plain).to_contain_text("weapons_synthesis")
    expect(plain).to_contain_text("1.00")
    expect(page.get_by_text(HELD_TEXT)).to_be_hidden()
    encoded = page.locator(f"#line-{ENCODED_LINE}")
    expect(encoded).to_contain_text("decoded from base64")
    expect(page.get_by_text(ENCODED_TEXT)).to_be_hidden()
    expect(page.locator("#dataset-title + .table-wrap")).to_contain_text("near_duplicates")
    expect(page.locator(".bound")).to_contain_text("at most")
    expect(page.locator("#jobs-title + .table-wrap")).to_contain_text(held["approve_job"])

    # Keyboard: open the first row's text with Enter.
    _tab_to(page, f"el.tagName === 'SUMMARY' && el.closest('#line-{PLAIN_LINE}') !== null")
    page.keyboard.press("Enter")
    expect(plain.get_by_text(HELD_TEXT)).to_be_visible()
    expect(plain.locator(".message-flagged")).to_contain_text("assistant")
    encoded.locator("summary").click()
    expect(encoded.locator(".decoded")).to_contain_text(ENCODED_TEXT)
    _shot(page, "03-file-row-expanded.png")

    # Keyboard: Tab to the reason, type it, Tab to Approve, Enter.
    _tab_to(page, "el.id === 'reason'")
    page.keyboard.type(APPROVE_REASON)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "approve"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Decision recorded.")
    expect(page.locator(".decision")).to_contain_text("Approved")
    expect(page.locator(".decision blockquote")).to_have_text(APPROVE_REASON)
    _shot(page, "04-file-approved.png")

    # The job proceeds: it is forwarded and trains (the provider may report validating_files for a
    # moment after the forward, so wait for training), and the job page agrees with the API.
    wait_for(
        lambda: ui_gateway.job(TENANT, held["approve_job"]),
        lambda j: j["status"] in ("running", "succeeded"),
        timeout=120,
    )
    page.locator("#jobs-title + .table-wrap").get_by_role("link", name=held["approve_job"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(held["approve_job"])
    expect(page.locator(".facts-inline")).to_contain_text(re.compile("running|succeeded"))
    expect(page.locator("#reviews-title + .table-wrap")).to_contain_text(APPROVE_REASON)


def test_an_admin_rejects_a_file_and_its_job_fails_with_the_reason(ui_gateway, context, held):
    page = context.new_page()
    _sign_in(page, ui_gateway.key(TENANT, "ops", "admin"))
    page.goto(f"/ui/reviews/{held['reject_review']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("acme-reject-me.jsonl")

    # An empty reason is refused and nothing changes.
    page.get_by_role("button", name="Reject").click()  # the browser's own check stops an empty form...
    assert ui_gateway.review(TENANT, held["reject_review"])["status"] == "pending"
    page.get_by_label("Reason").fill("   ")  # ... and the server refuses a blank one
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("Write a reason before rejecting")
    assert ui_gateway.review(TENANT, held["reject_review"])["status"] == "pending"

    page.get_by_label("Reason").fill(REJECT_REASON)
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".decision")).to_contain_text("Rejected")

    failed = wait_for(
        lambda: ui_gateway.job(TENANT, held["reject_job"]), lambda j: j["status"] == "failed", timeout=60
    )
    assert failed["error"]["code"] == "invalid_training_file" and REJECT_REASON in failed["error"]["message"]
    page.goto(f"/ui/jobs/{held['reject_job']}")
    expect(page.locator(".facts-inline")).to_contain_text("failed")
    expect(page.locator(".notice-error")).to_contain_text(f"Rejected in human review: {REJECT_REASON}")
    _shot(page, "06-job-rejected-file.png")


def test_the_audit_log_shows_both_decisions(ui_gateway, context, held):
    _ensure_decided(ui_gateway, held["approve_review"], "approve", APPROVE_REASON)
    _ensure_decided(ui_gateway, held["reject_review"], "reject", REJECT_REASON)
    page = context.new_page()
    _sign_in(page, ui_gateway.key(TENANT, "ops", "admin"))
    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.audit tbody tr")
    approved = rows.filter(has_text=held["approve_review"])
    expect(approved).to_contain_text("Approved")
    expect(approved).to_contain_text(APPROVE_REASON)
    expect(approved).to_contain_text(held["approve_file"])
    rejected = rows.filter(has_text=held["reject_review"])
    expect(rejected).to_contain_text("Rejected")
    expect(rejected).to_contain_text(REJECT_REASON)
    expect(rejected).to_contain_text("(ops, admin)")
    _shot(page, "08-audit-log.png")

    # A reviewer has no audit log (admins only, as in the API).
    reviewer = context.browser.new_context(base_url=ui_gateway.base, viewport=WIDE)
    try:
        other = reviewer.new_page()
        _sign_in(other, ui_gateway.key(TENANT, "safety", "reviewer"))
        expect(other.get_by_role("link", name="Audit log")).to_have_count(0)
        response = other.goto("/ui/audit")
        assert response is not None and response.status == 403
        expect(other.get_by_role("alert")).to_contain_text("admin")
    finally:
        reviewer.close()


def test_the_model_gate_holds_the_trained_model_and_the_reviewer_releases_it(ui_gateway, context, held):
    _ensure_decided(ui_gateway, held["approve_review"], "approve", APPROVE_REASON)
    review_id = ui_gateway.pending_review(TENANT, job_id=held["approve_job"])  # trains, then the gate runs
    page = context.new_page()
    _sign_in(page, ui_gateway.key(TENANT, "safety", "reviewer"))
    row = page.locator("table.queue tbody tr").filter(has_text=held["approve_job"])
    expect(row).to_contain_text("Fine-tuned model")
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(held["approve_job"])
    expect(page.locator(".facts-inline")).to_contain_text("Held for human review")
    expect(page.locator(".verdict")).to_contain_text("Failed")
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_contain_text("base vs fine-tuned")
    expect(chart).to_contain_text("Fine-tuned model")
    table = page.locator("figure.chart + .table-wrap")
    expect(table).to_contain_text("Overall")
    expect(table).to_contain_text("100.0%")  # the keyword judge: every answer of the tiny model is harmful
    _shot(page, "05-job-model-review-chart.png")

    page.get_by_label("Reason").fill("Reviewed the report: the tiny model never refuses; fine for the demo.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".facts-inline")).to_contain_text("Released")
    assert ui_gateway.review(TENANT, review_id)["status"] == "approved"
    job = ui_gateway.job(TENANT, held["approve_job"])
    assert job["status"] == "succeeded" and job["fine_tuned_model"]
    expect(page.locator(".facts-inline")).to_contain_text(job["fine_tuned_model"])


def test_another_tenants_reviewer_sees_nothing_of_acme(ui_gateway, context, held):
    page = context.new_page()
    _sign_in(page, ui_gateway.key("globex", "safety", "reviewer"))
    page.goto("/ui/queue?status=all")
    for ident in held.values():
        expect(page.locator("main")).not_to_contain_text(ident)
    for path in (
        f"/ui/reviews/{held['approve_review']}",
        f"/ui/files/{held['approve_file']}",
        f"/ui/jobs/{held['approve_job']}",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.locator("main")).not_to_contain_text("acme")
    _shot(page, "09-not-found-other-tenant.png")


def test_signing_out_ends_the_session_for_the_old_cookie_too(ui_gateway, context, chromium):
    page = context.new_page()
    _sign_in(page, ui_gateway.key(TENANT, "safety", "reviewer"))
    (cookie,) = [c for c in context.cookies() if c["name"] == "tunegate_ui"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert not [c for c in context.cookies() if c["name"] == "tunegate_ui"]

    # Someone who kept a copy of the cookie gets the sign-in page, not the queue.
    replay = chromium.new_context(base_url=ui_gateway.base, viewport=WIDE)
    try:
        replay.add_cookies([cookie])
        other = replay.new_page()
        other.goto("/ui/queue")
        expect(other).to_have_url(re.compile(r".*/ui/sign-in"))
        expect(other.get_by_role("heading", name="Sign in to review")).to_be_visible()
    finally:
        replay.close()
