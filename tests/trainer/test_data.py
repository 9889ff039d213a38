"""Training data checks and the loss mask: only assistant turns (weight 1) or completions train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.data import IGNORE, DataError, encode, read_examples
from trainer.modeling import FALLBACK_CHAT_TEMPLATE, load_tokenizer
from trainer.tiny import ensure_tiny_model


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    return load_tokenizer(ensure_tiny_model(tmp_path_factory.mktemp("models")))


def _trained_text(tokenizer, example: dict) -> str:
    encoded = encode(tokenizer, example, 256)
    return tokenizer.decode([t for t in encoded.labels if t != IGNORE])


def test_only_weighted_assistant_turns_are_trained(tokenizer) -> None:
    example = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "One?"},
            {"role": "assistant", "content": "Skip me.", "weight": 0},
            {"role": "user", "content": "Two?"},
            {"role": "assistant", "content": [{"type": "text", "text": "Train me."}]},
        ]
    }
    assert _trained_text(tokenizer, example) == "Train me.<|end|>\n"


def test_tool_messages_are_context_only(tokenizer) -> None:
    example = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
            {"role": "assistant", "content": "It is sunny."},
        ]
    }
    trained = _trained_text(tokenizer, example)
    assert trained.endswith("<|end|>\nIt is sunny.<|end|>\n") and '"c1"' in trained  # both assistant turns
    assert "Weather" not in trained and trained.count("sunny") == 1  # the tool's reply is not trained


def test_prompt_completion_trains_the_completion(tokenizer) -> None:
    assert _trained_text(tokenizer, {"prompt": "Q: 2+2?", "completion": " 4"}) == " 4<|eos|>"


def test_fallback_template_for_tokenizers_without_one(tmp_path: Path) -> None:
    path = ensure_tiny_model(tmp_path)
    (path / "chat_template.jinja").unlink()
    tokenizer = load_tokenizer(path)
    assert tokenizer.chat_template == FALLBACK_CHAT_TEMPLATE
    example = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
    assert _trained_text(tokenizer, example) == "Hello.<|eos|>\n"


def test_truncation(tokenizer) -> None:
    encoded = encode(tokenizer, {"prompt": "word " * 300, "completion": "end"}, 16)
    assert len(encoded.input_ids) == len(encoded.labels) == 16 and encoded.trainable == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"text": "x"}', "'messages' list or 'prompt'"),
        ('{"messages": [{"role": "robot", "content": "x"}]}', "unknown role"),
        ('{"messages": [{"role": "user", "content": "x", "weight": 0}]}', "weight"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: str, expected: str) -> None:
    good = json.dumps({"prompt": "a", "completion": "b"})
    path = tmp_path / "t.jsonl"
    path.write_text(f"{good}\n\n{good}\n{line}\n")
    with pytest.raises(DataError) as info:
        read_examples(path)
    assert info.value.line == 4 and str(info.value).startswith("Line 4: ") and expected in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no examples"):
        read_examples(tmp_path / "e.jsonl")
