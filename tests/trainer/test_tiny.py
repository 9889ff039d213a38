"""The built-in tiny model: deterministic, safe to build concurrently, loadable as any HF model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

from trainer.tiny import ensure_tiny_model


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_build_is_deterministic(tmp_path: Path) -> None:
    one = ensure_tiny_model(tmp_path / "a")
    two = ensure_tiny_model(tmp_path / "b")
    assert _files(one) == _files(two)
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= set(_files(one))


def test_concurrent_builds_share_one_directory(tmp_path: Path) -> None:
    with ThreadPoolExecutor(3) as pool:
        paths = list(pool.map(lambda _: ensure_tiny_model(tmp_path, "m"), range(3)))
    assert paths == [tmp_path / "m"] * 3
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary directory left behind
    assert ensure_tiny_model(tmp_path, "m") == tmp_path / "m"


def test_loads_with_auto_classes_and_has_chat_template(tmp_path: Path) -> None:
    path = ensure_tiny_model(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert 900 <= len(tokenizer) <= 1000 and model.config.vocab_size == len(tokenizer)
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|bos|><|user|>\nHi<|end|>\n<|assistant|>\n"
    assert tokenizer.decode(tokenizer("Hello world")["input_ids"]) == "Hello world"
