"""The scan report: typed records that say what was found, where, by what, and the verdict.

The same JSON leaves through ``GET /v1/files/{id}/scan`` and ``tunegate scan --format json``.
Findings never copy row text: a reviewer opens the line in the file itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["allow", "allow_with_changes", "review", "reject"]
MAX_FINDINGS_KEPT = 5000


class Finding(BaseModel):
    line: int
    segment: str  # SegmentKind value
    path: str  # where in the row, e.g. "messages[2]"
    classifier: str
    category: str
    score: float
    decoded_from: str | None = None  # "base64", "rot13", ... when the decoded text scored
    trained: bool = True  # False for weight-0 turns: judged, reported apart


class DatasetFindingRecord(BaseModel):
    detector: str
    category: str
    score: float
    lines: list[int]
    evidence: str
    details: dict[str, Any] = Field(default_factory=dict)


class DroppedRow(BaseModel):
    line: int
    reason: str  # "flagged", "borderline" or the dataset finding that named the line


class RowVerdict(BaseModel):
    line: int
    outcome: Literal["flagged", "borderline", "safety_data"]
    categories: dict[str, float]


class ScanReport(BaseModel):
    verdict: Verdict
    reason: str
    action: str = "none"  # what the policy did: reject | drop_flagged | review | allow | drop_isolated | none
    breaches: list[str] = Field(default_factory=list)  # the policy limits exceeded
    would_have: Verdict | None = None  # shadow mode (action allow): the verdict without it
    rows_total: int
    flagged_lines: list[int]  # rows counted as harmful (1-based, sorted)
    borderline_lines: list[int] = Field(default_factory=list)
    dropped_lines: list[int] = Field(default_factory=list)  # removed from the forwarded file
    dropped: list[DroppedRow] = Field(default_factory=list)  # the same lines, with why
    safety_data_lines: int = 0  # harmful requests answered with refusals: safety data, passed
    findings: list[Finding] = Field(default_factory=list)
    findings_total: int = 0  # findings may be more than the ones kept in the list
    untrained_findings: int = 0  # findings on weight-0 turns
    dataset_findings: list[DatasetFindingRecord] = Field(default_factory=list)
    summary: dict[str, int] = Field(default_factory=dict)  # flagged rows by category
    normalisation: dict[str, int] = Field(default_factory=dict)  # invisible characters removed, decodings
    timings: dict[str, float] = Field(default_factory=dict)  # seconds by stage
    policy: dict[str, Any] = Field(default_factory=dict)  # the effective policy's name and version
    audit: dict[str, Any] | None = None  # the sampling audit's result, when the policy asks for one
    classifiers: list[dict[str, Any]] = Field(default_factory=list)  # specs that rebuild what scored
    detectors: list[dict[str, Any]] = Field(default_factory=list)
