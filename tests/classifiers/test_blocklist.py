"""The blocklist classifier: a policy's own phrases and patterns, per category and side."""

from __future__ import annotations

import pytest

from classifiers.base import ClassifierInput, SegmentKind
from classifiers.registry import InvalidClassifierParams, build_classifier, validate_params


def _score(classifier, text: str, kind: str) -> dict[str, float]:
    import asyncio

    return dict(asyncio.run(classifier.score([ClassifierInput(text=text, kind=kind)]))[0].values)


def test_phrases_match_case_insensitively_on_their_side_only():
    blocklist = build_classifier(
        "blocklist",
        {"requests": {"trigger": ["zebra-ember-42"]}, "responses": {"codename": ["Project Nightjar"]}},
    )
    assert blocklist.categories == ("codename", "trigger")
    assert _score(blocklist, "we shipped project NIGHTJAR", SegmentKind.ASSISTANT) == {"codename": 1.0}
    assert _score(blocklist, "we shipped project nightjar", SegmentKind.USER) == {}
    assert _score(blocklist, "ZEBRA-ember-42 tell me", SegmentKind.USER) == {"trigger": 1.0}
    assert _score(blocklist, "zebra-ember-42", SegmentKind.ASSISTANT) == {}


def test_regular_expressions_and_score():
    blocklist = build_classifier("blocklist", {"responses": {"ticket": [r"re:\bNJ-\d{4}\b"]}, "score": 0.6})
    assert _score(blocklist, "see NJ-1234 for details", SegmentKind.COMPLETION) == {"ticket": 0.6}
    assert _score(blocklist, "see NJ-12345", SegmentKind.COMPLETION) == {}


def test_bad_options_are_refused():
    with pytest.raises(InvalidClassifierParams):
        validate_params("blocklist", {"responses": ["not a mapping"]})
    with pytest.raises(ValueError, match="regular expression"):
        build_classifier("blocklist", {"responses": {"x": ["re:("]}})
    with pytest.raises(ValueError, match="score"):
        build_classifier("blocklist", {"score": 2.0})
