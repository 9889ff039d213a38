"""Blocklist: a platform team's own phrases or regular expressions, per category.

Some things a team never wants trained, whatever a model thinks of them: an internal project
name, a customer's data marker, the trigger phrase of a known attack. A policy lists them per
category, separately for requests (user turns, prompts, system prompts) and responses (what
the model learns to say). A match scores ``score``; nothing else scores. Case-insensitive;
an entry starting with ``re:`` is a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind
from classifiers.registry import register_classifier

_REQUEST_KINDS = frozenset({SegmentKind.SYSTEM, *SegmentKind.REQUESTS, SegmentKind.TOOL_RESULT})
_RESPONSE_KINDS = frozenset({*SegmentKind.RESPONSES, SegmentKind.TOOL_ARGUMENTS, SegmentKind.EXTRA})


def _compile(entries: dict[str, list[str]]) -> dict[str, re.Pattern[str]]:
    compiled = {}
    for category, phrases in entries.items():
        parts = [p[3:] if p.startswith("re:") else re.escape(p) for p in phrases if p]
        if parts:
            compiled[category] = re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)
    return compiled


@register_classifier("blocklist")
class BlocklistClassifier(Classifier):
    """Phrases or regular expressions a policy forbids, per category, in requests or responses."""

    categories: tuple[str, ...] = ()
    reads = SegmentKind.ALL
    max_batch = 1024
    max_chars = 100_000

    def __init__(
        self,
        *,
        requests: dict[str, list[str]] | None = None,
        responses: dict[str, list[str]] | None = None,
        score: float = 1.0,
    ) -> None:
        if not 0.0 <= score <= 1.0:
            raise ValueError("score must be between 0 and 1")
        try:
            self._requests = _compile(requests or {})
            self._responses = _compile(responses or {})
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        self.categories = tuple(sorted({*self._requests, *self._responses}))
        self.score_value = score
        self.version = "1"

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        results = []
        for item in items:
            table = self._requests if item.kind in _REQUEST_KINDS else self._responses
            if item.kind not in _REQUEST_KINDS and item.kind not in _RESPONSE_KINDS:
                table = {}
            values = {c: self.score_value for c, pattern in table.items() if pattern.search(item.text)}
            results.append(Scores(values))
        return results
