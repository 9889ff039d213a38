"""Profanity: alt-profanity-check's linear model (TF-IDF + SVM, calibrated), ~50k texts/s on a CPU.

Tone, not capability: the gate treats ``profanity`` as a soft category (borderline at most), since
swearing in training data does not teach a model to help with harm. It is cheap enough to read
every text segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind
from classifiers.registry import register_classifier
from classifiers.taxonomy import PROFANITY

DEFAULT_BATCH_SIZE = 256


@register_classifier("profanity")
class ProfanityClassifier(Classifier):
    """Swearing and obscenity (alt-profanity-check); fast CPU model, a soft signal."""

    categories = (PROFANITY,)
    reads = frozenset(
        {
            SegmentKind.SYSTEM,
            SegmentKind.USER,
            SegmentKind.ASSISTANT,
            SegmentKind.PROMPT,
            SegmentKind.COMPLETION,
            SegmentKind.PREFERRED,
            SegmentKind.NON_PREFERRED,
        }
    )
    max_batch = DEFAULT_BATCH_SIZE
    max_chars = 2000

    def __init__(self, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self.device = "cpu"
        self.version = _version()

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        texts = [item.text for item in items]
        probs = await anyio.to_thread.run_sync(self._predict, texts)
        return [Scores({PROFANITY: min(max(p, 0.0), 1.0)}) for p in probs]

    def _predict(self, texts: list[str]) -> list[float]:
        from profanity_check import predict_prob

        out: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            out += [float(p) for p in predict_prob(texts[start : start + self.batch_size])]
        return out


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"alt-profanity-check-{version('alt-profanity-check')}"
    except PackageNotFoundError:
        return "alt-profanity-check"
