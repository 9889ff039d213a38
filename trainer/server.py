"""The reference fine-tuning server: OpenAI's files, fine-tuning and chat API under ``/v1``.

Training runs in child processes (``trainer.train``); a background task moves jobs along every
half second. All state is files under ``config.data_dir``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import uvicorn
from fastapi import FastAPI, Request, Response

from trainer.api_chat import chat_router
from trainer.api_files import files_router
from trainer.api_jobs import jobs_router
from trainer.config import TrainerConfig
from trainer.errors import envelope, install_error_handlers
from trainer.files import FileStore
from trainer.inference import ModelCache
from trainer.jobs import JobStore
from trainer.registry import ModelRegistry
from trainer.runner import Runner

log = logging.getLogger("trainer")
TICK_SECONDS = 0.5


def create_app(config: TrainerConfig) -> FastAPI:
    files = FileStore(config.data_dir / "files", config.max_file_bytes)
    jobs = JobStore(config.data_dir / "jobs")
    registry = ModelRegistry(config, jobs)
    runner = Runner(config, jobs, files)
    cache = ModelCache(config.model_cache_size)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runner.recover()
        task = asyncio.create_task(_tick_forever(runner))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            runner.shutdown()

    app = FastAPI(title="tunegate reference trainer", lifespan=lifespan)
    app.state.runner = runner
    install_error_handlers(app)
    if config.api_key:
        _require_api_key(app, config.api_key)
    app.include_router(files_router(files), prefix="/v1")
    app.include_router(jobs_router(config, jobs, files, registry, runner), prefix="/v1")
    app.include_router(chat_router(registry, cache), prefix="/v1")
    return app


async def _tick_forever(runner: Runner) -> None:
    while True:
        try:
            await asyncio.to_thread(runner.tick)
        except Exception:
            log.exception("job scheduler tick failed")
        await asyncio.sleep(TICK_SECONDS)


def _require_api_key(app: FastAPI, api_key: str) -> None:
    expected = f"Bearer {api_key}".encode()

    @app.middleware("http")
    async def check_key(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            message = "Incorrect API key provided." if given else "You didn't provide an API key."
            return envelope(401, message, None, "invalid_api_key", "invalid_request_error")
        return await call_next(request)


def serve(config: TrainerConfig, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Run the server in the foreground until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")
