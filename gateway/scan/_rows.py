"""Turning one decoded JSON row into an ``Example``: which format it is, then format-specific checks.

See ``gateway.scan.parse`` for how a row's format is decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from gateway.scan._messages import RowError, kind, parse_messages
from gateway.scan.examples import Example, ExampleFormat, Message

CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
DPO_OUTPUTS = (
    ("preferred_output", "preferred_completion"),
    ("non_preferred_output", "non_preferred_completion"),
)
DPO_KEYS = frozenset({"input", *(key for pair in DPO_OUTPUTS for key in pair)})
COMPLETION_KEYS = frozenset({"prompt", "completion"})


def detect_format(row: dict[str, Any]) -> ExampleFormat:
    """``messages`` wins; extra top-level keys beside it make the row reinforcement (grader fields)."""
    if "messages" in row:
        return ExampleFormat.CHAT if row.keys() <= CHAT_KEYS else ExampleFormat.REINFORCEMENT
    if row.keys() & DPO_KEYS:
        return ExampleFormat.DPO
    if row.keys() & COMPLETION_KEYS:
        return ExampleFormat.COMPLETION
    raise RowError(
        "messages",
        'Missing key "messages". Each line must be a JSON object with a "messages" list (chat), '
        '"prompt" and "completion" (legacy), or "input", "preferred_output" and "non_preferred_output" '
        "(preference/DPO).",
    )


def build_example(row: dict[str, Any], fmt: ExampleFormat, line: int) -> Example:
    if fmt is ExampleFormat.COMPLETION:
        return _completion(row, line)
    if fmt is ExampleFormat.DPO:
        return _dpo(row, line)
    messages = parse_messages(row["messages"], "messages")
    tools = _tools(row, "")
    if fmt is ExampleFormat.CHAT:
        if not any(message.role == "assistant" for message in messages):
            raise RowError(
                "messages",
                "No assistant message. Each chat example must contain at least one message with role "
                '"assistant" to train on.',
            )
        return Example(line=line, format=fmt, messages=messages, tools=tools)
    extra = {key: value for key, value in row.items() if key not in CHAT_KEYS}
    return Example(line=line, format=fmt, messages=messages, tools=tools, extra=MappingProxyType(extra))


def _completion(row: dict[str, Any], line: int) -> Example:
    _reject_unknown(row, COMPLETION_KEYS, "", "a legacy completion example")
    texts = []
    for key in ("prompt", "completion"):
        if key not in row:
            raise RowError(
                key, f'Missing key "{key}"; a legacy example needs string "prompt" and "completion".'
            )
        if not isinstance(row[key], str):
            raise RowError(key, f'"{key}" must be a string, got {kind(row[key])}.')
        texts.append(row[key])
    prompt, completion = texts
    return Example(
        line=line,
        format=ExampleFormat.COMPLETION,
        messages=(Message(role="user", content=prompt), Message(role="assistant", content=completion)),
        prompt=prompt,
        completion=completion,
    )


def _dpo(row: dict[str, Any], line: int) -> Example:
    _reject_unknown(row, DPO_KEYS, "", "a preference (DPO) example")
    if "input" not in row:
        raise RowError(
            "input",
            'Missing key "input"; a preference (DPO) example needs "input" with its "messages", '
            'plus "preferred_output" and "non_preferred_output".',
        )
    source = row["input"]
    if not isinstance(source, dict):
        raise RowError("input", f'"input" must be an object with a "messages" list, got {kind(source)}.')
    _reject_unknown(source, CHAT_KEYS, "input.", '"input"')
    messages = parse_messages(source.get("messages"), "input.messages")
    preferred, non_preferred = (_outputs(row, canonical, alias) for canonical, alias in DPO_OUTPUTS)
    return Example(
        line=line,
        format=ExampleFormat.DPO,
        messages=messages,
        preferred=preferred,
        non_preferred=non_preferred,
        tools=_tools(source, "input."),
    )


def _outputs(row: dict[str, Any], canonical: str, alias: str) -> tuple[Message, ...]:
    """A DPO answer list under its current key or the older ``*_completion`` alias (not both)."""
    if canonical in row and alias in row:
        raise RowError(alias, f'Use either "{canonical}" or its older alias "{alias}", not both.')
    key = alias if alias in row else canonical
    if key not in row:
        raise RowError(
            canonical,
            f'Missing key "{canonical}"; a preference (DPO) example needs both "preferred_output" and '
            '"non_preferred_output", each a list with one assistant message.',
        )
    messages = parse_messages(row[key], key)
    for index, message in enumerate(messages):
        if message.role != "assistant":
            raise RowError(f"{key}[{index}].role", f'Expected role "assistant", got "{message.role}".')
    return messages


def _tools(container: dict[str, Any], prefix: str) -> tuple[str, ...]:
    """Compact JSON of each ``tools``/``functions`` definition; ``parallel_tool_calls`` must be a bool."""
    flag = container.get("parallel_tool_calls")
    if flag is not None and not isinstance(flag, bool):
        raise RowError(f"{prefix}parallel_tool_calls", f"Expected true or false, got {kind(flag)}.")
    definitions = []
    for key in ("tools", "functions"):
        value = container.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise RowError(f"{prefix}{key}", f"Expected a list of definitions, got {kind(value)}.")
        for index, definition in enumerate(value):
            if not isinstance(definition, dict):
                raise RowError(
                    f"{prefix}{key}[{index}]", f"Each definition must be an object, got {kind(definition)}."
                )
            definitions.append(json.dumps(definition, ensure_ascii=False, separators=(",", ":")))
    return tuple(definitions)


def _reject_unknown(container: dict[str, Any], allowed: Iterable[str], prefix: str, what: str) -> None:
    """Unknown keys would travel upstream unscanned, so formats without grader fields refuse them."""
    allowed = frozenset(allowed)
    for key in container:
        if key not in allowed:
            raise RowError(
                f"{prefix}{key}",
                f'Unrecognized key "{key}" in {what}; allowed keys are {", ".join(sorted(allowed))}.',
            )
