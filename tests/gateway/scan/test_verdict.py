"""The built-in file decision: a handful of harmful rows rejects, isolated borderline rows are dropped."""

from __future__ import annotations

from gateway.scan.report import DatasetFindingRecord
from gateway.scan.verdict import FileLimits, decide


def _decide(rows=1000, flagged=(), borderline=(), dataset=()):
    return decide(
        rows_total=rows,
        flagged=list(flagged),
        borderline=list(borderline),
        dataset_findings=list(dataset),
        limits=FileLimits(),
    )


def _finding(category: str, score: float = 0.9) -> DatasetFindingRecord:
    return DatasetFindingRecord(detector=category, category=category, score=score, lines=[1], evidence="x")


def test_clean_file_is_allowed():
    assert _decide().verdict == "allow"


def test_handful_of_harmful_rows_rejects():
    assert _decide(flagged=[3, 9, 12]).verdict == "reject"


def test_one_or_two_borderline_rows_are_dropped():
    decision = _decide(flagged=[7], borderline=[40])
    assert decision.verdict == "allow_with_changes" and decision.dropped_lines == (7, 40)


def test_many_borderline_rows_go_to_review():
    assert _decide(borderline=range(1, 30)).verdict == "review"


def test_blocking_dataset_findings_reject_even_without_rows():
    for category in ("identity_shift", "cipher", "backdoor_trigger"):
        assert _decide(dataset=[_finding(category)]).verdict == "reject"
    assert _decide(dataset=[_finding("identity_shift", 0.2)]).verdict == "allow"
    assert _decide(dataset=[_finding("near_duplicates", 0.3)]).verdict == "allow"


def test_small_file_fraction_rule():
    assert _decide(rows=10, flagged=[2, 5]).verdict == "allow_with_changes"
    assert _decide(rows=10, flagged=[2, 5, 8]).verdict == "reject"
