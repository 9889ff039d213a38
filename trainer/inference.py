"""Serving models: a small LRU of loaded models, and token-by-token generation for chat.

Generation is a plain loop with the KV cache so streaming yields text as each token comes.
Temperature 0 (or none) is greedy; otherwise sampling with an optional seed and top_p.
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trainer.data import render
from trainer.errors import bad_request
from trainer.modeling import device, load_model, load_tokenizer, stop_token_ids

DEFAULT_MAX_TOKENS = 256


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    stop_ids: set[int]
    context: int
    cache_arg: str  # "cache" in recent transformers, "past_key_values" before


class ModelCache:
    """Keeps the ``size`` most recently used models in memory."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.models: OrderedDict[Path, Loaded] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, path: Path) -> Loaded:
        with self.lock:
            if path in self.models:
                self.models.move_to_end(path)
                return self.models[path]
            model = load_model(path).to(device()).eval()
            tokenizer = load_tokenizer(path)
            context = getattr(model.config, "max_position_embeddings", None) or 2048
            params = inspect.signature(model.forward).parameters
            cache_arg = "cache" if "cache" in params else "past_key_values"
            loaded = Loaded(model, tokenizer, stop_token_ids(model, tokenizer), context, cache_arg)
            self.models[path] = loaded
            while len(self.models) > self.size:
                self.models.popitem(last=False)
            return loaded


@dataclass
class Sampling:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = None


class Generation:
    """Iterate for text deltas; afterwards ``finish_reason`` and the token counts are set."""

    def __init__(self, loaded: Loaded, messages: list[dict[str, Any]], sampling: Sampling) -> None:
        self.loaded = loaded
        self.sampling = sampling
        text = render(loaded.tokenizer, messages, True)
        self.prompt_ids: list[int] = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
        room = loaded.context - len(self.prompt_ids)
        if room <= 0:
            message = (
                f"The messages take {len(self.prompt_ids)} tokens; this model's context is {loaded.context}."
            )
            raise bad_request(message, param="messages", code="context_length_exceeded")
        self.max_new = min(sampling.max_tokens or DEFAULT_MAX_TOKENS, room)
        self.completion_tokens = 0
        self.finish_reason = "length"

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt_ids)

    def __iter__(self) -> Iterator[str]:
        tokenizer, stops = self.loaded.tokenizer, self.sampling.stop or []
        generator = None
        if self.sampling.seed is not None:
            generator = torch.Generator(device=device()).manual_seed(self.sampling.seed)
        ids = torch.tensor([self.prompt_ids], device=device())
        past, out_ids, emitted = None, [], 0
        with torch.no_grad():
            for _ in range(self.max_new):
                out = self.loaded.model(input_ids=ids, use_cache=True, **{self.loaded.cache_arg: past})
                past = out.get("cache", out.get("past_key_values"))
                token = self._pick(out.logits[0, -1], generator)
                if token in self.loaded.stop_ids:
                    self.finish_reason = "stop"
                    break
                out_ids.append(token)
                self.completion_tokens += 1
                ids = torch.tensor([[token]], device=device())
                text = tokenizer.decode(out_ids, skip_special_tokens=True)
                hit = min((text.find(s) for s in stops if s in text), default=-1)
                if hit >= 0:
                    self.finish_reason = "stop"
                    if hit > emitted:
                        yield text[emitted:hit]
                    return
                safe = len(text) - _held_back(text, stops)
                if not text.endswith("\ufffd") and safe > emitted:
                    yield text[emitted:safe]
                    emitted = safe
        text = tokenizer.decode(out_ids, skip_special_tokens=True)
        if len(text) > emitted:
            yield text[emitted:]

    def _pick(self, logits: torch.Tensor, generator: torch.Generator | None) -> int:
        temperature = self.sampling.temperature
        if not temperature:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        top_p = self.sampling.top_p
        if top_p is not None and top_p < 1:
            sorted_probs, order = probs.sort(descending=True)
            keep = sorted_probs.cumsum(0) - sorted_probs < top_p
            probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
        return int(torch.multinomial(probs, 1, generator=generator))

    def text(self) -> str:
        return "".join(self)


def _held_back(text: str, stops: list[str]) -> int:
    """How many trailing characters might be the start of a stop sequence."""
    longest = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                longest = max(longest, k)
                break
    return longest
