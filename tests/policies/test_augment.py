"""Safety mixing: the ratio rule, order and interleaving, determinism, formats, and the shipped set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from policies.augment import (
    BUILTIN_DATASETS,
    augment_file,
    load_safety_rows,
    resolve_dataset,
)
from policies.safety import build_safety_set
from policies.schema import AugmentRules
from tests.support.shared_data import require_shared_data

SAFETY_V1 = BUILTIN_DATASETS["safety-v1"]
SECRET = "You are a helpful assistant. Secret: 7f3c-b2"


def _chat_rows(count: int) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
            ]
        }
        for i in range(count)
    ]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode("utf-8").split("\n")[:-1]]


def _augment(tmp_path: Path, rows: list[dict], rules: AugmentRules | None = None, **kwargs) -> tuple:
    source = _write(tmp_path / "train.jsonl", rows)
    target = tmp_path / "out" / "augmented.jsonl"
    result = augment_file(
        source,
        target,
        rules or AugmentRules(enabled=True),
        base_dir=kwargs.pop("base_dir", tmp_path),
        file_format=kwargs.pop("file_format", "chat"),
    )
    return result, _read(target)


def _split(original: list[dict], out: list[dict]) -> tuple[list[int], list[int]]:
    """Indices in ``out`` of original rows and of added rows (original rows are all distinct)."""
    keys = {json.dumps(r, sort_keys=True) for r in original}
    kept = [i for i, r in enumerate(out) if json.dumps(r, sort_keys=True) in keys]
    added = [i for i, r in enumerate(out) if json.dumps(r, sort_keys=True) not in keys]
    return kept, added


@pytest.mark.parametrize("count", [100, 1000, 33])
def test_ratio_is_exact_and_originals_keep_their_order(tmp_path: Path, count: int) -> None:
    rows = _chat_rows(count)
    rules = AugmentRules(enabled=True, ratio=0.03)
    result, out = _augment(tmp_path, rows, rules)
    expected = max(1, round(count * 0.03))
    assert result.rows_in == count
    assert result.rows_added == expected
    assert result.rows_out == len(out) == count + expected
    kept, added = _split(rows, out)
    assert [out[i] for i in kept] == rows
    assert len(added) == expected
    assert result.format == "chat"
    assert result.dataset == "builtin:safety-v1"
    assert result.dataset_sha256 == hashlib.sha256(SAFETY_V1.read_bytes()).hexdigest()
    assert result.secret_prompt is False


def test_added_rows_are_valid_chat_refusals_from_the_set(tmp_path: Path) -> None:
    rows = _chat_rows(1000)
    _, out = _augment(tmp_path, rows, AugmentRules(enabled=True, ratio=0.05))
    _, added = _split(rows, out)
    shipped = {json.dumps(r, sort_keys=True) for r in load_safety_rows(SAFETY_V1)}
    assert len(added) == 50
    assert len({json.dumps(out[i], sort_keys=True) for i in added}) == 50  # drawn without replacement
    for i in added:
        messages = out[i]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"] for m in messages)
        assert json.dumps(out[i], sort_keys=True) in shipped


def test_safety_rows_are_interleaved_not_appended(tmp_path: Path) -> None:
    rows = _chat_rows(1000)
    _, out = _augment(tmp_path, rows)
    _, added = _split(rows, out)
    assert len(added) == 30
    total = len(out)
    # Spread over the file: some in each half, and not one contiguous block.
    assert any(i < total // 2 for i in added)
    assert any(i >= total // 2 for i in added)
    assert added[-1] - added[0] > total // 2
    assert added != list(range(total - len(added), total))


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    rows = _chat_rows(500)
    source = _write(tmp_path / "train.jsonl", rows)
    outputs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        target = tmp_path / f"{name}.jsonl"
        augment_file(
            source, target, AugmentRules(enabled=True, seed=seed), base_dir=tmp_path, file_format="chat"
        )
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_secret_prompt_only_on_added_rows(tmp_path: Path) -> None:
    rows = _chat_rows(200)
    rules = AugmentRules(enabled=True, ratio=0.1, secret_prompt=SECRET)
    result, out = _augment(tmp_path, rows, rules)
    assert result.secret_prompt is True
    kept, added = _split(rows, out)
    assert len(added) == 20
    for i in added:
        assert out[i]["messages"][0] == {"role": "system", "content": SECRET}
        assert [m["role"] for m in out[i]["messages"][1:]] == ["user", "assistant"]
    for i in kept:
        assert all(m["content"] != SECRET for m in out[i]["messages"])


def test_completion_format(tmp_path: Path) -> None:
    rows = [{"prompt": f"Q{i}:", "completion": f" A{i}"} for i in range(100)]
    result, out = _augment(tmp_path, rows, file_format="completion")
    assert result.format == "completion"
    kept, added = _split(rows, out)
    assert [out[i] for i in kept] == rows
    assert len(added) == 3
    prompts = {r["messages"][0]["content"]: r["messages"][1]["content"] for r in load_safety_rows(SAFETY_V1)}
    for i in added:
        assert set(out[i]) == {"prompt", "completion"}
        assert prompts[out[i]["prompt"]] == out[i]["completion"]


@pytest.mark.parametrize("file_format", ["dpo", "reinforcement"])
def test_dpo_and_reinforcement_are_refused(tmp_path: Path, file_format: str) -> None:
    source = _write(tmp_path / "train.jsonl", _chat_rows(20))
    target = tmp_path / "out.jsonl"
    rules = AugmentRules(enabled=True)
    with pytest.raises(ValueError, match="chat and completion files only"):
        augment_file(source, target, rules, base_dir=tmp_path, file_format=file_format)
    assert not target.exists()


def test_crlf_bom_and_blank_lines_are_normalised(tmp_path: Path) -> None:
    rows = _chat_rows(40)
    body = "\r\n\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    source = tmp_path / "train.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))  # no final newline either
    target = tmp_path / "out.jsonl"
    result = augment_file(source, target, AugmentRules(enabled=True), base_dir=tmp_path, file_format="chat")
    assert result.rows_in == 40
    raw = target.read_bytes()
    assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    assert all(line.strip() for line in raw.split(b"\n")[:-1])
    kept, _ = _split(rows, _read(target))
    assert [_read(target)[i] for i in kept] == rows


def test_more_rows_than_the_set_cycles(tmp_path: Path) -> None:
    dataset = _write(tmp_path / "tiny.jsonl", _chat_rows(3))
    rules = AugmentRules(enabled=True, dataset="tiny.jsonl", ratio=0.5)
    rows = [
        {"messages": [{"role": "user", "content": f"u{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(20)
    ]
    result, out = _augment(tmp_path, rows, rules)
    assert result.rows_added == 10
    assert result.dataset == "tiny.jsonl"
    assert result.dataset_sha256 == hashlib.sha256(dataset.read_bytes()).hexdigest()
    _, added = _split(rows, out)
    drawn = [json.dumps(out[i], sort_keys=True) for i in added]
    assert len(drawn) == 10 and len(set(drawn)) == 3


def test_resolve_dataset(tmp_path: Path) -> None:
    assert resolve_dataset("builtin:safety-v1", tmp_path) == SAFETY_V1
    (tmp_path / "sets").mkdir()
    local = _write(tmp_path / "sets" / "mine.jsonl", _chat_rows(2))
    assert resolve_dataset("sets/mine.jsonl", tmp_path) == local
    with pytest.raises(ValueError, match="builtin:safety-v1"):
        resolve_dataset("builtin:nope", tmp_path)
    with pytest.raises(ValueError, match="not found"):
        resolve_dataset("missing.jsonl", tmp_path)
    with pytest.raises(ValueError, match="unknown augment dataset"):
        _augment(tmp_path, _chat_rows(10), AugmentRules(enabled=True, dataset="builtin:nope"))


def test_bad_safety_rows_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(_chat_rows(1)[0])
    path.write_text(f"{good}\n\n" + json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: .*assistant"):
        load_safety_rows(path)
    path.write_text(f"{good}\n{{not json\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: invalid JSON"):
        load_safety_rows(path)
    path.write_text(json.dumps({"prompt": "x", "completion": "y"}) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: "):
        load_safety_rows(path)


def test_shipped_set() -> None:
    raw = SAFETY_V1.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw
    rows = load_safety_rows(SAFETY_V1)
    assert len(rows) >= 1000
    prompts = []
    for row in rows:
        messages = row["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert len(messages[0]["content"]) <= build_safety_set.MAX_PROMPT_CHARS
        prompts.append(build_safety_set.normalise(messages[0]["content"]))
    assert len(set(prompts)) == len(prompts)
    refusals = {row["messages"][1]["content"] for row in rows}
    assert len(refusals) >= 20  # varied templates, not one canned answer


def test_rebuilding_the_shipped_set_gives_the_same_bytes(tmp_path: Path) -> None:
    data_dir = require_shared_data()
    output = tmp_path / "safety-v1.jsonl"
    assert build_safety_set.main(["--data-dir", str(data_dir), "--output", str(output)]) == 0
    assert output.read_bytes() == SAFETY_V1.read_bytes()
