"""Streaming parser for OpenAI fine-tuning JSONL files: bytes in, typed ``Example`` records out.

Uploads arrive in chunks of any size and files can be large, so the parser keeps only the
current unfinished line in memory and rejects an over-long line as soon as its buffered part
passes the limit, without waiting for its newline.

Formats (one per file; a file that mixes them, chat with reinforcement included, is rejected):

- chat: ``{"messages": [...], "tools"?, "parallel_tool_calls"?, "functions"?}`` with at least
  one assistant message;
- legacy completion: ``{"prompt": str, "completion": str}``;
- preference (DPO): ``{"input": {"messages": [...]}, "preferred_output": [...],
  "non_preferred_output": [...]}``, also under the older ``*_completion`` aliases;
- reinforcement: ``messages`` plus any other top-level key. Decision: a row with ``messages``
  and only chat keys is chat (and needs an assistant message); a row with ``messages`` and any
  other top-level key is reinforcement, needs no assistant message, and keeps the other keys
  (read by the grader) in ``Example.extra``.

Lines are split on ``\\n``; a trailing ``\\r`` (CRLF) and a UTF-8 BOM on line 1 are dropped.
Whitespace-only lines are skipped but still counted, so line numbers match the user's editor.
Errors start with "Invalid file format. Line N, key "field":" and say what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.errors import InvalidRequest
from gateway.scan._messages import RowError, kind
from gateway.scan._rows import build_example, detect_format
from gateway.scan.examples import Example, ExampleFormat

DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024
MIN_EXAMPLES = 10
READ_CHUNK_BYTES = 256 * 1024

_BOM = b"\xef\xbb\xbf"


class TrainingFileError(InvalidRequest):
    """A training file OpenAI would refuse; ``line`` and ``field`` point at the first problem."""

    default_code = "invalid_training_file"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        param: str | None = "file",
        code: str | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.line = line
        self.field = field


def _invalid(line: int, field: str | None, problem: str) -> TrainingFileError:
    where = f'Line {line}, key "{field}"' if field else f"Line {line}"
    return TrainingFileError(f"Invalid file format. {where}: {problem}", line=line, field=field)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; use a number or null")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Parsers disagree on which of two equal keys wins: the scan could judge a value the provider ignores."""
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return row


class StreamingParser:
    """Feed bytes as they arrive (upload chunks of any size, lines may span chunks); get typed examples."""

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self.max_line_bytes = max_line_bytes
        self.examples_count = 0
        self.format: ExampleFormat | None = None
        self.lines = 0  # lines consumed so far, blank ones included
        self._format_line = 0
        self._buffer = bytearray()  # the current unfinished line, never more
        self._closed = False
        self._error: TrainingFileError | None = None

    def feed(self, chunk: bytes) -> list[Example]:
        """Examples for every line this chunk completes; raises at the first bad line."""
        self._check_usable()
        try:
            return self._feed(chunk)
        except TrainingFileError as exc:
            self._error = exc
            raise

    def close(self) -> list[Example]:
        """Parse the last line if it had no trailing newline; a file without examples is an error."""
        self._check_usable()
        self._closed = True
        try:
            examples = []
            if self._buffer:
                example = self._line(self._buffer)
                self._buffer = bytearray()
                if example is not None:
                    examples.append(example)
            if self.examples_count == 0:
                raise TrainingFileError(
                    "Invalid file format. The file has no training examples; put one JSON object per line."
                )
            return examples
        except TrainingFileError as exc:
            self._error = exc
            raise

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RuntimeError("the parser is closed")

    def _feed(self, chunk: bytes) -> list[Example]:
        buffer = self._buffer
        search_from = len(buffer)  # the buffered part holds no newline
        buffer += chunk
        examples = []
        start = 0
        while (end := buffer.find(b"\n", search_from)) >= 0:
            example = self._line(buffer[start:end])
            if example is not None:
                examples.append(example)
            start = search_from = end + 1
        del buffer[:start]
        if self._line_length(buffer) > self.max_line_bytes:
            raise self._too_long(self.lines + 1)
        return examples

    def _line_length(self, line: bytearray) -> int:
        return len(line) - 1 if line.endswith(b"\r") else len(line)

    def _too_long(self, line: int) -> TrainingFileError:
        return _invalid(
            line,
            None,
            f"The line is longer than the limit of {self.max_line_bytes} bytes; "
            "shorten or split this example.",
        )

    def _line(self, raw: bytearray) -> Example | None:
        """One complete line without its newline: None when blank, else its example."""
        self.lines += 1
        number = self.lines
        if self._line_length(raw) > self.max_line_bytes:
            raise self._too_long(number)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if not raw.strip():
            return None
        if (nul := raw.find(b"\x00")) >= 0:
            raise _invalid(
                number,
                None,
                f"The line holds a NUL byte at offset {nul}, which JSON text never does (is the file "
                "UTF-16?); save the file as UTF-8.",
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid(
                number,
                None,
                f"The line is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "save the file as UTF-8.",
            ) from None
        row = self._load(text, number)
        try:
            fmt = detect_format(row)
            self._check_format(fmt, number)
            example = build_example(row, fmt, number)
        except RowError as exc:
            raise _invalid(number, exc.field, exc.problem) from None
        self.examples_count += 1
        return example

    def _load(self, text: str, number: int) -> dict[str, Any]:
        try:
            row = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise _invalid(
                number,
                None,
                f"Invalid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one complete JSON object.",
            ) from None
        except RecursionError:
            raise _invalid(number, None, "The JSON is nested too deeply; flatten this example.") from None
        except _DuplicateKey as exc:
            raise _invalid(
                number, None, f'Duplicate key "{exc}" in one object; give each key once.'
            ) from None
        except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
            raise _invalid(number, None, f"Invalid JSON ({exc}).") from None
        if not isinstance(row, dict):
            raise _invalid(
                number,
                None,
                f"Expected a JSON object, got {kind(row)}; "
                'each line must be one object such as {"messages": [...]}.',
            )
        return row

    def _check_format(self, fmt: ExampleFormat, number: int) -> None:
        if self.format is None:
            self.format, self._format_line = fmt, number
        elif fmt is not self.format:
            raise RowError(
                None,
                f"This line is a {fmt} example, but line {self._format_line} "
                f"started the file as {self.format}; "
                "every line in a file must use the same format.",
            )


def iter_examples(path: Path, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Example]:
    """Stream a file from disk in fixed-size chunks (never whole); raises ``TrainingFileError``."""
    parser = StreamingParser(max_line_bytes=max_line_bytes)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield from parser.feed(chunk)
    yield from parser.close()


def check_min_examples(count: int, *, param: str = "training_file") -> None:
    """OpenAI refuses fine-tuning files with fewer than ``MIN_EXAMPLES`` examples; refuse them first."""
    if count < MIN_EXAMPLES:
        raise TrainingFileError(
            f"Training file has {count} example(s), but must have at least {MIN_EXAMPLES} examples",
            param=param,
        )
