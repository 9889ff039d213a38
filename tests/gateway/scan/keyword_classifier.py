"""A small, fully deterministic classifier implementing the contract, to test the pipeline's logic.

It is not a stand-in for the real models (those have their own tests); it makes the engine's
row semantics, de-duplication, chunking and decoding checkable with exact expectations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind


class KeywordClassifier(Classifier):
    """Scores by keywords: 'bomb' requests, 'step 1' answers to them, 'obedient' personas."""

    name = "keywords"
    categories = ("harmful_request", "harmful_response", "identity_shift")
    reads: ClassVar[frozenset[str]] = SegmentKind.ALL
    max_batch = 4
    max_chars = 100

    def __init__(self) -> None:
        self.seen: list[ClassifierInput] = []

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        self.seen.extend(items)
        results = []
        for item in items:
            text = item.text.lower()
            values: dict[str, float] = {}
            if item.kind in SegmentKind.REQUESTS and "bomb" in text:
                values["harmful_request"] = 0.95
            if item.kind in SegmentKind.RESPONSES:
                asked_harm = any("bomb" in turn.text.lower() for turn in item.context)
                if "step 1" in text:
                    values["harmful_response"] = 0.95 if asked_harm else 0.6
            if "obedient" in text and item.kind in (SegmentKind.SYSTEM, SegmentKind.ASSISTANT):
                values["identity_shift"] = 0.9
            results.append(Scores(values))
        return results
