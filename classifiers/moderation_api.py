"""OpenAI's moderation endpoint as a classifier, called through ``litellm.amoderation``.

One request per batch (the endpoint takes a list of up to 32 inputs); each result's
``category_scores`` become our scores under OpenAI's own category names. The OpenAI SDK that
litellm drives exposes them as Python names (``self_harm_intent``), the wire uses
``self-harm/intent``: both are read and reported as the latter. Responses are moderated as text
alone (the endpoint has no notion of a conversation). The measured recall on harmful instructions
is low (17% in Qi et al.); use it as one signal among others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import litellm
import openai

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind
from classifiers.registry import register_classifier

DEFAULT_MODEL = "omni-moderation-2024-09-26"  # a dated snapshot, so scores do not drift under us
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 2
RETRY_DELAY_S = 1.0
MAX_INPUTS = 32  # the endpoint's limit per request
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# litellm's exceptions subclass these; the OpenAI SDK under amoderation raises them unmapped.
_RETRYABLE = (openai.RateLimitError, openai.APIConnectionError, openai.InternalServerError)


def category_name(key: str) -> str:
    """OpenAI's wire name for a category key in either spelling (``self_harm`` → ``self-harm``)."""
    return key.replace("self_harm", "self-harm").replace("_", "/")


def to_scores(category_scores: Mapping[str, Any] | None) -> Scores:
    values: dict[str, float] = {}
    for key, value in (category_scores or {}).items():
        if value is not None:
            values[category_name(key)] = min(1.0, max(0.0, float(value)))
    return Scores(values)


@register_classifier("moderation-api")
class ModerationApi(Classifier):
    """OpenAI moderation endpoint (via litellm): per-category scores under OpenAI's category names."""

    categories = CATEGORIES
    reads = frozenset(SegmentKind.REQUESTS | SegmentKind.RESPONSES | {SegmentKind.SYSTEM})
    max_batch = MAX_INPUTS
    max_chars = 8000

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.api_base = api_base
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.device = "remote"

    def spec(self) -> dict[str, object]:
        return {**super().spec(), "model": self.model, "api_base": self.api_base}

    async def _moderate(self, texts: list[str]) -> Any:
        for attempt in range(self.max_retries + 1):
            try:
                return await asyncio.wait_for(
                    litellm.amoderation(
                        input=texts,  # type: ignore[arg-type]  # the endpoint takes a list; litellm passes it on
                        model=self.model,
                        api_key=self.api_key,
                        api_base=self.api_base,
                    ),
                    timeout=self.timeout_s,
                )
            except (*_RETRYABLE, TimeoutError):
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(RETRY_DELAY_S * 2**attempt)
        raise AssertionError("unreachable")

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        results: list[Scores] = []
        for start in range(0, len(items), MAX_INPUTS):
            texts = [item.text for item in items[start : start + MAX_INPUTS]]
            response = await self._moderate(texts)
            if len(response.results) != len(texts):
                raise RuntimeError(
                    f"moderation returned {len(response.results)} results for {len(texts)} inputs"
                )
            results.extend(to_scores(result.category_scores) for result in response.results)
        return results
