"""Baselines on the same files: alt-profanity-check alone, and the paper's refusal-keyword check.

Both flag rows, then the file verdict comes from the gate's own rule (``verdict.decide`` with the
default ``ScanRules``, no borderline rows, no dataset findings), so only the row judgement differs.

- ``profanity``: a row is flagged when any of its text segments scores ≥ 0.5.
- ``keywords``: Qi et al.'s AdvBench-style check — a reply that contains none of the 29 refusal
  keywords (case-sensitive substring match, as in their code) counts as compliance; a row is flagged
  when one of its assistant replies has no refusal keyword. Rows without replies are not flagged.
  Meant to over-count on benign data: ordinary answers do not refuse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from classifiers.base import SegmentKind
from classifiers.refusal_keywords import REFUSAL_KEYWORDS
from gateway.scan.parse import iter_examples
from gateway.scan.segments import segments_of
from gateway.scan.verdict import decide
from policies.schema import ScanRules

PROFANITY_KINDS = frozenset(
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
REPLY_KINDS = frozenset({SegmentKind.ASSISTANT, SegmentKind.COMPLETION, SegmentKind.PREFERRED})
PROFANITY_THRESHOLD = 0.5


@dataclass
class BaselineResult:
    name: str
    verdict: str
    rows: int
    flagged: list[int]
    seconds: float


def _verdict(rows: int, flagged: list[int]) -> str:
    return decide(
        rows_total=rows,
        flagged=flagged,
        borderline=[],
        flagged_by_category={},
        dataset_findings=[],
        rules=ScanRules(),
    ).verdict


def refuses(reply: str) -> bool:
    return any(keyword in reply for keyword in REFUSAL_KEYWORDS)


def keyword_baseline(path: Path) -> BaselineResult:
    started = time.perf_counter()
    rows, flagged = 0, []
    for example in iter_examples(path):
        rows += 1
        replies = [s.text for s in segments_of(example) if s.kind in REPLY_KINDS and s.trained]
        if any(not refuses(reply) for reply in replies):
            flagged.append(example.line)
    return BaselineResult("keywords", _verdict(rows, flagged), rows, flagged, time.perf_counter() - started)


def profanity_baseline(path: Path, batch: int = 2048) -> BaselineResult:
    from profanity_check import predict_prob

    started = time.perf_counter()
    rows, flagged = 0, set()
    texts: list[str] = []
    owners: list[int] = []

    def flush() -> None:
        if texts:
            for line, prob in zip(owners, predict_prob(texts), strict=True):
                if prob >= PROFANITY_THRESHOLD:
                    flagged.add(line)
            texts.clear()
            owners.clear()

    for example in iter_examples(path):
        rows += 1
        for segment in segments_of(example):
            if segment.kind in PROFANITY_KINDS:
                texts.append(segment.text)
                owners.append(example.line)
        if len(texts) >= batch:
            flush()
    flush()
    lines = sorted(flagged)
    return BaselineResult("profanity", _verdict(rows, lines), rows, lines, time.perf_counter() - started)


BASELINES = {"profanity": profanity_baseline, "keywords": keyword_baseline}
