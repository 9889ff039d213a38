"""The application factory: settings in, a FastAPI app with its services and worker out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import __version__, metrics
from gateway.api import files as files_api
from gateway.api import jobs as jobs_api
from gateway.api import models as models_api
from gateway.api import ops as ops_api
from gateway.api import reviews as reviews_api
from gateway.api.errors import install_error_handlers
from gateway.jobs.lifecycle import EVAL_WORK, POLL_WORK, SCAN_WORK, START_WORK
from gateway.jobs.queue import WorkQueue
from gateway.jobs.start import JobStarter, fail_job
from gateway.jobs.watch import JobWatcher
from gateway.jobs.worker import Worker
from gateway.release.evaluate import ModelEvaluator
from gateway.release.gate import EVAL_FAILED, decide_review
from gateway.scan.pipeline import FileScanner
from gateway.services.container import Services
from gateway.services.files import FileService
from gateway.services.jobs import JobService
from gateway.services.models import ModelService
from gateway.services.reviews import ReviewService
from gateway.settings import Settings, UpstreamSettings
from gateway.spool import Spool
from gateway.store import tables
from gateway.store.db import create_engine, migrate, session_factory
from gateway.upstreams.base import Upstream
from gateway.upstreams.registry import build_upstream
from policies.engine import EngineCache
from policies.registry import PolicySet

log = logging.getLogger(__name__)


def _upstream_from_settings(config: UpstreamSettings) -> Upstream:
    plain = SimpleNamespace(**config.model_dump())
    plain.api_key = config.api_key.get_secret_value() if config.api_key else None
    return build_upstream(plain, on_call=metrics.record_upstream_call)


def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    spool = Spool(settings.resolved_spool_dir)
    upstreams = {config.name: _upstream_from_settings(config) for config in settings.upstreams}
    policies = PolicySet(settings.resolved_policy_dir)
    policies.load()  # a broken policy directory stops startup, naming file:line
    reviews = ReviewService(sessions, spool)
    reviews.register("job", decide_review)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        spool=spool,
        upstreams=upstreams,
        policies=policies,
        files=FileService(sessions, spool, settings, policies),
        jobs=JobService(sessions, settings, upstreams, policies),
        models=ModelService(sessions, settings, upstreams),
        reviews=reviews,
    )


def build_worker(services: Services) -> Worker:
    settings = services.settings
    owner = f"{socket.gethostname()}:{os.getpid()}"
    queue = WorkQueue(services.sessions, owner=owner, lease_seconds=settings.worker.lease_seconds)

    async def scan_gave_up(scan_id: str, reason: str) -> None:
        async with services.sessions() as session:
            scan = await session.get(tables.Scan, scan_id)
            if scan is None or scan.status != "pending":
                return
            scan.status, scan.details = "failed", f"The scan could not complete: {reason}"
            file = await session.get(tables.File, scan.file_id)
            if file is not None and file.scan_id == scan.id:
                file.status, file.status_details = "error", scan.details
            await session.commit()

    async def job_gave_up(job_id: str, reason: str) -> None:
        await fail_job(
            services.sessions,
            job_id,
            code="upstream_unavailable",
            message=f"The fine-tuning provider could not be reached after several tries: {reason}",
        )

    async def eval_gave_up(job_id: str, reason: str) -> None:
        # Fail closed: a model the gate could not evaluate is not released.
        await fail_job(
            services.sessions,
            job_id,
            code=EVAL_FAILED,
            message=f"The post-training safety evaluation could not complete, so the model was not "
            f"released: {reason}",
        )

    engines = EngineCache()
    return Worker(
        queue,
        handlers={
            SCAN_WORK: FileScanner(
                services.sessions, services.policies, engines, max_line_bytes=settings.max_line_bytes
            ),
            START_WORK: JobStarter(
                services.sessions,
                services.upstreams,
                services.policies,
                spool_dir=settings.resolved_spool_dir,
            ),
            POLL_WORK: JobWatcher(
                services.sessions, services.upstreams, poll_interval=settings.worker.poll_interval
            ),
            EVAL_WORK: ModelEvaluator(
                services.sessions, settings, services.policies, engines, spool_dir=settings.resolved_spool_dir
            ),
        },
        give_up={
            SCAN_WORK: scan_gave_up,
            START_WORK: job_gave_up,
            POLL_WORK: job_gave_up,
            EVAL_WORK: eval_gave_up,
        },
        max_attempts=settings.worker.max_attempts,
        idle_sleep=settings.worker.idle_sleep,
    )


def _watch_policies(policies: PolicySet, interval: float) -> asyncio.Task:
    """Reload policies when their files change, and on SIGHUP (where signals exist)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(
            signal.SIGHUP, lambda: loop.run_in_executor(None, lambda: policies.reload(reason="SIGHUP"))
        )
    return asyncio.create_task(policies.watch(interval))


_KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Probes and scrapes answer even when the gateway sheds load: an overloaded replica is alive.
_NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})
_OVERLOADED = json.dumps(
    {
        "error": {
            "message": "The gateway is handling too many requests right now. Retry after a short wait.",
            "type": "server_error",
            "param": None,
            "code": "overloaded",
        }
    }
).encode()
_RETRY_AFTER_SECONDS = b"1"


async def _send_overloaded(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_OVERLOADED)).encode()),
        (b"retry-after", _RETRY_AFTER_SECONDS),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _OVERLOADED})


class _RequestMetrics:
    """Request counts and durations by route template, and the in-flight bound.

    A plain ASGI middleware (not ``BaseHTTPMiddleware``, whose task and stream per request cost
    more CPU than the rest of a chat): responses, streamed ones too, pass through untouched; the
    status is read from ``http.response.start`` and the route from the scope after the app ran.
    Past ``max_inflight`` requests it answers 503 ``overloaded`` at once, and so does a request
    that waited too long for a database connection, instead of queueing without bound.
    """

    def __init__(self, app: ASGIApp, max_inflight: int) -> None:
        self.app = app
        self.max_inflight = max_inflight
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_and_note(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            await send(message)

        shed = self.inflight >= self.max_inflight and scope["path"] not in _NEVER_SHED
        self.inflight += 1
        try:
            if shed:
                await _send_overloaded(send_and_note)
            else:
                try:
                    await self.app(scope, receive, send_and_note)
                except PoolTimeout:
                    if response_started:
                        raise
                    log.warning("no database connection within the pool timeout; answered 503")
                    await _send_overloaded(send_and_note)
        finally:
            self.inflight -= 1
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"  # bounded labels
            metrics.HTTP_REQUESTS.labels(route=template, method=method, status=str(status)).inc()
            metrics.HTTP_DURATION.labels(route=template, method=method).observe(time.perf_counter() - started)


def create_app(settings: Settings, *, run_worker: bool = True) -> FastAPI:
    """Build the app; the lifespan migrates the store and, unless told not to, runs the worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        await migrate(services.engine)
        app.state.services = services
        worker = build_worker(services) if run_worker else None
        task = asyncio.create_task(worker.run()) if worker else None
        watcher = _watch_policies(services.policies, settings.policy_reload_interval)
        try:
            yield
        finally:
            watcher.cancel()
            if worker and task:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
            for upstream in services.upstreams.values():
                await upstream.aclose()
            await services.engine.dispose()

    app = FastAPI(title="tunegate", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(_RequestMetrics, max_inflight=settings.max_inflight_requests)
    for module in (files_api, jobs_api, models_api, reviews_api, ops_api):
        app.include_router(module.router)
    if settings.ui.enabled:
        from gateway.ui import router as ui_router  # Jinja2 is loaded only when the pages are served

        app.include_router(ui_router)
    return app


async def run_worker_forever(settings: Settings) -> None:
    """``tunegate worker``: background work only; /metrics on ``worker.metrics_port`` when set.

    SIGTERM and SIGINT stop claiming work and let the running items finish (as PID 1 in a
    container, a process without a handler would ignore SIGTERM until killed).
    """
    services = build_services(settings)
    await migrate(services.engine)
    worker = build_worker(services)
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(stop_signal, worker.stop)
    if settings.worker.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker.metrics_port, addr=settings.host)
        log.info("worker metrics on %s:%d/metrics", settings.host, settings.worker.metrics_port)
    watcher = _watch_policies(services.policies, settings.policy_reload_interval)
    try:
        await worker.run()
    finally:
        watcher.cancel()
        for upstream in services.upstreams.values():
            await upstream.aclose()
        await services.engine.dispose()
