"""Models a tenant may use, and chat completions routed to the right upstream model.

A fine-tuned model is reachable only under its gateway name, only by its own tenant, and
only once released. Any other ``ft:`` name is unknown here: upstream fine-tuned names are
never passed through, so nobody can reach another tenant's or an unreleased model.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.auth import Principal
from gateway.errors import GatewayError, NotFound, PermissionDenied
from gateway.protocol.models import ModelObject
from gateway.settings import Settings
from gateway.store import tables
from gateway.upstreams.base import Upstream

BASE_MODEL_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class ChatTarget:
    upstream: Upstream
    upstream_model: str
    shown_model: str
    secret_prompt: str | None = None  # BackdoorAlign: the safety rows' system prompt, added first

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as the upstream gets it: its model name, and the secret prompt when there is one."""
        forwarded = {**body, "model": self.upstream_model}
        if self.secret_prompt:
            forwarded["messages"] = [
                {"role": "system", "content": self.secret_prompt},
                *(body.get("messages") or []),
            ]
        return forwarded


class ModelService:
    def __init__(
        self, sessions: async_sessionmaker, settings: Settings, upstreams: dict[str, Upstream]
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._upstreams = upstreams
        self._base_cache: dict[str, tuple[float, list[str]]] = {}

    async def _known_upstream_models(self) -> set[str]:
        async with self._sessions() as session:
            return set((await session.scalars(select(tables.FineTunedModel.upstream_model))).all())

    async def base_models(self, upstream_name: str) -> list[str]:
        """Base models an upstream offers, without any fine-tuned model (cached briefly)."""
        cached = self._base_cache.get(upstream_name)
        if cached and time.monotonic() - cached[0] < BASE_MODEL_CACHE_SECONDS:
            return cached[1]
        config = next(u for u in self._settings.upstreams if u.name == upstream_name)
        if config.base_models is not None:
            models = list(config.base_models)
        else:
            fine_tuned = await self._known_upstream_models()
            offered = await self._upstreams[upstream_name].list_models()
            models = [m for m in offered if not m.startswith("ft:") and m not in fine_tuned]
        models = [m for m in models if self._settings.upstream_for_model(m) == upstream_name]
        self._base_cache[upstream_name] = (time.monotonic(), models)
        return models

    async def list(self, principal: Principal) -> list[ModelObject]:
        items: list[ModelObject] = []
        for upstream_name in self._upstreams:
            try:
                names = await self.base_models(upstream_name)
            except GatewayError:
                continue  # one unreachable provider must not hide the others' models
            items.extend(ModelObject(id=name, created=0, owned_by="system") for name in names)
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(tables.FineTunedModel).where(
                        tables.FineTunedModel.tenant == principal.tenant,
                        tables.FineTunedModel.released.is_(True),
                        tables.FineTunedModel.kind == "model",
                    )
                )
            ).all()
        items.extend(
            ModelObject(id=row.name, created=row.created_at, owned_by=principal.tenant) for row in rows
        )
        return items

    async def resolve(self, principal: Principal, model: str) -> ChatTarget:
        # One query for the model and its job's secret prompt, reading only the columns used.
        found = select(
            tables.FineTunedModel.tenant,
            tables.FineTunedModel.released,
            tables.FineTunedModel.upstream,
            tables.FineTunedModel.upstream_model,
            tables.Job.secret_prompt,
        ).outerjoin(tables.Job, tables.Job.id == tables.FineTunedModel.job_id)
        async with self._sessions() as session:
            row = (await session.execute(found.where(tables.FineTunedModel.name == model))).first()
        if row is not None and row.tenant == principal.tenant:
            if not row.released:
                raise PermissionDenied(
                    f"The model {model} has not passed the release gate yet; it cannot be used.",
                    param="model",
                    code="model_not_released",
                )
            return ChatTarget(self._upstreams[row.upstream], row.upstream_model, model, row.secret_prompt)
        upstream_name = None if model.startswith("ft:") else self._settings.upstream_for_model(model)
        if upstream_name is None or model not in await self.base_models(upstream_name):
            raise NotFound(
                f"The model '{model}' does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return ChatTarget(self._upstreams[upstream_name], model, model)

    async def chat(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        target = await self.resolve(principal, body["model"])
        answer = await target.upstream.chat_completion(target.request(body))
        answer["model"] = target.shown_model
        return answer

    async def chat_stream(self, principal: Principal, body: dict[str, Any]) -> AsyncIterator[bytes]:
        """Resolve first (errors surface before streaming starts), then relay the stream."""
        target = await self.resolve(principal, body["model"])
        stream = target.upstream.chat_completion_stream(target.request(body))
        renamed = _rename_model(stream, target.upstream_model, target.shown_model)
        # Read the first bytes here: a provider's refusal becomes an error response, not a 200 cut short.
        first = await anext(renamed, None)
        return _starting_with(first, renamed)


async def _starting_with(first: bytes | None, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first is None:
        return
    yield first
    async for chunk in rest:
        yield chunk


async def _rename_model(
    stream: AsyncIterator[bytes], upstream_model: str, shown: str
) -> AsyncIterator[bytes]:
    """Relay SSE lines, replacing the upstream model name; lines are rewritten whole."""
    old, new = upstream_model.encode(), shown.encode()
    pending = b""
    async for chunk in stream:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if lines:
            yield b"".join(line.replace(old, new) + b"\n" for line in lines)
    if pending:
        yield pending.replace(old, new)
