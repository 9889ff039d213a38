"""The file-level decision: from flagged rows and dataset findings to a verdict.

Ten rows are enough to break a model (Qi et al.), so a handful of confident harmful rows
rejects the file, and so does any identity-shift, cipher or trigger finding: those attacks
hide in rows that look harmless one by one. One or two borderline rows are better dropped
than the file rejected. The policy issue replaces these defaults with per-team YAML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.scan.report import DatasetFindingRecord, Verdict

BLOCKING_DATASET_CATEGORIES = frozenset({"identity_shift", "cipher", "backdoor_trigger"})


@dataclass(frozen=True)
class FileLimits:
    reject_flagged_rows: int = 3  # this many confident harmful rows reject the file
    reject_flagged_fraction: float = 0.01  # ... or this share of rows
    drop_max_rows: int = 2  # at most this many flagged + borderline rows are dropped silently ...
    drop_max_fraction: float = 0.005  # ... or this share of rows, whichever is larger
    dataset_finding_score: float = 0.5  # a blocking dataset finding at or above this rejects


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    dropped_lines: tuple[int, ...] = ()


def decide(
    *,
    rows_total: int,
    flagged: Sequence[int],
    borderline: Sequence[int],
    dataset_findings: Sequence[DatasetFindingRecord],
    limits: FileLimits,
) -> Decision:
    blocking = [
        f
        for f in dataset_findings
        if f.category in BLOCKING_DATASET_CATEGORIES and f.score >= limits.dataset_finding_score
    ]
    harmful_clusters = [f for f in dataset_findings if f.category == "near_duplicates" and f.score >= 0.8]
    if blocking or harmful_clusters:
        names = ", ".join(sorted({f.category for f in blocking + harmful_clusters}))
        return Decision("reject", f"dataset finding: {names}")
    if len(flagged) >= limits.reject_flagged_rows or (
        rows_total
        and len(flagged) / rows_total >= limits.reject_flagged_fraction
        and len(flagged) > 0
        and len(flagged) > limits.drop_max_rows
    ):
        return Decision("reject", f"{len(flagged)} harmful rows of {rows_total}")
    to_drop = sorted({*flagged, *borderline})
    if not to_drop:
        return Decision("allow", "no harmful rows found")
    allowance = max(limits.drop_max_rows, int(rows_total * limits.drop_max_fraction))
    if len(to_drop) <= allowance:
        return Decision(
            "allow_with_changes", f"{len(to_drop)} flagged or borderline rows dropped", tuple(to_drop)
        )
    return Decision("review", f"{len(to_drop)} borderline rows: more than can be dropped without a human")
