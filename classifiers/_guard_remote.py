"""A guard model served by an OpenAI-compatible completions server (vLLM): verdicts from logprobs.

``POST {base_url}/completions`` with the prompts of a batch, ``max_tokens=1`` and ``logprobs=20``
(vLLM's default cap): the first position's top logprobs hold the two answer words. A word missing
from the top 20 counts as probability ~0; when both are missing the prompt layout does not fit the
served model and we fail loudly rather than guess.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

import httpx

TOP_LOGPROBS = 20
RETRIES = 2  # extra attempts on connection errors and 429/5xx
RETRY_DELAY_S = 0.5


class GuardServerError(RuntimeError):
    """The guard server answered something we cannot turn into a verdict."""


def _logsumexp(values: list[float]) -> float:
    if not values:
        return -math.inf
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def positive_probability(top: dict[str, float], positive: str, negative: str) -> float:
    """P(positive) renormalised over the two words, from one position's top logprobs (token → logprob)."""
    pos = _logsumexp([lp for token, lp in top.items() if token.strip() == positive])
    neg = _logsumexp([lp for token, lp in top.items() if token.strip() == negative])
    if pos == -math.inf and neg == -math.inf:
        raise GuardServerError(
            f"neither {positive!r} nor {negative!r} among the top {len(top)} tokens {sorted(top)[:8]}: "
            "is the family right for the served model?"
        )
    if pos == -math.inf:
        return 0.0
    if neg == -math.inf:
        return 1.0
    return 1.0 / (1.0 + math.exp(neg - pos))


class RemoteGuard:
    """The two calls the guard classifier needs, against one served model."""

    def __init__(self, *, base_url: str, model: str, api_key: str | None, timeout_s: float) -> None:
        base = base_url.rstrip("/")
        self.url = f"{base}/completions" if base.endswith("/v1") else f"{base}/v1/completions"
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout_s)

    async def _complete(self, prompts: Sequence[str], **params: Any) -> list[dict[str, Any]]:
        body = {"model": self.model, "prompt": list(prompts), "temperature": 0, **params}
        for attempt in range(RETRIES + 1):
            try:
                response = await self._client.post(self.url, json=body)
                if response.status_code == 429 or response.status_code >= 500:
                    raise httpx.HTTPStatusError("retryable", request=response.request, response=response)
                break
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                if attempt == RETRIES:
                    raise GuardServerError(f"guard server {self.url} failed: {exc}") from exc
                await asyncio.sleep(RETRY_DELAY_S * 2**attempt)
        if response.status_code != 200:
            raise GuardServerError(
                f"guard server {self.url} answered {response.status_code}: {response.text[:300]}"
            )
        choices = sorted(response.json().get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != len(prompts):
            raise GuardServerError(f"guard server returned {len(choices)} choices for {len(prompts)} prompts")
        return choices

    async def probabilities(self, prompts: Sequence[str], positive: str, negative: str) -> list[float]:
        if not prompts:
            return []
        choices = await self._complete(prompts, max_tokens=1, logprobs=TOP_LOGPROBS)
        result = []
        for choice in choices:
            try:
                top = choice["logprobs"]["top_logprobs"][0]
            except (KeyError, IndexError, TypeError):
                raise GuardServerError(
                    "guard server returned no top_logprobs (does it support logprobs?)"
                ) from None
            result.append(positive_probability(top or {}, positive, negative))
        return result

    async def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        if not prompts:
            return []
        return [
            str(choice.get("text", "")) for choice in await self._complete(prompts, max_tokens=max_tokens)
        ]

    async def aclose(self) -> None:
        await self._client.aclose()
