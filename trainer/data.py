"""Training data: check a JSONL file line by line, and turn examples into token ids and labels.

Two formats, as OpenAI accepts them: chat (``{"messages": [...]}``) and legacy
``{"prompt", "completion"}``. Loss is computed only on assistant turns (those without
``weight: 0``) or on the completion; every other label is -100.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORE = -100
_ROLE_ALIASES = {"developer": "system", "function": "tool"}
_ROLES = {"system", "user", "assistant", "tool"}


class DataError(ValueError):
    """A training file problem; ``line`` is 1-based, or None for the file as a whole."""

    def __init__(self, message: str, line: int | None = None, param: str = "training_file") -> None:
        self.line = line
        self.param = param
        super().__init__(f"Line {line}: {message}" if line else message)


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]

    @property
    def trainable(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def content_text(content: Any) -> str:
    """Message content as plain text: a string, None, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise ValueError("content must be a string, null or a list of content parts")


def normalize_messages(messages: Any) -> list[dict[str, Any]]:
    """Check chat messages and keep what chat templates use; raises ValueError."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    result = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"message {i} is not an object")
        role = _ROLE_ALIASES.get(message.get("role"), message.get("role"))
        if role not in _ROLES:
            raise ValueError(f"message {i} has an unknown role {message.get('role')!r}")
        clean: dict[str, Any] = {"role": role, "content": content_text(message.get("content"))}
        for key in ("name", "tool_calls", "tool_call_id"):
            if message.get(key) is not None:
                clean[key] = message[key]
        if "weight" in message:
            if message["weight"] not in (0, 1) or role != "assistant":
                raise ValueError(f"message {i}: 'weight' must be 0 or 1 and only on assistant messages")
            clean["weight"] = message["weight"]
        result.append(clean)
    return result


def parse_example(obj: Any) -> dict[str, Any]:
    """One line's object, normalized; raises ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    if "messages" in obj:
        messages = normalize_messages(obj["messages"])
        if not any(m["role"] == "assistant" for m in messages):
            raise ValueError("an example needs at least one assistant message")
        return {"messages": messages}
    if isinstance(obj.get("prompt"), str) and isinstance(obj.get("completion"), str):
        return {"prompt": obj["prompt"], "completion": obj["completion"]}
    raise ValueError("expected a 'messages' list or 'prompt' and 'completion' strings")


def read_examples(path: Path) -> list[dict[str, Any]]:
    """All examples of a JSONL file; raises DataError naming the first bad line."""
    examples = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError("not valid UTF-8", number) from None
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})", number) from None
        try:
            examples.append(parse_example(obj))
        except ValueError as exc:
            raise DataError(str(exc), number) from None
    if not examples:
        raise DataError("The file contains no examples.")
    return examples


def encode(tokenizer: Any, example: dict[str, Any], max_len: int) -> Encoded:
    """Token ids and labels for one example, cut to ``max_len`` tokens."""
    if "messages" in example:
        ids, labels = _encode_chat(tokenizer, example["messages"])
    else:
        ids, labels = _encode_completion(tokenizer, example["prompt"], example["completion"])
    return Encoded(ids[:max_len], labels[:max_len])


def render(tokenizer: Any, messages: list[dict[str, Any]], generation_prompt: bool) -> str:
    clean = [{k: v for k, v in m.items() if k != "weight"} for m in messages]
    return tokenizer.apply_chat_template(clean, tokenize=False, add_generation_prompt=generation_prompt)


def _encode_chat(tokenizer: Any, messages: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    full = render(tokenizer, messages, False)
    spans = []
    cursor = 0
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        span = _assistant_span(tokenizer, messages, i, full, cursor)
        if span is None:
            continue
        cursor = span[1]
        if message.get("weight", 1):
            spans.append(span)
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [
        token if any(start <= s < end for start, end in spans) else IGNORE
        for token, (s, _) in zip(ids, enc["offset_mapping"], strict=True)
    ]
    return ids, labels


def _assistant_span(
    tokenizer: Any, messages: list[dict[str, Any]], i: int, full: str, cursor: int
) -> tuple[int, int] | None:
    """Characters of assistant turn ``i`` in ``full``, its end-of-turn marker included.

    Rendering the conversation up to the turn (with and without the generation prompt) finds
    the turn exactly for templates that only append; others fall back to finding the content.
    """
    try:
        before = render(tokenizer, messages[:i], True)
        upto = render(tokenizer, messages[: i + 1], False)
    except Exception:
        before = upto = None
    if before is not None and upto is not None and full.startswith(upto) and upto.startswith(before):
        return len(before), len(upto)
    content = messages[i]["content"]
    at = full.find(content, cursor) if content else -1
    return (at, at + len(content)) if at >= 0 else None


def _encode_completion(tokenizer: Any, prompt: str, completion: str) -> tuple[list[int], list[int]]:
    prefix = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    prompt_ids = prefix + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        completion_ids.append(tokenizer.eos_token_id)
    return prompt_ids + completion_ids, [IGNORE] * len(prompt_ids) + completion_ids
