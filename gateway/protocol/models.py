"""Models and chat completions on the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.protocol.common import OpenAIModel


class ModelObject(OpenAIModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ChatCompletionRequest(OpenAIModel):
    """Only what the gateway reads; every other field passes through to the upstream."""

    model: str = Field(min_length=1)
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
