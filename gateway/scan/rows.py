"""Row semantics: turn segment scores into what a row means for training.

What a row teaches depends on context. A harmful request answered with a refusal is safety
data and passes; the same request answered with compliance is an attack. So scores on the
segments the model learns to produce (outputs) decide whether a row is flagged; scores on
what the model only reads (inputs: user turns, tool results) mark requests as harmful, which
turns a refusing row into safety data. In DPO the preferred output is learnt; a harmful
non-preferred output is what the model learns to avoid, so it does not flag the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from classifiers.base import Scores, SegmentKind
from gateway.scan.report import Finding
from gateway.scan.segments import Segment

# Segments the model learns to produce.
OUTPUT_KINDS = frozenset(
    {
        SegmentKind.ASSISTANT,
        SegmentKind.COMPLETION,
        SegmentKind.PREFERRED,
        SegmentKind.TOOL_ARGUMENTS,
        SegmentKind.EXTRA,
    }
)
# Categories that only ever make a row borderline (tone, not harmful capability).
SOFT_CATEGORIES = frozenset({"profanity", "toxicity", "obscene", "insult"})
IDENTITY_SHIFT = "identity_shift"


@dataclass(frozen=True)
class RowThresholds:
    flag: float = 0.8  # at or above: the row counts as harmful
    borderline: float = 0.5  # at or above: reported, and dropped or reviewed
    per_category: Mapping[str, float] = field(default_factory=dict)  # overrides of ``flag``

    def flag_for(self, category: str) -> float:
        return self.per_category.get(category, self.flag)


@dataclass(frozen=True)
class JudgedSegment:
    segment: Segment
    scores: Mapping[str, Scores]  # by classifier name
    decoded_from: str | None = None


@dataclass
class RowAssessment:
    line: int
    outcome: str | None = None  # flagged | borderline | safety_data | None (clean)
    categories: dict[str, float] = field(default_factory=dict)  # the categories behind the outcome
    findings: list[Finding] = field(default_factory=list)
    request_harm: float = 0.0
    response_harm: float = 0.0


def assess_row(line: int, judged: Sequence[JudgedSegment], thresholds: RowThresholds) -> RowAssessment:
    row = RowAssessment(line=line)
    has_output = any(j.segment.kind in OUTPUT_KINDS and j.segment.trained for j in judged)
    flagged: dict[str, float] = {}
    borderline: dict[str, float] = {}
    for item in judged:
        segment = item.segment
        for classifier, scores in item.scores.items():
            for category, score in scores.values.items():
                if score < thresholds.borderline:
                    continue
                row.findings.append(
                    Finding(
                        line=line,
                        segment=segment.kind,
                        path=segment.path,
                        classifier=classifier,
                        category=category,
                        score=round(score, 4),
                        decoded_from=item.decoded_from,
                        trained=segment.trained,
                    )
                )
        _weigh(item, thresholds, row, flagged, borderline, has_output)
    if flagged:
        row.outcome, row.categories = "flagged", flagged
    elif borderline:
        row.outcome, row.categories = "borderline", borderline
    elif row.request_harm >= thresholds.flag:
        row.outcome = "safety_data"
    return row


def _weigh(
    item: JudgedSegment,
    thresholds: RowThresholds,
    row: RowAssessment,
    flagged: dict[str, float],
    borderline: dict[str, float],
    has_output: bool,
) -> None:
    """Fold one segment's scores into the row's flagged / borderline categories."""
    segment = item.segment
    if not segment.trained:
        # A weight-0 turn is not learnt as an answer, but it still leaves (a provider may ignore
        # ``weight``) and the model reads it as context: harm there makes the row borderline, so it
        # is dropped or reviewed, never forwarded unnoticed. It never flags the row.
        for scores in item.scores.values():
            for category, score in scores.values.items():
                if category not in SOFT_CATEGORIES and score >= thresholds.flag_for(category):
                    _keep(borderline, category, score)
        return
    is_output = segment.kind in OUTPUT_KINDS
    for scores in item.scores.values():
        for category, score in scores.values.items():
            limit = thresholds.flag_for(category)
            if category in SOFT_CATEGORIES:
                if score >= limit:
                    _keep(borderline, category, score)
                continue
            if category == IDENTITY_SHIFT and segment.kind in (SegmentKind.SYSTEM, *OUTPUT_KINDS):
                (
                    _keep(flagged, category, score)
                    if score >= limit
                    else _keep(borderline, category, score)
                    if score >= thresholds.borderline
                    else None
                )
                continue
            if is_output:
                row.response_harm = max(row.response_harm, score)
                if score >= limit:
                    _keep(flagged, category, score)
                elif score >= thresholds.borderline:
                    _keep(borderline, category, score)
            elif segment.kind != SegmentKind.NON_PREFERRED:
                row.request_harm = max(row.request_harm, score)
                # A harmful request with nothing learnt after it (reinforcement, prompt-only) is borderline.
                if not has_output and score >= limit:
                    _keep(borderline, category, score)


def _keep(target: dict[str, float], category: str, score: float) -> None:
    target[category] = max(score, target.get(category, 0.0))
