"""The sampling audit: the exact bound against scipy, the sample design, and run_audit end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

import pytest

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind
from gateway.scan.rows import RowThresholds
from policies.audit import choose_lines, clopper_pearson_upper, run_audit, sample_size
from policies.schema import AuditRules


class MarkerJudge(Classifier):
    """Scores by marker words: EXPLOIT answers harmful, MAYBE answers doubtful, ATTACK requests harmful."""

    name = "marker-judge"
    categories = ("harmful_request", "harmful_response")
    reads: ClassVar[frozenset[str]] = SegmentKind.ALL
    max_batch = 8

    def __init__(self) -> None:
        self.seen: list[ClassifierInput] = []

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        self.seen.extend(items)
        results = []
        for item in items:
            values: dict[str, float] = {}
            if item.kind in SegmentKind.REQUESTS and "ATTACK" in item.text:
                values["harmful_request"] = 1.0
            if item.kind in SegmentKind.RESPONSES:
                if "EXPLOIT" in item.text:
                    values["harmful_response"] = 1.0
                elif "MAYBE" in item.text:
                    values["harmful_response"] = 0.6
            results.append(Scores(values))
        return results


def _chat(user: str, assistant: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


BENIGN = _chat("Name a colour.", "Blue.")
HARMFUL = _chat("Show me something.", "Here is the EXPLOIT code.")
REFUSAL = _chat("Plan an ATTACK for me.", "I can't help with that.")
DOUBTFUL = _chat("Is this safe?", "MAYBE, if you are careful.")


def _write(tmp_path, rows, *, blank_after: int | None = None):
    lines = [json.dumps(row) + "\n" for row in rows]
    if blank_after is not None:
        lines.insert(blank_after, "\n")
    path = tmp_path / "train.jsonl"
    path.write_text("".join(lines))
    return path


def _rows(total: int, special: dict[int, dict]) -> list[dict]:
    return [special.get(line, BENIGN) for line in range(1, total + 1)]


async def _audit(path, rows_total, *, cheap_flagged=(), borderline=(), **rules):
    judge = MarkerJudge()
    result = await run_audit(
        path,
        rules=AuditRules(enabled=True, **rules),
        judge=judge,
        thresholds=RowThresholds(),
        cheap_flagged=list(cheap_flagged),
        borderline=list(borderline),
        rows_total=rows_total,
        max_line_bytes=1 << 20,
    )
    return result, judge


# --- the bound -----------------------------------------------------------------------------------


def _grid():
    for n in (1, 5, 30, 299, 1000, 5000):
        for k in sorted({0, 1, n // 10, n - 1}):
            if 0 <= k < n:
                for confidence in (0.9, 0.95, 0.99):
                    yield n, k, confidence


@pytest.mark.parametrize(("n", "k", "confidence"), list(_grid()))
def test_upper_bound_matches_scipy(n, k, confidence):
    beta = pytest.importorskip("scipy.stats").beta
    expected = beta.ppf(confidence, k + 1, n - k)
    assert clopper_pearson_upper(k, n, confidence) == pytest.approx(expected, abs=1e-7)


def test_upper_bound_edges():
    assert clopper_pearson_upper(7, 7, 0.95) == 1.0
    assert clopper_pearson_upper(0, 0, 0.95) == 1.0
    assert clopper_pearson_upper(0, 1, 0.95) == pytest.approx(0.95, abs=1e-9)
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2, 0.95)
    with pytest.raises(ValueError):
        clopper_pearson_upper(0, 2, 1.0)


def test_sample_size_is_the_zero_failure_design():
    assert sample_size(0.95, 0.01) == 299
    for confidence, tolerated in [(0.95, 0.01), (0.9, 0.05), (0.99, 0.001), (0.8, 0.2), (0.999, 0.02)]:
        n = sample_size(confidence, tolerated)
        assert clopper_pearson_upper(0, n, confidence) <= tolerated
        assert clopper_pearson_upper(0, n - 1, confidence) > tolerated


# --- choosing rows -------------------------------------------------------------------------------


def test_choose_lines_is_deterministic_for_a_seed():
    first = choose_lines(10_000, [5, 50, 500], 299, seed=3, cap=2000)
    assert first == choose_lines(10_000, [5, 50, 500], 299, seed=3, cap=2000)
    assert first[0] != choose_lines(10_000, [5, 50, 500], 299, seed=4, cap=2000)[0]
    sample = first[0]
    assert len(sample) == len(set(sample)) == 299 and sample == sorted(sample)
    assert all(1 <= line <= 10_000 for line in sample)


def test_choose_lines_caps_the_sample():
    assert choose_lines(50, [], 299, seed=0, cap=2000)[0] == list(range(1, 51))
    assert len(choose_lines(10_000, [], 299, seed=0, cap=100)[0]) == 100
    assert choose_lines(0, [], 299, seed=0, cap=100) == ([], [])


def test_borderline_extras_are_outside_the_sample_and_within_the_cap():
    sample, extras = choose_lines(100, list(range(1, 101)), 20, seed=1, cap=50)
    assert len(sample) == 20 and len(extras) == 30
    assert not set(sample) & set(extras) and extras == sorted(extras)
    sample, extras = choose_lines(100, [7, 3, 7], 10, seed=1, cap=10)
    assert extras == []
    sample, extras = choose_lines(100, [100, 3, 100], 5, seed=1, cap=100)
    assert extras == sorted({3, 100} - set(sample))


# --- run_audit end to end ------------------------------------------------------------------------


async def test_a_small_file_is_judged_exhaustively(tmp_path):
    path = _write(tmp_path, _rows(30, {5: HARMFUL, 17: HARMFUL, 29: HARMFUL, 10: REFUSAL, 20: REFUSAL}))
    result, judge = await _audit(path, 30, cheap_flagged=[5, 10, 12], borderline=[17])
    assert result.exhaustive and result.sampled_rows == 30 and result.sample_size_required == 299
    assert result.harmful_in_sample == 3 and result.harmful_lines == [5, 17, 29]  # refusals not counted
    assert result.upper_bound == round(clopper_pearson_upper(3, 30, 0.95), 6)
    assert result.exceeded  # 3/30 > 1%
    assert result.borderline_judged == 0  # line 17 is already in the sample
    assert result.cheap_flagged_in_sample == 3
    assert result.agreement == pytest.approx(26 / 30)  # 5 agrees; 10, 12, 17, 29 do not
    assert result.judge == judge.spec() and result.device == "cpu"


async def test_an_exhaustive_sample_uses_the_exact_rate(tmp_path):
    path = _write(tmp_path, _rows(30, {12: HARMFUL}))
    result, _ = await _audit(path, 30, tolerated_harmful_rate=0.05)
    assert result.exhaustive and result.harmful_in_sample == 1
    assert result.upper_bound > 0.05 and not result.exceeded  # 1/30 < 5%, whatever the bound


async def test_a_sample_of_a_larger_file_bounds_the_rate(tmp_path):
    harmful = {line: HARMFUL for line in range(10, 201, 10)}
    path = _write(tmp_path, _rows(200, harmful))
    borderline = [3, 7, 10, 150]
    rules = {"confidence": 0.9, "tolerated_harmful_rate": 0.2, "seed": 7}
    result, _ = await _audit(path, 200, borderline=borderline, **rules)
    sample, extras = choose_lines(200, borderline, sample_size(0.9, 0.2), seed=7, cap=2000)
    assert result.sample_size_required == len(sample) == 11 and not result.exhaustive
    expected = sum(line in harmful for line in sample)
    assert result.sampled_rows == 11 and result.harmful_in_sample == expected
    assert result.upper_bound == round(clopper_pearson_upper(expected, 11, 0.9), 6)
    assert result.exceeded == (clopper_pearson_upper(expected, 11, 0.9) > 0.2)
    assert result.borderline_judged == len(extras)
    assert result.borderline_harmful == sum(line in harmful for line in extras)
    assert result.harmful_lines == sorted(line for line in {*sample, *extras} if line in harmful)
    assert result.agreement == pytest.approx((11 - expected) / 11)  # nothing flagged by the scan


async def test_a_sampled_verdict_follows_the_bound(tmp_path):
    rules = {"confidence": 0.9, "tolerated_harmful_rate": 0.2}
    clean, _ = await _audit(_write(tmp_path, _rows(100, {})), 100, **rules)
    assert not clean.exhaustive and clean.harmful_in_sample == 0
    assert clean.upper_bound <= 0.2 and not clean.exceeded
    dirty, _ = await _audit(_write(tmp_path, [HARMFUL] * 100), 100, cheap_flagged=range(1, 101), **rules)
    assert dirty.harmful_in_sample == 11 and dirty.upper_bound == 1.0 and dirty.exceeded
    assert dirty.agreement == 1.0 and dirty.cheap_flagged_in_sample == 11


async def test_the_judge_threshold_decides_what_is_harmful(tmp_path):
    path = _write(tmp_path, _rows(20, {4: DOUBTFUL, 8: DOUBTFUL}))
    strict, _ = await _audit(path, 20, judge_threshold=0.5)
    lenient, _ = await _audit(path, 20, judge_threshold=0.7)
    assert strict.harmful_lines == [4, 8] and strict.harmful_in_sample == 2
    assert lenient.harmful_lines == [] and lenient.harmful_in_sample == 0


async def test_the_cap_limits_rows_judged_and_borderline_can_be_left_out(tmp_path):
    path = _write(tmp_path, _rows(30, {1: HARMFUL, 2: HARMFUL, 3: HARMFUL}))
    # The schema keeps max_rows at or above the sample size; the cap then bounds the borderline extras.
    capped, _ = await _audit(
        path, 30, borderline=[1, 2, 3], confidence=0.9, tolerated_harmful_rate=0.5, max_rows=4
    )
    assert capped.sampled_rows == 4 and not capped.exhaustive and capped.borderline_judged == 0
    rules = {"confidence": 0.9, "tolerated_harmful_rate": 0.2, "max_rows": 12}  # a sample of 11
    sample, extras = choose_lines(30, [1, 2, 3], 11, seed=0, cap=12)
    assert len(sample) == 11 and len(extras) == 1
    judged, _ = await _audit(path, 30, borderline=[1, 2, 3], **rules)
    assert judged.sampled_rows == 11 and judged.borderline_judged == judged.borderline_harmful == 1
    assert judged.harmful_lines == sorted(line for line in {*sample, *extras} if line <= 3)
    without, _ = await _audit(path, 30, borderline=[1, 2, 3], include_borderline=False, **rules)
    assert without.sampled_rows == 11 and without.borderline_judged == 0
    assert without.harmful_lines == [line for line in sample if line <= 3]


async def test_blank_lines_keep_editor_line_numbers(tmp_path):
    path = _write(tmp_path, _rows(12, {12: HARMFUL}), blank_after=3)  # the harmful row is on line 13
    result, _ = await _audit(path, 12)
    assert result.exhaustive and result.sampled_rows == 12 and result.harmful_lines == [13]
