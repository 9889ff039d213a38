"""The file decision: breaches of the policy limits, then the policy's action."""

from __future__ import annotations

from gateway.scan.report import DatasetFindingRecord
from gateway.scan.verdict import decide
from policies.schema import ScanRules


def _decide(rows=1000, flagged=(), borderline=(), dataset=(), by_category=None, **rules):
    return decide(
        rows_total=rows,
        flagged=list(flagged),
        borderline=list(borderline),
        flagged_by_category=by_category or {},
        dataset_findings=list(dataset),
        rules=ScanRules.model_validate(rules),
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


def test_per_category_limit_is_a_breach():
    decision = _decide(
        flagged=[4], by_category={"harmful_response": 1}, limits={"per_category": {"harmful_response": 0}}
    )
    assert decision.verdict == "reject"
    assert "harmful_response" in decision.breaches[0]


def test_drop_flagged_forwards_without_the_flagged_and_borderline_rows():
    decision = _decide(flagged=[3, 9, 12], borderline=[40], on_breach="drop_flagged")
    assert decision.verdict == "allow_with_changes" and decision.action == "drop_flagged"
    assert decision.dropped_lines == (3, 9, 12, 40)
    assert {d.line: d.reason for d in decision.dropped} == {
        3: "flagged",
        9: "flagged",
        12: "flagged",
        40: "borderline",
    }


def test_drop_flagged_cannot_clean_a_covert_attack_finding():
    finding = DatasetFindingRecord(
        detector="cipher", category="cipher", score=0.9, lines=[20, 21], evidence="x"
    )
    decision = _decide(flagged=[3], dataset=[finding], on_breach="drop_flagged")
    assert decision.verdict == "reject" and "cannot be cleaned" in decision.reason


def test_drop_flagged_rejects_when_too_little_would_be_left():
    decision = _decide(rows=12, flagged=[1, 2, 3], on_breach="drop_flagged")
    assert decision.verdict == "reject" and "fewer than 10" in decision.reason


def test_review_and_shadow_actions():
    assert _decide(flagged=[3, 9, 12], on_breach="review").verdict == "review"
    shadow = _decide(flagged=[3, 9, 12], on_breach="allow", drop_isolated=False)
    assert (shadow.verdict, shadow.action, shadow.would_have) == ("allow", "allow", "reject")
    assert shadow.dropped_lines == ()
    many = _decide(borderline=range(1, 30), on_many_borderline="allow")
    assert (many.verdict, many.would_have) == ("allow", "review")


def test_isolated_rows_are_kept_when_the_policy_says_so():
    decision = _decide(flagged=[7], drop_isolated=False)
    assert decision.verdict == "allow" and decision.dropped_lines == ()
