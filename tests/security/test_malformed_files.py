"""A corpus of malformed training files: each is refused with a clear error naming the exact line.

One real gateway process for the module (the session's real trainer as upstream), driven with the
``openai`` client. Every case is a file of valid rows in one format (chat, legacy completion or DPO)
with one broken line at a known position, so the test checks the line number the error names, not
just that there is one. Each file goes in twice: through ``POST /v1/files`` and through the uploads
API with the bytes split into two parts at the middle (mid-line, sometimes mid-character), so line
counting across chunk boundaries is checked too. Afterwards nothing is lost: no File was created and
no bytes were left in the spool by a refused upload, a file uploaded before the corpus is intact, the
gateway still serves, and a valid file uploaded after the corpus is accepted and scanned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.data import chat_rows
from tests.support.envelope import check_api_error
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_for

MAX_LINE_BYTES = 16 * 1024
TRAINING_FILE = "invalid_training_file"


def _line(row: object) -> bytes:
    return json.dumps(row).encode() + b"\n"


def _chat(i: int) -> bytes:
    return _line(chat_rows(i + 1)[i])


def _completion(i: int) -> bytes:
    return _line({"prompt": f"What is {i} plus {i}?", "completion": f"{2 * i}"})


def _dpo(i: int) -> bytes:
    return _line(
        {
            "input": {"messages": [{"role": "user", "content": f"What is {i} plus {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"{2 * i}."}],
            "non_preferred_output": [{"role": "assistant", "content": "I cannot say."}],
        }
    )


def _chat_with(*messages: object, **extra: object) -> bytes:
    return _line({"messages": list(messages), **extra})


USER = {"role": "user", "content": "What is 2 plus 2?"}
ANSWER = {"role": "assistant", "content": "4."}


def _call(arguments: object, **function: object) -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "add", "arguments": arguments, **function},
            }
        ],
    }


@dataclass(frozen=True)
class Case:
    """``before`` valid rows, the bad line, ``after`` valid rows; the error must name ``line``."""

    bad: bytes
    phrase: str  # what to fix, as the message says it
    before: int = 3
    after: int = 3
    row: object = _chat
    separator: bytes = b""  # put between every valid row (blank lines, CRLF)
    line: int | None = None  # default: the bad line's own number

    def content(self) -> bytes:
        def rows(start: int, count: int) -> bytes:
            return b"".join(self.row(start + i) + self.separator for i in range(count))  # type: ignore[operator]

        return rows(0, self.before) + self.bad + self.separator + rows(self.before, self.after)

    def expected_line(self) -> int:
        if self.line is not None:
            return self.line
        per_row = 1 + self.separator.count(b"\n")
        return self.before * per_row + 1


DEEP = b'{"messages": [{"role": "user", "content": ' + b"[" * 5000 + b"]" * 5000 + b"}]}\n"

CORPUS: dict[str, Case] = {
    # -- not JSON, or not one object per line ----------------------------------------------------------
    "invalid-json": Case(b'{"messages": [{"role": "user", "content": "hi"}\n', "Invalid JSON", before=4),
    "trailing-comma": Case(_chat(9)[:-2] + b",}\n", "Invalid JSON", before=6),
    "single-quotes": Case(b"{'messages': []}\n", "Invalid JSON", before=1),
    "two-objects-on-one-line": Case(_chat(8)[:-1] + _chat(9), "Invalid JSON (Extra data", before=2),
    "bom-not-on-line-1": Case(b"\xef\xbb\xbf" + _chat(9), "Invalid JSON (Unexpected UTF-8 BOM", before=2),
    "non-utf8-byte": Case(_chat(9).replace(b"plus", b"pl\xfcs"), "not valid UTF-8", before=5),
    "utf16-file": Case(
        _chat(9).decode().encode("utf-16-le"), "is the file UTF-16?", before=0, after=0, line=1
    ),
    "nul-byte-outside-strings": Case(b"\x00" + _chat(9), "NUL byte at offset 0", before=3),
    "raw-nul-in-string": Case(_chat(9).replace(b"plus", b"pl\x00us"), "NUL byte at offset"),
    "raw-newline-in-string-splits-the-line": Case(
        _chat(9).replace(b"plus", b"pl\nus"), "Invalid JSON (Unterminated string", before=2
    ),
    "top-level-array": Case(b'[{"role": "user", "content": "hi"}]\n', "got a list", before=7),
    "top-level-number": Case(b"42\n", "got a number", before=2),
    "top-level-string": Case(b'"just text"\n', "got a string", before=2),
    "top-level-null": Case(b"null\n", "got null", before=2),
    "nan": Case(_chat_with(USER, {**ANSWER, "weight": 1})[:-3] + b", NaN]}\n", "NaN is not valid JSON"),
    "huge-integer": Case(
        _line({"messages": [USER, ANSWER]})[:-2] + b', "n": ' + b"9" * 5000 + b"}\n",
        "Invalid JSON (",
        before=2,
    ),
    "deeply-nested": Case(DEEP, "nested too deeply", before=2),
    "line-over-limit": Case(
        _chat_with({"role": "user", "content": "a" * MAX_LINE_BYTES}, ANSWER),
        "longer than the limit",
        before=4,
    ),
    "truncated-last-line": Case(_chat(9)[: len(_chat(9)) // 2], "Invalid JSON", before=5, after=0),
    "blank-lines-counted": Case(b"{oops}\n", "Invalid JSON", before=3, separator=b"\n\n"),
    "crlf-line-endings": Case(b"{oops}\r\n", "Invalid JSON", before=3, separator=b"\r\n"),
    "cr-only-line-endings": Case(
        b"\r".join(_chat(i)[:-1] for i in range(4)) + b"\n", "Invalid JSON (Extra data", before=0, after=0
    ),
    # -- chat rows -------------------------------------------------------------------------------------
    "missing-messages": Case(_line({"conversation": [USER, ANSWER]}), 'Missing key "messages"', before=2),
    "messages-not-a-list": Case(_line({"messages": ANSWER}), "Expected a list of messages", before=3),
    "empty-messages": Case(_line({"messages": []}), "The message list is empty", before=4),
    "unknown-role": Case(_chat_with({"role": "human", "content": "hi"}, ANSWER), 'Unknown role "human"'),
    "role-not-a-string": Case(_chat_with({"role": 1, "content": "hi"}, ANSWER), "Unknown role 1"),
    "role-missing": Case(_chat_with({"content": "hi"}, ANSWER), 'The message has no "role"', before=5),
    "unknown-message-key": Case(_chat_with({**USER, "lang": "en"}, ANSWER), 'Unrecognized key "lang"'),
    "content-a-number": Case(_chat_with({"role": "user", "content": 4}, ANSWER), "Content must be a string"),
    "content-null-on-user": Case(_chat_with({"role": "user", "content": None}, ANSWER), "Content is missing"),
    "content-part-unknown-type": Case(
        _chat_with({"role": "user", "content": [{"type": "video", "video": "x"}]}, ANSWER),
        "Unsupported content part type",
    ),
    "content-part-text-not-string": Case(
        _chat_with({"role": "user", "content": [{"type": "text", "text": ["a"]}]}, ANSWER),
        'A "text" part needs a string "text"',
    ),
    "no-assistant-turn": Case(_chat_with(USER), "No assistant message", before=6),
    "weight-not-0-or-1": Case(_chat_with(USER, {**ANSWER, "weight": 0.5}), "Weight must be 0 or 1, got 0.5"),
    "weight-infinite": Case(
        _chat_with(USER, {**ANSWER, "weight": 7})[:-5] + b"1e999}]}\n", "Weight must be 0 or 1"
    ),
    "weight-on-user": Case(
        _chat_with({**USER, "weight": 1}, ANSWER), '"weight" is only allowed on assistant'
    ),
    "tool-arguments-an-object": Case(
        _chat_with(USER, _call({"a": 2, "b": 2})), "Arguments must be a JSON-encoded string"
    ),
    "tool-arguments-invalid-json": Case(
        _chat_with(USER, _call('{"a": 2, "b": ')), "Arguments must be valid JSON", before=2
    ),
    "tool-calls-empty": Case(
        _chat_with(USER, {"role": "assistant", "content": None, "tool_calls": []}),
        "Expected a non-empty list of tool calls",
    ),
    "duplicate-keys": Case(
        b'{"messages": [{"role": "user", "content": "hi", "content": "other"}, '
        b'{"role": "assistant", "content": "4."}]}\n',
        'Duplicate key "content"',
        before=4,
    ),
    "parallel-tool-calls-not-bool": Case(
        _chat_with(USER, ANSWER, parallel_tool_calls="yes"), "Expected true or false"
    ),
    # -- legacy completion and DPO rows -----------------------------------------------------------------
    "completion-not-a-string": Case(
        _line({"prompt": "2+2", "completion": 4}), '"completion" must be a string', row=_completion
    ),
    "completion-unknown-key": Case(
        _line({"prompt": "2+2", "completion": "4", "score": 1}), 'Unrecognized key "score"', row=_completion
    ),
    "dpo-missing-preferred-output": Case(
        _line({"input": {"messages": [USER]}, "non_preferred_output": [ANSWER]}),
        'Missing key "preferred_output"',
        row=_dpo,
        before=4,
    ),
    "dpo-input-not-an-object": Case(
        _line({"input": [USER], "preferred_output": [ANSWER], "non_preferred_output": [ANSWER]}),
        '"input" must be an object',
        row=_dpo,
    ),
    "dpo-output-from-user": Case(
        _line({"input": {"messages": [USER]}, "preferred_output": [USER], "non_preferred_output": [ANSWER]}),
        'Expected role "assistant"',
        row=_dpo,
        before=2,
    ),
    "mixed-chat-then-completion": Case(_completion(9), "started the file as chat", before=5),
    "mixed-dpo-then-chat": Case(_chat(9), "started the file as dpo", row=_dpo, before=2),
}

# Refused as a whole file: there is no line to name, and the message says so.
EMPTY = {
    "empty-file": b"",
    "only-whitespace": b" \n\t\n\r\n   \n",
    "only-a-bom": b"\xef\xbb\xbf\n",
}


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gw(trainer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(
        tmp_path_factory.mktemp("malformed") / "gw",
        trainer_url=trainer.url,
        extra_config={"max_line_bytes": MAX_LINE_BYTES},
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(gw: GatewayProcess) -> openai.OpenAI:
    return gw.client(gw.create_key("acme", "ml"))


@pytest.fixture(scope="module")
def before_corpus(client: openai.OpenAI) -> tuple[str, bytes]:
    """A valid file uploaded before any malformed one: it must come through the corpus untouched."""
    content = b"".join(_chat(i) for i in range(12))
    return client.files.create(file=("before.jsonl", content), purpose="fine-tune").id, content


@pytest.fixture(scope="module")
def spool(gw: GatewayProcess) -> Path:
    return gw.workdir / "data" / "spool"


def _spooled(spool: Path) -> set[str]:
    return {str(p.relative_to(spool)) for p in spool.rglob("*") if p.is_file()}


# --- the corpus -----------------------------------------------------------------------------------------

LINE = re.compile(r"\bLine (\d+)\b")


def _check_names_line(error: dict, case: Case) -> None:
    message = error["message"]
    assert message.startswith("Invalid file format. "), message
    assert LINE.findall(message)[:1] == [str(case.expected_line())], f"wrong or no line: {message!r}"
    assert case.phrase in message, f"{case.phrase!r} not in {message!r}"


def _upload_in_two_parts(client: openai.OpenAI, name: str, content: bytes) -> None:
    upload = client.uploads.create(
        bytes=len(content), filename=f"{name}.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    middle = len(content) // 2
    parts = [
        client.uploads.parts.create(upload.id, data=chunk) for chunk in (content[:middle], content[middle:])
    ]
    try:
        client.uploads.complete(upload.id, part_ids=[p.id for p in parts])
    finally:
        assert client.uploads.cancel(upload.id).status == "cancelled"  # still pending: nothing was created


def test_corpus_is_big_enough():
    assert len(CORPUS) + len(EMPTY) >= 30
    assert len({case.content() for case in CORPUS.values()}) == len(CORPUS)


@pytest.mark.parametrize("name", list(CORPUS))
def test_malformed_file_names_the_line(client: openai.OpenAI, before_corpus, spool: Path, name: str):
    case = CORPUS[name]
    stored = _spooled(spool)
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=(f"{name}.jsonl", case.content()), purpose="fine-tune")
    _check_names_line(
        check_api_error(caught.value, 400, phrase="Line", param="file", code=TRAINING_FILE), case
    )

    with pytest.raises(openai.BadRequestError) as caught:
        _upload_in_two_parts(client, name, case.content())
    _check_names_line(
        check_api_error(caught.value, 400, phrase="Line", param="file", code=TRAINING_FILE), case
    )
    assert _spooled(spool) == stored, "a refused file left bytes in the spool"


@pytest.mark.parametrize("name", list(EMPTY))
def test_file_without_examples_is_refused(client: openai.OpenAI, before_corpus, name: str):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=(f"{name}.jsonl", EMPTY[name]), purpose="fine-tune")
    check_api_error(caught.value, 400, phrase="no training examples", param="file", code=TRAINING_FILE)


def test_tolerated_quirks_are_accepted(client: openai.OpenAI):
    """A BOM on line 1, CRLF endings, blank lines and no final newline are what editors write: accepted."""
    rows = [_chat(i)[:-1] for i in range(12)]
    content = b"\xef\xbb\xbf" + b"\r\n\r\n".join(rows)
    created = client.files.create(file=("quirks.jsonl", content), purpose="fine-tune")
    assert created.bytes == len(content)
    assert client.files.content(created.id).content == content  # stored exactly as sent


def test_nothing_is_lost_after_the_corpus(client: openai.OpenAI, gw: GatewayProcess, before_corpus):
    """Runs last: the gateway serves, refused files left no trace, the earlier and a new file are fine."""
    file_id, content = before_corpus
    names = {f.filename for f in client.files.list().data}
    assert not names & {f"{name}.jsonl" for name in (*CORPUS, *EMPTY)}, "a refused file became a File"
    assert httpx.get(f"http://127.0.0.1:{gw.port}/readyz").status_code == 200
    assert client.files.content(file_id).content == content

    after = b"".join(_chat(i) for i in range(12))
    created = client.files.create(file=("after.jsonl", after), purpose="fine-tune")
    scanned = wait_for(
        lambda: client.files.retrieve(created.id), lambda f: f.status in ("processed", "error"), timeout=300
    )
    assert scanned.status == "processed", scanned.status_details
    assert client.files.retrieve(file_id).status == "processed"
