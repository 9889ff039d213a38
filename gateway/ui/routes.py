"""/ui: the reviewer's pages, rendered on the server (plain HTML forms, no scripts).

Every response here carries the security headers; every POST passes the origin check, the
session check and the CSRF check, in that order, before anything is read from its form. Errors
of the services (another tenant's id, a missing one, a decided review) become HTML pages.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from gateway.auth import Role
from gateway.errors import (
    AuthenticationFailed,
    Conflict,
    GatewayError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from gateway.evals._html import chart
from gateway.evals.report import EvalReport
from gateway.services.container import Services
from gateway.services.reviews import MAX_REASON_CHARS, REVIEW_STATUSES
from gateway.ui import queries, session

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_FILES = {"ui.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
QUEUE_FILTERS = (("pending", "Waiting"), ("approved", "Approved"), ("rejected", "Rejected"), ("all", "All"))
AUDIT_PAGE = 50


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _delta(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} pts"


def _chart(report: EvalReport) -> Markup:
    return Markup(chart(report))  # the chart escapes every text it writes


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(when=queries.when, age=queries.age, pct=_pct, delta=_delta)
templates.globals.update(chart=_chart, max_reason=MAX_REASON_CHARS)


class _SignInFirst(Exception):
    """No live session: send the browser to the sign-in page (and back afterwards)."""


class _Refused(Exception):
    """A POST that failed the origin or CSRF check: 403, nothing read, nothing changed."""


def _services(request: Request) -> Services:
    return request.app.state.services


async def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    ui: session.UiSession | None = getattr(request.state, "ui", None)
    if ui is not None and "pending" not in context:
        context["pending"] = await queries.pending_count(_services(request), ui.principal)
    html = templates.get_template(name).render(
        me=ui.principal if ui else None,
        is_admin=bool(ui and ui.principal.role == Role.ADMIN),
        csrf=ui.csrf_token if ui else None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


async def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return await _render(request, "error.html", status=status, title=title, message=message)


class UIRoute(APIRoute):
    """Adds the security headers to every response and turns errors into pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except _SignInFirst:
                target = "/ui/sign-in"
                if request.method == "GET" and request.url.path not in ("/ui", "/ui/"):
                    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    target += "?next=" + quote(wanted, safe="")
                response = RedirectResponse(target, status_code=303)
            except _Refused:
                response = await _error_page(
                    request,
                    403,
                    "Request refused",
                    "This form did not come from a page of this gateway, or it has expired. Nothing was "
                    "changed. Go back, reload the page and try again.",
                )
            except NotFound:
                response = await _error_page(
                    request, 404, "Not found", "There is nothing here, or it belongs to another tenant."
                )
            except PermissionDenied as exc:
                response = await _error_page(request, 403, "Not allowed", exc.message)
            except (GatewayError, RequestValidationError) as exc:
                message = exc.message if isinstance(exc, GatewayError) else "The request was not understood."
                status = exc.status_code if isinstance(exc, GatewayError) and exc.status_code < 500 else 400
                response = await _error_page(request, status, "Something went wrong", message)
            for name, value in SECURITY_HEADERS.items():
                response.headers[name] = value
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return wrapped


router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)


async def _signed_in(request: Request) -> session.UiSession:
    ui = await session.current(_services(request), request)
    if ui is None:
        raise _SignInFirst()
    request.state.ui = ui
    return ui


async def _checked_post(request: Request) -> tuple[session.UiSession, dict[str, str]]:
    """Origin, then session, then the form's CSRF token; only then is the form used."""
    if not session.same_origin(request):
        raise _Refused()
    ui = await _signed_in(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not session.tokens_match(fields.get(session.CSRF_FIELD), ui.csrf_token):
        raise _Refused()
    return ui, fields


def _safe_next(value: str | None) -> str:
    """Only a page of this UI: no other site, no scheme-relative URL, no sign-in loop."""
    if (
        not value
        or not value.startswith("/ui/")
        or value.startswith("//")
        or "\\" in value
        or value.startswith(("/ui/sign-in", "/ui/sign-out", "/ui/static"))
    ):
        return "/ui/queue"
    return value


# --- static -----------------------------------------------------------------------------------
@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound(f"No such file: {name}")
    return FileResponse(
        STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"}
    )


# --- signing in and out -----------------------------------------------------------------------
@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    await _signed_in(request)
    return RedirectResponse("/ui/queue", status_code=303)


async def _sign_in_form(
    request: Request, status: int = 200, error: str | None = None, next_url: str | None = None
) -> HTMLResponse:
    token = session.new_token()
    services = _services(request)
    response = await _render(
        request,
        "sign_in.html",
        status=status,
        title="Sign in",
        sign_in_token=token,
        error=error,
        next_url=_safe_next(next_url),
        signed_out=request.query_params.get("signed_out") == "1",
    )
    session.set_sign_in_cookie(response, request, services, token)
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    if await session.current(_services(request), request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return await _sign_in_form(request, next_url=next)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    if not session.same_origin(request):
        raise _Refused()
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not session.tokens_match(fields.get(session.CSRF_FIELD), request.cookies.get(session.SIGN_IN_COOKIE)):
        raise _Refused()
    services = _services(request)
    next_url = fields.get("next")
    key = fields.get("api_key", "").strip()
    if not key:
        return await _sign_in_form(request, 400, "Enter your reviewer API key.", next_url)
    try:
        token, _ = await session.sign_in(services, key)
    except AuthenticationFailed:
        return await _sign_in_form(
            request, 401, "That key was not accepted: it is unknown or has been revoked.", next_url
        )
    except PermissionDenied as exc:
        return await _sign_in_form(request, 403, exc.message, next_url)
    response = RedirectResponse(_safe_next(next_url), status_code=303)
    session.set_session_cookie(response, request, services, token)
    session.clear_cookie(response, request, services, session.SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    ui, _ = await _checked_post(request)
    services = _services(request)
    await session.sign_out(services, ui)
    response = RedirectResponse("/ui/sign-in?signed_out=1", status_code=303)
    session.clear_cookie(response, request, services)
    return response


# --- the queue, reviews, files, jobs, the audit log -------------------------------------------
@router.get("/queue")
async def queue_page(request: Request, status: str = "pending") -> Response:
    ui = await _signed_in(request)
    if status not in (*REVIEW_STATUSES, "all"):
        status = "pending"
    rows = await queries.queue(_services(request), ui.principal, status)
    return await _render(
        request, "queue.html", title="Review queue", rows=rows, shown=status, filters=QUEUE_FILTERS
    )


async def _review_response(
    request: Request, review_id: str, status: int = 200, error: str | None = None, reason: str = ""
) -> HTMLResponse:
    ui: session.UiSession = request.state.ui
    page = await queries.review_page(_services(request), ui.principal, review_id)
    template = "job.html" if page.job is not None else "file.html"
    title = f"Review {review_id}"
    return await _render(
        request,
        template,
        status=status,
        title=title,
        review=page.review,
        view=page.file,
        jobview=page.job,
        error=error,
        reason=reason,
        decided=request.query_params.get("decided") == "1",
    )


@router.get("/reviews/{review_id}")
async def review(request: Request, review_id: str) -> Response:
    await _signed_in(request)
    return await _review_response(request, review_id)


@router.post("/reviews/{review_id}/decide")
async def decide(request: Request, review_id: str) -> Response:
    ui, fields = await _checked_post(request)
    services = _services(request)
    decision = fields.get("decision")
    reason = fields.get("reason", "")
    if decision not in ("approve", "reject"):
        return await _review_response(request, review_id, 400, "Choose Approve or Reject.", reason)
    if not reason.strip():
        verb = "approving" if decision == "approve" else "rejecting"
        return await _review_response(
            request, review_id, 400, f"Write a reason before {verb}: it goes into the audit log.", reason
        )
    act = services.reviews.approve if decision == "approve" else services.reviews.reject
    try:
        await act(ui.principal, review_id, reason)
    except InvalidRequest as exc:
        return await _review_response(request, review_id, 400, exc.message, reason)
    except Conflict as exc:
        return await _review_response(request, review_id, 409, exc.message, reason)
    return RedirectResponse(f"/ui/reviews/{quote(review_id, safe='')}?decided=1", status_code=303)


@router.get("/files/{file_id}")
async def file(request: Request, file_id: str) -> Response:
    ui = await _signed_in(request)
    page = await queries.file_page(_services(request), ui.principal, file_id)
    if isinstance(page, queries.ReviewPage):
        return RedirectResponse(f"/ui/reviews/{quote(page.review['id'], safe='')}", status_code=303)
    return await _render(request, "file.html", title=f"File {file_id}", review=None, view=page, jobview=None)


@router.get("/jobs/{job_id}")
async def job(request: Request, job_id: str) -> Response:
    ui = await _signed_in(request)
    view = await queries.job_view(_services(request), ui.principal, job_id)
    return await _render(request, "job.html", title=f"Job {job_id}", review=None, jobview=view)


@router.get("/audit")
async def audit(request: Request, after: int | None = None) -> Response:
    ui = await _signed_in(request)
    entries, more = await _services(request).reviews.audit_log(
        ui.principal, subject=None, after_seq=after, limit=AUDIT_PAGE
    )
    return await _render(
        request,
        "audit.html",
        title="Audit log",
        entries=entries,
        older=entries[-1]["seq"] if more and entries else None,
    )


@router.get("/{rest:path}")
async def unknown(request: Request, rest: str) -> Response:
    await _signed_in(request)
    raise NotFound(f"No such page: /ui/{rest}")
