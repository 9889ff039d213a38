"""Tests for the streaming training-file parser and its example records."""

from __future__ import annotations

import dataclasses
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import InvalidRequest
from gateway.scan.examples import Example, ExampleFormat, Message, ToolCall
from gateway.scan.parse import (
    DEFAULT_MAX_LINE_BYTES,
    MIN_EXAMPLES,
    READ_CHUNK_BYTES,
    StreamingParser,
    TrainingFileError,
    check_min_examples,
    iter_examples,
)

USER = {"role": "user", "content": "What is the weather in Paris?"}
ASSISTANT = {"role": "assistant", "content": "Sunny."}
CHAT = {"messages": [USER, ASSISTANT]}


def jsonl(*rows: Any) -> bytes:
    """Rows as JSONL; a str row is written as-is so tests can add raw or broken lines."""
    return b"".join((row if isinstance(row, str) else json.dumps(row)).encode() + b"\n" for row in rows)


def parse(data: bytes, **kwargs: Any) -> list[Example]:
    parser = StreamingParser(**kwargs)
    return parser.feed(data) + parser.close()


def parse_error(data: bytes, **kwargs: Any) -> TrainingFileError:
    with pytest.raises(TrainingFileError) as caught:
        parse(data, **kwargs)
    return caught.value


def chat(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"messages": list(messages), **top}


# --- formats -------------------------------------------------------------------------------------


def test_chat_example_becomes_typed_records() -> None:
    row = chat({"role": "system", "content": "Be brief.", "name": "sys"}, USER, ASSISTANT)
    (example,) = parse(jsonl(row))
    assert example == Example(
        line=1,
        format=ExampleFormat.CHAT,
        messages=(
            Message(role="system", content="Be brief.", name="sys"),
            Message(role="user", content=USER["content"]),
            Message(role="assistant", content="Sunny."),
        ),
    )
    assert example.extra == {}
    assert example.prompt is None and example.completion is None


def test_chat_tool_calls_tools_and_weight_zero() -> None:
    tool = {"type": "function", "function": {"name": "weather", "description": "Look up weather"}}
    function = {"name": "weather", "arguments": '{"city":"Paris"}'}
    call = {"id": "call_1", "type": "function", "function": function}
    row = chat(
        USER,
        {"role": "assistant", "content": None, "tool_calls": [call], "weight": 0},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "assistant", "content": "Sunny.", "weight": 1},
        tools=[tool],
        parallel_tool_calls=False,
    )
    (example,) = parse(jsonl(row))
    assert example.format is ExampleFormat.CHAT
    calling, tool_reply, answer = example.messages[1:]
    assert calling == Message(
        role="assistant",
        content="",
        weight=0,
        tool_calls=(ToolCall(id="call_1", name="weather", arguments='{"city":"Paris"}'),),
    )
    assert tool_reply == Message(role="tool", content="sunny")
    assert answer.weight == 1
    assert [json.loads(text) for text in example.tools] == [tool]


def test_legacy_function_call_and_functions() -> None:
    function = {"name": "weather", "parameters": {"type": "object"}}
    row = chat(
        USER,
        {"role": "assistant", "function_call": {"name": "weather", "arguments": "{}"}},
        {"role": "function", "name": "weather", "content": "sunny"},
        ASSISTANT,
        functions=[function],
    )
    (example,) = parse(jsonl(row))
    assert example.messages[1].tool_calls == (ToolCall(id=None, name="weather", arguments="{}"),)
    assert example.messages[1].content == ""
    assert example.messages[2].name == "weather"
    assert [json.loads(text) for text in example.tools] == [function]


def test_content_parts_join_text_and_keep_other_parts_out() -> None:
    parts = [
        {"type": "text", "text": "Look at this:"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "text", "text": "What is it?"},
    ]
    (example,) = parse(jsonl(chat({"role": "user", "content": parts}, ASSISTANT)))
    assert example.messages[0].content == "Look at this:\nWhat is it?"


def test_legacy_completion() -> None:
    (example,) = parse(jsonl({"prompt": "2+2=", "completion": " 4"}))
    assert example.format is ExampleFormat.COMPLETION
    assert (example.prompt, example.completion) == ("2+2=", " 4")
    assert example.messages == (Message(role="user", content="2+2="), Message(role="assistant", content=" 4"))


@pytest.mark.parametrize(
    ("preferred_key", "non_preferred_key"),
    [("preferred_output", "non_preferred_output"), ("preferred_completion", "non_preferred_completion")],
)
def test_dpo_and_its_older_aliases(preferred_key: str, non_preferred_key: str) -> None:
    tool = {"type": "function", "function": {"name": "f"}}
    row = {
        "input": {"messages": [USER], "tools": [tool]},
        preferred_key: [{"role": "assistant", "content": "Sunny."}],
        non_preferred_key: [{"role": "assistant", "content": "No idea."}],
    }
    (example,) = parse(jsonl(row))
    assert example.format is ExampleFormat.DPO
    assert example.messages == (Message(role="user", content=USER["content"]),)
    assert example.preferred == (Message(role="assistant", content="Sunny."),)
    assert example.non_preferred == (Message(role="assistant", content="No idea."),)
    assert [json.loads(text) for text in example.tools] == [tool]
    assert example.texts() == (USER["content"], "Sunny.", "No idea.")


def test_reinforcement_keeps_grader_fields_and_needs_no_assistant() -> None:
    row = chat(USER, reference_answer="Sunny", score={"min": 0}, tools=[{"type": "function"}])
    (example,) = parse(jsonl(row))
    assert example.format is ExampleFormat.REINFORCEMENT
    assert example.messages == (Message(role="user", content=USER["content"]),)
    assert dict(example.extra) == {"reference_answer": "Sunny", "score": {"min": 0}}
    assert len(example.tools) == 1
    with pytest.raises(TypeError):
        example.extra["reference_answer"] = "Rainy"  # type: ignore[index]


def test_records_are_frozen() -> None:
    (example,) = parse(jsonl(CHAT))
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.line = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.messages[0].content = "changed"  # type: ignore[misc]


def test_bom_crlf_blank_lines_and_missing_final_newline() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(CHAT).encode() + b"\r\n\r\n  \t\n" + json.dumps(CHAT).encode()
    parser = StreamingParser()
    first = parser.feed(data)
    assert [example.line for example in first] == [1]
    assert parser.lines == 3
    last = parser.close()
    assert [example.line for example in last] == [4]
    assert (parser.lines, parser.examples_count, parser.format) == (4, 2, ExampleFormat.CHAT)


def test_parser_counts_and_format() -> None:
    parser = StreamingParser()
    assert parser.format is None and parser.examples_count == 0 and parser.lines == 0
    parser.feed(jsonl(CHAT, CHAT, CHAT))
    assert (parser.lines, parser.examples_count, parser.format) == (3, 3, ExampleFormat.CHAT)


# --- errors --------------------------------------------------------------------------------------

LINE = json.dumps(CHAT)


def user(content: Any) -> dict[str, Any]:
    """A chat row whose user message has this content."""
    return chat({"role": "user", "content": content}, ASSISTANT)


def calls(value: Any) -> dict[str, Any]:
    """A chat row whose assistant message carries this ``tool_calls`` value."""
    return chat(USER, {"role": "assistant", "tool_calls": value})


def dpo(**keys: Any) -> dict[str, Any]:
    """A DPO row; pass a key as None to leave it out."""
    row: dict[str, Any] = {"input": {"messages": [USER]}}
    row |= {"preferred_output": [ASSISTANT], "non_preferred_output": [ASSISTANT], **keys}
    return {key: value for key, value in row.items() if value is not None}


M0, M1 = "messages[0]", "messages[1]"
ONLY_ASSISTANT = "only allowed on assistant"
ERROR_CASES: list[tuple[str, list[Any], int, str | None, str]] = [
    ("json", [LINE, '{"messages": [', LINE], 2, None, "Invalid JSON"),
    ("nan", [LINE, '{"prompt": NaN, "completion": "x"}'], 2, None, "NaN is not valid JSON"),
    ("array", [[1, 2]], 1, None, "Expected a JSON object, got a list"),
    ("string", [LINE, '"hello"'], 2, None, "Expected a JSON object, got a string"),
    ("no messages", [{"foo": 1}], 1, "messages", 'Missing key "messages"'),
    ("messages not list", [{"messages": "hi"}], 1, "messages", "Expected a list of messages, got a string"),
    ("messages empty", [{"messages": []}], 1, "messages", "The message list is empty"),
    ("message not object", [chat(USER, "hi")], 1, M1, "Each message must be an object"),
    ("missing role", [chat({"content": "hi"}, ASSISTANT)], 1, f"{M0}.role", 'has no "role"'),
    ("unknown role", [LINE, LINE, chat(USER, {"role": "robot", "content": "x"})], 3, f"{M1}.role", ""),
    ("role not string", [chat({"role": 3, "content": "x"})], 1, f"{M0}.role", "Unknown role 3"),
    ("content number", [user(5)], 1, f"{M0}.content", "got a number"),
    ("content null", [user(None)], 1, f"{M0}.content", "null"),
    ("content missing", [chat(USER, {"role": "assistant"})], 1, f"{M1}.content", "Content is missing"),
    ("content empty list", [user([])], 1, f"{M0}.content", "empty"),
    ("part not object", [user(["x"])], 1, f"{M0}.content[0]", "must be an object"),
    ("part no type", [user([{"text": "x"}])], 1, f"{M0}.content[0].type", 'needs a string "type"'),
    ("text part no text", [user([{"type": "text"}])], 1, f"{M0}.content[0].text", 'needs a string "text"'),
    ("unknown message key", [chat({**USER, "extra": 1}, ASSISTANT)], 1, f"{M0}.extra", "Unrecognized key"),
    ("no assistant", [LINE, chat(USER)], 2, "messages", "No assistant message"),
    ("weight 2", [chat(USER, {**ASSISTANT, "weight": 2})], 1, f"{M1}.weight", "must be 0 or 1, got 2"),
    ("weight bool", [chat(USER, {**ASSISTANT, "weight": True})], 1, f"{M1}.weight", "got true"),
    ("weight on user", [chat({**USER, "weight": 1}, ASSISTANT)], 1, f"{M0}.weight", ONLY_ASSISTANT),
    ("tool_calls not list", [calls({})], 1, f"{M1}.tool_calls", "got an object"),
    ("tool_calls empty", [calls([])], 1, f"{M1}.tool_calls", "an empty list"),
    ("tool call not object", [calls(["f"])], 1, f"{M1}.tool_calls[0]", "got a string"),
    ("tool call no function", [calls([{"id": "c"}])], 1, f"{M1}.tool_calls[0].function", 'has no "function"'),
    ("tool call bad type", [calls([{"type": "x"}])], 1, f"{M1}.tool_calls[0].type", 'must be "function"'),
    ("tool call no name", [calls([{"function": {"arguments": "{}"}}])], 1,
     f"{M1}.tool_calls[0].function.name", "non-empty string"),
    ("arguments object", [calls([{"function": {"name": "f", "arguments": {"a": 1}}}])], 1,
     f"{M1}.tool_calls[0].function.arguments", "JSON-encoded string, got an object"),
    ("tool_calls on user", [chat({**USER, "tool_calls": []}, ASSISTANT)], 1,
     f"{M0}.tool_calls", ONLY_ASSISTANT),
    ("function_call arguments",
     [chat(USER, {"role": "assistant", "function_call": {"name": "f", "arguments": 1}})],
     1, f"{M1}.function_call.arguments", "JSON-encoded string"),
    ("tools not list", [chat(USER, ASSISTANT, tools={})], 1, "tools", "Expected a list"),
    ("parallel not bool", [chat(USER, ASSISTANT, parallel_tool_calls="yes")], 1,
     "parallel_tool_calls", "true or false"),
    ("dpo no preferred", [dpo(preferred_output=None)], 1, "preferred_output",
     'Missing key "preferred_output"'),
    ("dpo no non_preferred", [dpo(non_preferred_output=None)], 1, "non_preferred_output",
     'Missing key "non_preferred_output"'),
    ("dpo no input", [dpo(input=None)], 1, "input", 'Missing key "input"'),
    ("dpo input messages", [dpo(input={})], 1, "input.messages", 'Missing key "input.messages"'),
    ("dpo preferred role", [dpo(preferred_output=[USER])], 1, "preferred_output[0].role",
     'Expected role "assistant", got "user"'),
    ("dpo alias role", [dpo(non_preferred_output=None, non_preferred_completion=[USER])], 1,
     "non_preferred_completion[0].role", 'Expected role "assistant"'),
    ("dpo both keys", [dpo(preferred_completion=[ASSISTANT])], 1, "preferred_completion", "not both"),
    ("dpo unknown key", [dpo(junk=1)], 1, "junk", "Unrecognized key"),
    ("prompt not str", [{"prompt": 1, "completion": "x"}], 1, "prompt",
     '"prompt" must be a string, got a number'),
    ("completion missing", [{"prompt": "x"}], 1, "completion", 'Missing key "completion"'),
    ("completion unknown key", [{"prompt": "x", "completion": "y", "note": 1}], 1, "note",
     "Unrecognized key"),
    ("mixed", [LINE, "", {"prompt": "x", "completion": "y"}], 3, None,
     "This line is a completion example, but line 1 started the file as chat"),
    ("mixed chat reinforcement", ["  ", LINE, chat(USER, answer="x")], 3, None,
     "This line is a reinforcement example, but line 2 started the file as chat"),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "line", "field", "fragment"), [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])  # fmt: skip
def test_errors_name_line_and_field(lines: list[Any], line: int, field: str | None, fragment: str) -> None:
    error = parse_error(jsonl(*lines))
    assert (error.line, error.field) == (line, field)
    where = f'Line {line}, key "{field}": ' if field else f"Line {line}: "
    assert error.message.startswith(f"Invalid file format. {where}")
    assert fragment in error.message


def test_unknown_role_message_wording() -> None:
    error = parse_error(jsonl(CHAT, chat(USER, {"role": "robot", "content": "x"})))
    assert error.message == (
        'Invalid file format. Line 2, key "messages[1].role": Unknown role "robot"; '
        "expected one of system, user, assistant, tool, function."
    )


def test_error_is_an_invalid_request_in_openai_envelope() -> None:
    error = parse_error(jsonl({"foo": 1}))
    assert isinstance(error, InvalidRequest)
    assert error.status_code == 400
    envelope = error.envelope()["error"]
    assert envelope["type"] == "invalid_request_error"
    assert (envelope["param"], envelope["code"]) == ("file", "invalid_training_file")


def test_invalid_utf8_names_the_line() -> None:
    error = parse_error(jsonl(CHAT) + b'{"prompt": "caf\xe9", "completion": "x"}\n')
    assert error.line == 2
    assert error.message.startswith("Invalid file format. Line 2: The line is not valid UTF-8 (byte 0xe9")


def test_deep_nesting_is_refused() -> None:
    error = parse_error(b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    assert error.line == 1
    assert "nested too deeply" in error.message


@pytest.mark.parametrize("data", [b"", b"\n \r\n\t\n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom"])
def test_file_without_examples(data: bytes) -> None:
    error = parse_error(data)
    assert error.line is None
    assert error.message.startswith("Invalid file format. The file has no training examples")


def test_line_over_limit_says_limit_and_line() -> None:
    data = jsonl({"prompt": "x", "completion": "y"}, {"prompt": "x" * 200, "completion": "y"})
    error = parse_error(data, max_line_bytes=100)
    assert error.line == 2
    assert error.message == (
        "Invalid file format. Line 2: The line is longer than the limit of 100 bytes; "
        "shorten or split this example."
    )


def test_line_exactly_at_limit_is_accepted_with_crlf() -> None:
    line = json.dumps(CHAT).encode()
    assert len(parse(line + b"\r\n" + line + b"\r\n", max_line_bytes=len(line))) == 2
    assert parse_error(line + b"\r\n", max_line_bytes=len(line) - 1).line == 1


def test_failed_parser_keeps_raising_and_closed_parser_refuses_input() -> None:
    parser = StreamingParser()
    with pytest.raises(TrainingFileError):
        parser.feed(b"not json\n")
    with pytest.raises(TrainingFileError):
        parser.feed(jsonl(CHAT))
    closed = StreamingParser()
    closed.feed(jsonl(CHAT))
    closed.close()
    with pytest.raises(RuntimeError):
        closed.feed(jsonl(CHAT))


def test_max_line_bytes_must_be_positive() -> None:
    assert DEFAULT_MAX_LINE_BYTES == 4 * 1024 * 1024
    with pytest.raises(ValueError):
        StreamingParser(max_line_bytes=0)


def test_check_min_examples() -> None:
    check_min_examples(MIN_EXAMPLES)
    with pytest.raises(TrainingFileError) as caught:
        check_min_examples(3)
    assert caught.value.message == "Training file has 3 example(s), but must have at least 10 examples"
    assert caught.value.param == "training_file"
    with pytest.raises(TrainingFileError) as caught:
        check_min_examples(0, param="validation_file")
    assert caught.value.param == "validation_file"


# --- streaming -----------------------------------------------------------------------------------

SMALL_FILE = (
    b"\xef\xbb\xbf"
    + json.dumps(chat(USER, {**ASSISTANT, "content": "café ☃", "weight": 0}), ensure_ascii=False).encode()
    + b"\r\n\n"
    + json.dumps(user([{"type": "text", "text": "über"}]), ensure_ascii=False).encode()
    + b"\n"
    + json.dumps(CHAT).encode()
)


def feed_split(data: bytes, cuts: list[int]) -> tuple[list[Example], tuple[int, int]]:
    parser = StreamingParser()
    examples = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        examples += parser.feed(data[start:end])
    examples += parser.close()
    return examples, (parser.lines, parser.examples_count)


def test_every_chunk_boundary_gives_identical_results() -> None:
    expected = feed_split(SMALL_FILE, [])
    assert len(expected[0]) == 3
    for cut in range(len(SMALL_FILE) + 1):
        assert feed_split(SMALL_FILE, [cut]) == expected, cut
    assert feed_split(SMALL_FILE, list(range(1, len(SMALL_FILE)))) == expected  # one byte at a time


def test_every_chunk_boundary_gives_the_same_error() -> None:
    data = SMALL_FILE + b'\n{"messages": [{"role": "robot"}]}\n'
    for cut in range(len(data) + 1):
        with pytest.raises(TrainingFileError) as caught:
            feed_split(data, [cut])
        assert (caught.value.line, caught.value.field) == (5, "messages[0].role"), cut


def test_long_line_is_rejected_before_its_end() -> None:
    chunk_size, limit, total = 64 * 1024, 1024 * 1024, 10 * 1024 * 1024
    parser = StreamingParser(max_line_bytes=limit)
    parser.feed(jsonl(CHAT))
    fed = 0
    with pytest.raises(TrainingFileError) as caught:
        parser.feed(b'{"prompt": "')
        while fed < total:
            parser.feed(b"x" * chunk_size)
            fed += chunk_size
    assert fed <= limit  # raised on the chunk that crossed the limit, long before the 10 MB end
    assert caught.value.line == 2
    assert f"limit of {limit} bytes" in caught.value.message


def test_long_line_in_one_chunk_is_rejected() -> None:
    error = parse_error(jsonl(CHAT, "x" * 2000, CHAT), max_line_bytes=1000)
    assert error.line == 2


def write_file(path: Path, rows: Iterator[bytes]) -> int:
    size = 0
    with path.open("wb") as handle:
        for row in rows:
            handle.write(row)
            size += len(row)
    return size


def test_iter_examples_streams_a_file(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(SMALL_FILE)
    assert list(iter_examples(path)) == feed_split(SMALL_FILE, [])[0]


def test_iter_examples_yields_good_lines_before_the_error(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    rows = [CHAT] * (2 * READ_CHUNK_BYTES // len(LINE))
    path.write_bytes(jsonl(*rows, {"messages": "x"}))
    seen = []
    with pytest.raises(TrainingFileError) as caught:
        for example in iter_examples(path):
            seen.append(example.line)
    assert seen == list(range(1, len(seen) + 1))
    assert len(seen) >= READ_CHUNK_BYTES // len(LINE)  # earlier chunks were yielded before the error
    assert caught.value.line == len(rows) + 1


def test_large_file_parses_in_bounded_memory(tmp_path: Path) -> None:
    messages = ({"role": "system", "content": "s" * 200}, {"role": "user", "content": "u" * 2000}, ASSISTANT)
    row = jsonl(chat(*messages))
    count = 50 * 1024 * 1024 // len(row)
    path = tmp_path / "big.jsonl"
    size = write_file(path, (row for _ in range(count)))
    started = time.monotonic()
    tracemalloc.start()
    try:
        parsed = sum(1 for _ in iter_examples(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed == count
    assert size >= 50 * 1024 * 1024 - len(row)
    assert peak < 4 * 1024 * 1024, peak  # a few read chunks, not the 50 MB file
    assert time.monotonic() - started < 20
