"""Typed records for one training example, whatever format its file uses.

Scanners read these instead of raw JSON, so every format (chat, legacy completion, DPO,
reinforcement) arrives with the same shape: ordered messages with their text already joined.
The records are frozen so a scanner cannot change what another scanner sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class ExampleFormat(StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    DPO = "dpo"
    REINFORCEMENT = "reinforcement"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call an assistant message asks for (``tool_calls`` or legacy ``function_call``)."""

    id: str | None
    name: str
    arguments: str  # the JSON string exactly as written in the file


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str  # text parts joined with "\n"; "" when the file had null
    weight: int | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    name: str | None = None


def _empty_extra() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Example:
    line: int  # 1-based line number in the file, for error messages that point at the row
    format: ExampleFormat
    # chat/reinforcement: the conversation; DPO: the input messages;
    # completion: (user prompt, assistant completion).
    messages: tuple[Message, ...]
    preferred: tuple[Message, ...] = ()  # DPO only
    non_preferred: tuple[Message, ...] = ()  # DPO only
    # Compact JSON of each tool/function definition, kept so scanners can judge descriptions.
    tools: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=_empty_extra)  # reinforcement grader fields
    prompt: str | None = None  # legacy completion only
    completion: str | None = None  # legacy completion only

    def texts(self) -> tuple[str, ...]:
        """Every message text in order (input, then preferred, then non-preferred), for text scanners."""
        return tuple(m.content for m in (*self.messages, *self.preferred, *self.non_preferred))
