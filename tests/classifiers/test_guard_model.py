"""The guard-model classifier: a tiny Llama built here (local mode) and a small local HTTP server that
answers like vLLM's ``/v1/completions`` with logprobs (remote mode).

No real guard model is available offline, and vLLM itself cannot run here (no GPU, not installed):
the server below speaks the same JSON (``choices[i].logprobs.top_logprobs[0]`` = token → logprob).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from classifiers import _guard_templates as templates
from classifiers._guard_remote import GuardServerError, positive_probability
from classifiers.base import ClassifierInput, SegmentKind, Turn
from classifiers.guard_model import GuardModel, answer_token_ids
from classifiers.registry import InvalidClassifierParams, build_classifier

WORDS = "safe unsafe Yes No yes no User Agent how do I make a bomb bake bread".split()  # noqa: SIM905
ITEMS = [
    ClassifierInput("how do I bake bread", SegmentKind.USER),
    ClassifierInput("how do I make a bomb", SegmentKind.PROMPT),
    ClassifierInput("You are a helpful assistant.", SegmentKind.SYSTEM),
    ClassifierInput("Mix flour and water.", SegmentKind.ASSISTANT, (Turn("user", "how do I bake bread"),)),
    ClassifierInput("Sure, here is how.", SegmentKind.COMPLETION, (Turn("user", "how do I make a bomb"),)),
]


# ---------------------------------------------------------------- a tiny local guard model


def _corpus() -> list[str]:
    turns = [Turn("user", "hello"), Turn("assistant", "hi")]
    return [templates.prompt(family, turns, policy) for family in templates.FAMILIES for policy in [None]] + [
        " ".join(WORDS)
    ]


@pytest.fixture(scope="module")
def tiny_guard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("guard")
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "<unk>", "<s>", "</s>"])
    tokenizer.train_from_iterator(_corpus() * 3, trainer)
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    ).save_pretrained(directory)
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


def _biased_copy(source: Path, target: Path, word: str, strength: float = 8.0) -> Path:
    """A copy whose logits favour ``word`` everywhere: a constant hidden feature acts as an lm_head bias.

    Llama's lm_head has no bias term, so feature 0 of the residual stream is made constant (every
    embedding holds 1.0 there and no layer writes to it); after RMSNorm it is ~sqrt(hidden), and the
    lm_head weight on feature 0 becomes a per-token bias: ``strength`` for ``word``, 0 for the rest.
    """
    model = LlamaForCausalLM.from_pretrained(source)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(source)
    token = tokenizer.convert_tokens_to_ids(word)
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 1.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0, :] = 0.0
            layer.mlp.down_proj.weight[0, :] = 0.0
        model.lm_head.weight[:, 0] = 0.0
        model.lm_head.weight[token, 0] = strength
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def _local(path: Path, **params: Any) -> GuardModel:
    return GuardModel(model_path=str(path), device="cpu", **params)


async def test_local_scores_in_range_one_per_input_in_batch_order(tiny_guard) -> None:
    classifier = _local(tiny_guard)
    scores = await classifier.score(ITEMS)
    assert len(scores) == len(ITEMS)
    for result in scores:
        assert set(result.values) == {"unsafe"}
        assert 0.0 <= result.get("unsafe") <= 1.0
    # Each item alone gives the number it got inside the (left-padded) batch.
    for item, batched in zip(ITEMS, scores, strict=True):
        [alone] = await classifier.score([item])
        assert alone.get("unsafe") == pytest.approx(batched.get("unsafe"), abs=1e-4)


def test_answer_token_ids_come_from_the_tokenizer(tiny_guard) -> None:
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny_guard)
    assert answer_token_ids(tokenizer, "unsafe") == {tokenizer.convert_tokens_to_ids("unsafe")}
    assert answer_token_ids(tokenizer, "safe") == {tokenizer.convert_tokens_to_ids("safe")}
    with pytest.raises(ValueError, match="no token"):
        answer_token_ids(tokenizer, "§")


@pytest.mark.parametrize(("word", "expected"), [("unsafe", 1.0), ("safe", 0.0)])
async def test_the_dominant_answer_token_decides(tiny_guard, tmp_path, word, expected) -> None:
    classifier = _local(_biased_copy(tiny_guard, tmp_path / word, word))
    for result in await classifier.score(ITEMS):
        assert result.get("unsafe") == pytest.approx(expected, abs=0.01)


async def test_wildguard_and_shieldgemma_read_their_own_words(tiny_guard, tmp_path) -> None:
    yes = _biased_copy(tiny_guard, tmp_path / "yes", "yes")
    wildguard = await _local(yes, family="wildguard").score(ITEMS)
    assert all(result.get("unsafe") > 0.99 for result in wildguard)
    shieldgemma = await _local(yes, family="shieldgemma", policies=("harassment",)).score(ITEMS)
    assert all(
        result.get("unsafe") == pytest.approx(0.5, abs=0.05) for result in shieldgemma
    )  # "Yes" ≠ "yes"
    big_yes = _biased_copy(tiny_guard, tmp_path / "Yes", "Yes")
    granite = await _local(big_yes, family="granite_guardian").score(ITEMS[:2])
    assert all(result.get("unsafe") > 0.99 for result in granite)


def test_llama_guard_turns_alternate_and_system_messages_are_separate_or_merged() -> None:
    context = (
        Turn("system", "Always obey."),
        Turn("user", "hi"),
        Turn("tool", "42"),
        Turn("assistant", "hello"),
        Turn("assistant", "how can I help"),
        Turn("user", "make a bomb"),
    )
    item = ClassifierInput("Sure: step one", SegmentKind.ASSISTANT, context)
    separate = GuardModel(base_url="http://127.0.0.1:9", model="m").conversation(item)
    assert [t.role for t in separate] == ["user", "assistant", "user", "assistant"]
    assert separate[0].text == "hi\n\n[tool output]\n42"
    assert separate[1].text == "hello\n\nhow can I help"
    assert "Always obey." not in " ".join(t.text for t in separate)
    merged = GuardModel(base_url="http://127.0.0.1:9", model="m", system_messages="merge").conversation(item)
    assert merged[0].text.startswith("[System instructions]\nAlways obey.\n\nhi")
    # A system prompt is judged alone, as the user's turn; a reply without context gets an empty user turn.
    system = GuardModel(base_url="http://127.0.0.1:9", model="m").conversation(
        ClassifierInput("Always obey.", SegmentKind.SYSTEM)
    )
    assert system == [Turn("user", "Always obey.")]
    lone = templates.alternate([Turn("assistant", "ok")], "separate")
    assert lone == [Turn("user", ""), Turn("assistant", "ok")]
    prompt = templates.prompt("llama_guard", separate)
    assert "ONLY THE LAST Agent message" in prompt and prompt.endswith(
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert (
        "S14: Code Interpreter Abuse." in prompt and "Agent: Sure: step one\n\n<END CONVERSATION>" in prompt
    )


# ---------------------------------------------------------------- remote mode: a vLLM-shaped server


class _Server:
    """A real HTTP server on a free port answering POST /v1/completions like vLLM (logprobs=N)."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                choices = [{"index": i, **answer(p, body)} for i, p in enumerate(body["prompt"])]
                payload = json.dumps({"object": "text_completion", "choices": choices[::-1]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _choice(top: dict[str, float], text: str = "") -> dict[str, Any]:
    return {"text": text, "logprobs": {"tokens": [text], "token_logprobs": [0.0], "top_logprobs": [top]}}


def _vllm_like(prompt: str, body: dict[str, Any]) -> dict[str, Any]:
    if body["max_tokens"] > 1:  # category codes after "unsafe\n"
        return {"text": "S1,S10", "logprobs": None}
    harmful = "bomb" in prompt
    return _choice(
        {"unsafe": math.log(0.9 if harmful else 0.2), "safe": math.log(0.1 if harmful else 0.8), "\n": -5}
    )


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server(_vllm_like)
    yield running
    running.close()


async def test_remote_reads_the_two_logprobs_in_order(server) -> None:
    classifier = GuardModel(base_url=server.url, model="llama-guard-3-8b", api_key="k")
    scores = await classifier.score(ITEMS)
    assert [round(s.get("unsafe"), 3) for s in scores] == [0.2, 0.9, 0.2, 0.2, 0.9]
    [request] = server.requests
    assert request["path"] == "/v1/completions" and request["auth"] == "Bearer k"
    assert request["max_tokens"] == 1 and request["logprobs"] == 20 and request["temperature"] == 0
    assert len(request["prompt"]) == len(ITEMS)
    await classifier.aclose()


async def test_remote_categories_on_demand_map_s_codes(server) -> None:
    classifier = GuardModel(base_url=server.url, model="m", categories_on_demand=True)
    scores = await classifier.score(ITEMS[:2])
    assert dict(scores[0].values) == pytest.approx({"unsafe": 0.2})
    assert dict(scores[1].values) == pytest.approx({"unsafe": 0.9, "violent_crimes": 0.9, "hate": 0.9})
    generation = server.requests[-1]
    assert generation["max_tokens"] > 1 and generation["prompt"][0].endswith("unsafe\n")


async def test_remote_wildguard_fills_the_answer_lines() -> None:
    def answer(prompt: str, body: dict[str, Any]) -> dict[str, Any]:
        yes = 0.7 if prompt.endswith("Harmful response:") else 0.1
        return _choice({" yes": math.log(yes), " no": math.log(1 - yes)})

    server = _Server(answer)
    try:
        scores = await GuardModel(family="wildguard", base_url=server.url, model="wg").score(ITEMS[3:])
        assert [round(s.get("unsafe"), 3) for s in scores] == [0.7, 0.7]
        assert [len(r["prompt"]) for r in server.requests] == [2, 2, 2]
        assert server.requests[-1]["prompt"][0].endswith(
            "Answers: [/INST]\n<|assistant|>\nHarmful request: no\nResponse refusal: no\nHarmful response:"
        )
    finally:
        server.close()


async def test_remote_shieldgemma_scores_each_policy() -> None:
    def answer(prompt: str, body: dict[str, Any]) -> dict[str, Any]:
        yes = 0.8 if "No Harassment" in prompt else 0.3
        return _choice({"Yes": math.log(yes), "No": math.log(1 - yes)})

    server = _Server(answer)
    try:
        [result] = await GuardModel(family="shieldgemma", base_url=server.url, model="sg").score(ITEMS[:1])
        assert dict(result.values) == pytest.approx(
            {
                "unsafe": 0.8,
                "harassment": 0.8,
                "dangerous_content": 0.3,
                "hate_speech": 0.3,
                "sexually_explicit": 0.3,
            }
        )
    finally:
        server.close()


def test_missing_answer_tokens() -> None:
    assert positive_probability({"safe": -0.1, "x": -3}, "unsafe", "safe") == 0.0
    assert positive_probability({"unsafe": -0.1}, "unsafe", "safe") == 1.0
    assert positive_probability(
        {" unsafe": math.log(0.3), "unsafe": math.log(0.3), "safe": math.log(0.2)}, "unsafe", "safe"
    ) == pytest.approx(0.75)
    with pytest.raises(GuardServerError, match="neither"):
        positive_probability({"hello": -0.1}, "unsafe", "safe")


def test_config_validation(tiny_guard) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GuardModel()
    with pytest.raises(ValueError, match="exactly one"):
        GuardModel(model_path=str(tiny_guard), base_url="http://x/v1", model="m")
    with pytest.raises(ValueError, match="model"):
        GuardModel(base_url="http://x/v1")
    with pytest.raises(InvalidClassifierParams, match="family"):
        build_classifier("guard-model", {"model_path": str(tiny_guard), "family": "llama_guard_9"})
    built = build_classifier(
        "guard-model", {"model_path": str(tiny_guard), "family": "wildguard", "device": "cpu"}
    )
    assert isinstance(built, GuardModel) and built.spec()["family"] == "wildguard"
