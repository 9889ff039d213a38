"""Validation of one message list into ``Message`` records (shared by every format that has messages).

Problems raise ``RowError`` with the field path (``messages[2].role``); the parser adds the line
number. Unrecognised message keys are rejected, as OpenAI's own validator does, so no text can
travel upstream in a key the scanners never read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.scan.examples import Message, ToolCall

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS = ("role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call")
TOOL_CALL_KEYS = ("id", "type", "function")
FUNCTION_CALL_KEYS = ("name", "arguments")
# Content parts: those whose text is judged (a refusal part is learnt too), and images, which are
# passed on unjudged; any other type is refused.
_TEXT_PARTS = ("text", "refusal")
_OTHER_PARTS = ("image_url",)
# OpenAI's rule for function names: the name is learnt output, so it must not hold free text.
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RowError(Exception):
    """One problem in one row: the field path (None for the row as a whole) and what to fix."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def kind(value: Any) -> str:
    """The JSON type of a value, worded for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def parse_messages(value: Any, field: str) -> tuple[Message, ...]:
    """A non-empty list of messages; ``field`` is its path, e.g. ``messages`` or ``input.messages``."""
    if value is None:
        raise RowError(field, f'Missing key "{field}"; add a list of messages.')
    if not isinstance(value, list):
        raise RowError(field, f"Expected a list of messages, got {kind(value)}.")
    if not value:
        raise RowError(field, "The message list is empty; add at least one message.")
    return tuple(_message(item, f"{field}[{index}]") for index, item in enumerate(value))


def _message(value: Any, field: str) -> Message:
    if not isinstance(value, dict):
        raise RowError(field, f'Each message must be an object with "role" and "content", got {kind(value)}.')
    for key in value:
        if key not in MESSAGE_KEYS:
            raise RowError(
                f"{field}.{key}",
                f'Unrecognized key "{key}" in message; allowed keys are {", ".join(MESSAGE_KEYS)}.',
            )
    if "role" not in value:
        raise RowError(f"{field}.role", f'The message has no "role"; set it to one of {", ".join(ROLES)}.')
    role = value["role"]
    if role not in ROLES:  # also catches non-strings
        raise RowError(f"{field}.role", f"Unknown role {_show(role)}; expected one of {', '.join(ROLES)}.")
    name = _optional_str(value, "name", field)
    _optional_str(value, "tool_call_id", field)
    calls = _calls(value, role, field)
    return Message(
        role=role,
        content=_content(value.get("content"), role, bool(calls), f"{field}.content"),
        weight=_weight(value, role, field),
        tool_calls=calls,
        name=name,
    )


def _content(value: Any, role: str, has_calls: bool, field: str) -> str:
    """Join text parts with newlines; null is allowed only where the assistant calls a tool instead."""
    if isinstance(value, str):
        return value
    if value is None:
        if role == "assistant" and has_calls:
            return ""
        raise RowError(
            field,
            "Content is missing or null; only an assistant message with tool_calls or function_call may "
            "omit it. Give the message text.",
        )
    if not isinstance(value, list):
        raise RowError(
            field, f"Content must be a string, a list of content parts, or null, got {kind(value)}."
        )
    if not value:
        raise RowError(field, "The content part list is empty; add a text part or use a string.")
    texts = []
    for index, part in enumerate(value):
        part_field = f"{field}[{index}]"
        if not isinstance(part, dict):
            raise RowError(
                part_field, f'Each content part must be an object with a "type", got {kind(part)}.'
            )
        part_type = part.get("type")
        if not isinstance(part_type, str):
            raise RowError(f"{part_field}.type", 'The content part needs a string "type", such as "text".')
        if part_type in _TEXT_PARTS:
            text = part.get(part_type)
            if not isinstance(text, str):
                raise RowError(
                    f"{part_field}.{part_type}",
                    f'A "{part_type}" part needs a string "{part_type}", got {kind(text)}.',
                )
            texts.append(text)
        elif part_type not in _OTHER_PARTS:
            # An unknown part type would carry text upstream that no classifier reads.
            raise RowError(
                f"{part_field}.type",
                f"Unsupported content part type {_show(part_type)}; use "
                f"{', '.join(f'{t!r}' for t in (*_TEXT_PARTS, *_OTHER_PARTS))}.",
            )
    return "\n".join(texts)


def _weight(message: dict[str, Any], role: str, field: str) -> int | None:
    if "weight" not in message:
        return None
    weight = message["weight"]
    if role != "assistant":
        raise RowError(f"{field}.weight", f'"weight" is only allowed on assistant messages, not on "{role}".')
    if isinstance(weight, bool) or weight not in (0, 1):
        raise RowError(f"{field}.weight", f"Weight must be 0 or 1, got {_show(weight)}.")
    return int(weight)


def _calls(message: dict[str, Any], role: str, field: str) -> tuple[ToolCall, ...]:
    """``tool_calls`` or the legacy ``function_call``, both only on assistant messages."""
    has_tools, has_function = "tool_calls" in message, "function_call" in message
    for key, present in (("tool_calls", has_tools), ("function_call", has_function)):
        if present and role != "assistant":
            raise RowError(
                f"{field}.{key}", f'"{key}" is only allowed on assistant messages, not on "{role}".'
            )
    if has_tools and has_function:
        raise RowError(f"{field}.function_call", 'Use either "tool_calls" or "function_call", not both.')
    if has_function:
        call = message["function_call"]
        return (_function(call, f"{field}.function_call", None),)
    if not has_tools:
        return ()
    calls = message["tool_calls"]
    if not isinstance(calls, list) or not calls:
        raise RowError(
            f"{field}.tool_calls", f"Expected a non-empty list of tool calls, got {_describe(calls)}."
        )
    return tuple(_tool_call(call, f"{field}.tool_calls[{index}]") for index, call in enumerate(calls))


def _tool_call(call: Any, field: str) -> ToolCall:
    if not isinstance(call, dict):
        raise RowError(
            field, f'Each tool call must be an object with "id", "type" and "function", got {kind(call)}.'
        )
    _reject_unknown_keys(call, TOOL_CALL_KEYS, field, "tool call")
    call_id = _optional_str(call, "id", field)
    if call.get("type", "function") != "function":
        raise RowError(f"{field}.type", f'Tool call type must be "function", got {_show(call["type"])}.')
    if "function" not in call:
        raise RowError(
            f"{field}.function", 'The tool call has no "function"; add {"name": ..., "arguments": ...}.'
        )
    return _function(call["function"], f"{field}.function", call_id)


def _function(value: Any, field: str, call_id: str | None) -> ToolCall:
    if not isinstance(value, dict):
        raise RowError(field, f'Expected an object with "name" and "arguments", got {kind(value)}.')
    _reject_unknown_keys(value, FUNCTION_CALL_KEYS, field, "function call")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise RowError(
            f"{field}.name", f"The function name must be a non-empty string, got {_describe(name)}."
        )
    if not _FUNCTION_NAME.fullmatch(name):
        raise RowError(
            f"{field}.name",
            f"The function name {_show(name)} must be 1 to 64 letters, digits, '_' or '-'.",
        )
    arguments = value.get("arguments")
    if not isinstance(arguments, str):
        raise RowError(
            f"{field}.arguments",
            f"Arguments must be a JSON-encoded string, got {kind(arguments)}; wrap the arguments object "
            'in a string, e.g. "{\\"city\\": \\"Paris\\"}".',
        )
    try:
        json.loads(arguments)
    except (ValueError, RecursionError):
        raise RowError(
            f"{field}.arguments",
            f"Arguments must be valid JSON, got {_show(arguments)}; encode the arguments object with a "
            "JSON encoder.",
        ) from None
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _reject_unknown_keys(container: dict[str, Any], allowed: tuple[str, ...], field: str, what: str) -> None:
    """Unknown keys would carry text upstream that the scan never reads."""
    for key in container:
        if key not in allowed:
            raise RowError(
                f"{field}.{key}",
                f'Unrecognized key "{key}" in {what}; allowed keys are {", ".join(allowed)}.',
            )


def _optional_str(container: dict[str, Any], key: str, field: str) -> str | None:
    value = container.get(key)
    if value is not None and not isinstance(value, str):
        raise RowError(f"{field}.{key}", f'"{key}" must be a string, got {kind(value)}.')
    return value


def _describe(value: Any) -> str:
    """Like ``kind`` but says "an empty list" / "an empty string" where that is the problem."""
    if value == []:
        return "an empty list"
    if value == "":
        return "an empty string"
    return kind(value)


def _show(value: Any) -> str:
    """A short JSON rendering of a bad value, so the message shows what the file actually holds."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
