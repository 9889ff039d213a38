"""The profanity classifier: registered, scores in [0, 1], order kept, swearing above polite text."""

from __future__ import annotations

from classifiers.base import ClassifierInput, SegmentKind
from classifiers.registry import build_classifier
from classifiers.taxonomy import PROFANITY


async def test_profanity_scores_swearing_above_polite_text() -> None:
    classifier = build_classifier("profanity")
    texts = [
        "Have a lovely day, and thanks for the help!",
        "shut the fuck up, you piece of shit",
        "The quarterly report is attached.",
    ]
    items = [ClassifierInput(text=t, kind=SegmentKind.ASSISTANT) for t in texts]
    scores = await classifier.score(items)
    assert len(scores) == len(items)
    values = [s.get(PROFANITY) for s in scores]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[1] > 0.8 > max(values[0], values[2])
    reversed_scores = await classifier.score(items[::-1])
    assert [s.get(PROFANITY) for s in reversed_scores] == values[::-1]


async def test_profanity_reads_the_text_segments() -> None:
    classifier = build_classifier("profanity", {"batch_size": 2})
    assert {
        SegmentKind.SYSTEM,
        SegmentKind.USER,
        SegmentKind.ASSISTANT,
        SegmentKind.PREFERRED,
    } <= classifier.reads
    assert classifier.spec()["name"] == "profanity"
    scores = await classifier.score(
        [ClassifierInput(text=f"hello {i}", kind=SegmentKind.USER) for i in range(5)]
    )
    assert len(scores) == 5
