"""The scan engine: a training file in, a ``ScanReport`` out, in bounded memory.

Examples stream from disk in batches; each batch becomes segments, normalised texts (plus
decoded variants), classifier scores (identical inputs once), row assessments, and rows for
the dataset detectors. Only per-row outcomes and capped findings are kept.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from classifiers.base import Classifier, ClassifierInput, SegmentKind, Turn
from classifiers.detectors.base import DatasetDetector, RowSummary
from gateway.scan.examples import Example
from gateway.scan.judge import SegmentJudge
from gateway.scan.normalise import Normalised, normalise
from gateway.scan.parse import DEFAULT_MAX_LINE_BYTES, iter_examples
from gateway.scan.report import MAX_FINDINGS_KEPT, DatasetFindingRecord, ScanReport
from gateway.scan.rows import OUTPUT_KINDS, JudgedSegment, RowAssessment, RowThresholds, assess_row
from gateway.scan.segments import Segment, segments_of
from gateway.scan.verdict import decide
from policies.schema import ScanRules

BATCH_EXAMPLES = 256
Progress = Callable[[int], None]


@dataclass
class ScanProfile:
    """What to run and how to decide; ``policies.engine`` builds these from a policy."""

    classifiers: Sequence[Classifier]
    detectors: Callable[[], list[DatasetDetector]]  # fresh detectors per file (they hold state)
    thresholds: RowThresholds = field(default_factory=RowThresholds)
    rules: ScanRules = field(default_factory=ScanRules)
    policy: dict[str, Any] = field(default_factory=lambda: {"name": "builtin-default", "version": "1"})


@dataclass
class _Tally:
    rows: int = 0
    flagged: list[int] = field(default_factory=list)
    borderline: list[int] = field(default_factory=list)
    safety_data: int = 0
    summary: Counter = field(default_factory=Counter)
    normalisation: Counter = field(default_factory=Counter)
    findings: list = field(default_factory=list)
    findings_total: int = 0
    untrained: int = 0
    timings: Counter = field(default_factory=Counter)


class ScanEngine:
    def __init__(self, profile: ScanProfile) -> None:
        self.profile = profile
        self._judge = SegmentJudge(profile.classifiers)

    async def scan(
        self, path: Path, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, progress: Progress | None = None
    ) -> ScanReport:
        """Scan a spooled file. Raises ``TrainingFileError`` when the file does not parse."""
        started = time.perf_counter()
        tally = _Tally()
        detectors = self.profile.detectors()
        examples = iter_examples(path, max_line_bytes=max_line_bytes)
        while batch := await anyio.to_thread.run_sync(_next_batch, examples):
            await self._scan_batch(batch, tally, detectors)
            if progress:
                progress(tally.rows)
        finishing = time.perf_counter()
        dataset = [
            DatasetFindingRecord(
                detector=f.detector,
                category=f.category,
                score=round(f.score, 4),
                lines=list(f.lines),
                evidence=f.evidence,
                details=dict(f.details),
            )
            for detector in detectors
            for f in detector.finish()
        ]
        tally.timings["detectors"] += time.perf_counter() - finishing
        decision = decide(
            rows_total=tally.rows,
            flagged=tally.flagged,
            borderline=tally.borderline,
            flagged_by_category=tally.summary,
            dataset_findings=dataset,
            rules=self.profile.rules,
        )
        tally.timings["total"] = time.perf_counter() - started
        return ScanReport(
            verdict=decision.verdict,
            reason=decision.reason,
            action=decision.action,
            breaches=list(decision.breaches),
            would_have=decision.would_have,
            rows_total=tally.rows,
            flagged_lines=sorted(tally.flagged),
            borderline_lines=sorted(tally.borderline),
            dropped_lines=list(decision.dropped_lines),
            dropped=list(decision.dropped),
            safety_data_lines=tally.safety_data,
            findings=tally.findings,
            findings_total=tally.findings_total,
            untrained_findings=tally.untrained,
            dataset_findings=dataset,
            summary=dict(tally.summary),
            normalisation=dict(tally.normalisation),
            timings={k: round(v, 4) for k, v in tally.timings.items()},
            policy=self.profile.policy,
            classifiers=[c.spec() for c in self.profile.classifiers],
            detectors=[d.spec() for d in detectors],
        )

    async def assess(self, batch: list[Example]) -> list[RowAssessment]:
        """Judge a batch of examples and assess each row (used by the sampling audit)."""
        tally = _Tally()
        return [row for row, _summary in await self._assess_batch(batch, tally)]

    async def _scan_batch(
        self, batch: list[Example], tally: _Tally, detectors: list[DatasetDetector]
    ) -> None:
        for row, summary in await self._assess_batch(batch, tally):
            _count(row, tally)
            for detector in detectors:
                detector.observe(summary)
        tally.rows += len(batch)

    async def _assess_batch(
        self, batch: list[Example], tally: _Tally
    ) -> list[tuple[RowAssessment, RowSummary]]:
        clock = time.perf_counter()
        per_row: list[tuple[int, list[tuple[Segment, Normalised]]]] = []
        inputs: list[ClassifierInput] = []
        owners: list[tuple[int, int, str | None]] = []  # (row index, segment index, decoded_from)
        memo: dict[str, Normalised] = {}
        for row_index, example in enumerate(batch):
            prepared = [(segment, _normalise(segment.text, memo, tally)) for segment in segments_of(example)]
            per_row.append((example.line, prepared))
            for seg_index, (segment, norm) in enumerate(prepared):
                context = tuple(Turn(t.role, _normalise(t.text, memo, None).text) for t in segment.context)
                inputs.append(ClassifierInput(text=norm.text, kind=segment.kind, context=context))
                owners.append((row_index, seg_index, None))
                for decoded in norm.decoded:
                    inputs.append(ClassifierInput(text=decoded.text, kind=segment.kind, context=context))
                    owners.append((row_index, seg_index, decoded.method))
        tally.timings["normalise"] += time.perf_counter() - clock

        clock = time.perf_counter()
        scored = await self._judge.judge(inputs)
        tally.timings["classify"] += time.perf_counter() - clock

        clock = time.perf_counter()
        judged: list[list[JudgedSegment]] = [[] for _ in batch]
        for (row_index, seg_index, decoded_from), scores in zip(owners, scored, strict=True):
            segment = per_row[row_index][1][seg_index][0]
            judged[row_index].append(JudgedSegment(segment, scores, decoded_from))
        assessed = []
        for (line, prepared), row_judged in zip(per_row, judged, strict=True):
            row = assess_row(line, row_judged, self.profile.thresholds)
            assessed.append((row, _summary(line, prepared, row)))
        tally.timings["assess"] += time.perf_counter() - clock
        return assessed


def _normalise(text: str, memo: dict[str, Normalised], tally: _Tally | None) -> Normalised:
    result = memo.get(text)
    if result is None:
        result = memo[text] = normalise(text)
    if tally is not None:
        for kind, count in result.removed.items():
            tally.normalisation[f"removed_{kind}"] += count
        if result.homoglyphs:
            tally.normalisation["homoglyphs_folded"] += result.homoglyphs
        for decoded in result.decoded:
            tally.normalisation[f"decoded_{decoded.method}"] += 1
    return result


def _count(row: RowAssessment, tally: _Tally) -> None:
    for finding in row.findings:
        tally.findings_total += 1
        if not finding.trained:
            tally.untrained += 1
        if len(tally.findings) < MAX_FINDINGS_KEPT:
            tally.findings.append(finding)
    if row.outcome == "flagged":
        tally.flagged.append(row.line)
        for category in row.categories:
            tally.summary[category] += 1
    elif row.outcome == "borderline":
        tally.borderline.append(row.line)
    elif row.outcome == "safety_data":
        tally.safety_data += 1


def _summary(line: int, prepared: list[tuple[Segment, Normalised]], row: RowAssessment) -> RowSummary:
    system = tuple(n.text for s, n in prepared if s.kind == SegmentKind.SYSTEM)
    requests = tuple(n.text for s, n in prepared if s.kind in SegmentKind.REQUESTS)
    responses = tuple(n.text for s, n in prepared if s.kind in OUTPUT_KINDS and s.trained)
    return RowSummary(
        line=line,
        system=system,
        requests=requests,
        responses=responses,
        request_harm=row.request_harm,
        response_harm=row.response_harm,
    )


def _next_batch(examples: Iterator[Example]) -> list[Example]:
    batch: list[Example] = []
    for example in examples:
        batch.append(example)
        if len(batch) >= BATCH_EXAMPLES:
            break
    return batch


def write_without_lines(source: Path, target: Path, dropped: set[int]) -> int:
    """Copy a JSONL file line by line, leaving out the dropped (1-based) lines; returns lines kept."""
    kept = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        for number, line in enumerate(reader, start=1):
            if number in dropped:
                continue
            writer.write(line if line.endswith(b"\n") else line + b"\n")
            kept += 1
    return kept
