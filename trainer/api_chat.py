"""``/v1/models`` and ``/v1/chat/completions`` over base, fine-tuned and checkpoint models."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from trainer.data import normalize_messages
from trainer.errors import bad_request
from trainer.inference import Generation, ModelCache, Sampling
from trainer.registry import ModelRegistry


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=8)
    stream: bool = False
    stream_options: dict[str, Any] | None = None


def _usage(generations: list[Generation]) -> dict[str, int]:
    prompt = generations[0].prompt_tokens
    completion = sum(g.completion_tokens for g in generations)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat_router(registry: ModelRegistry, cache: ModelCache) -> APIRouter:
    router = APIRouter()

    @router.get("/models")
    def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [ref.card() for ref in registry.all()]}

    @router.get("/models/{model_id:path}")
    def get_model(model_id: str) -> dict[str, Any]:
        return registry.resolve(model_id).card()

    @router.post("/chat/completions", response_model=None)
    def chat_completions(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        ref = registry.resolve(body.model)
        try:
            messages = normalize_messages(body.messages)
        except ValueError as exc:
            raise bad_request(f"Invalid messages: {exc}", param="messages", code="invalid_value") from None
        if body.stream and body.n != 1:
            raise bad_request("Streaming supports only n=1.", param="n", code="invalid_value")
        stop = [body.stop] if isinstance(body.stop, str) else body.stop
        sampling = Sampling(
            body.max_completion_tokens or body.max_tokens, body.temperature, body.top_p, body.seed, stop
        )
        loaded = cache.get(ref.path)
        generations = [Generation(loaded, messages, sampling) for _ in range(body.n)]
        meta = {"id": f"chatcmpl-{secrets.token_hex(12)}", "created": int(time.time()), "model": body.model}
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return StreamingResponse(
                _sse(generations[0], meta, include_usage), media_type="text/event-stream"
            )
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": g.text(), "refusal": None},
                "logprobs": None,
                "finish_reason": g.finish_reason,
            }
            for i, g in enumerate(generations)
        ]
        return {
            **meta,
            "object": "chat.completion",
            "choices": choices,
            "usage": _usage(generations),
            "system_fingerprint": None,
        }

    return router


def _sse(generation: Generation, meta: dict[str, Any], include_usage: bool) -> Iterator[str]:
    """OpenAI's chunk stream: role first, then content deltas, the finish reason, [DONE]."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        body = {**meta, "object": "chat.completion.chunk", "choices": [choice], "system_fingerprint": None}
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in generation:
        yield chunk({"content": piece})
    yield chunk({}, generation.finish_reason)
    if include_usage:
        usage_chunk = {
            **meta,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": _usage([generation]),
        }
        yield f"data: {json.dumps(usage_chunk)}\n\n"
    yield "data: [DONE]\n\n"
