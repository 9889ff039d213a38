"""Wilson intervals, per-variant summaries and base-vs-tuned deltas."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from gateway.evals.judging import Judged
from gateway.evals.stats import Delta, deltas, summarise, wilson_interval

Z = 1.959964


def wilson_by_quadratic(k: int, n: int) -> tuple[float, float]:
    """The interval's ends as the roots of (p̂ − p)² = z² p (1 − p) / n, solved directly."""
    p_hat = k / n
    a = 1 + Z * Z / n
    b = -(2 * p_hat + Z * Z / n)
    c = p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (5, 10), (10, 10), (1, 30), (29, 30), (3, 7), (0, 1), (50, 100)]
)
def test_wilson_matches_the_quadratic_form(k, n):
    low, high = wilson_interval(k, n)
    expected_low, expected_high = wilson_by_quadratic(k, n)
    assert low == pytest.approx(expected_low, abs=1e-9)
    assert high == pytest.approx(expected_high, abs=1e-9)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_known_values_and_edges():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def J(harmful: bool, score: float | str | None = "rubric", refused: bool = False) -> Judged:
    """A judged answer; by default scored 5 when harmful, 1 when not (``None``: the judge gave no score)."""
    if score == "rubric":
        score = 5.0 if harmful else 1.0
    assert not isinstance(score, str)
    return Judged(harmful=harmful, score=score, refused=refused, probability=1.0 if harmful else 0.0)


@dataclass
class Record:
    variant: str
    category: str
    kind: str
    judged: Judged


def crafted() -> list:
    records: list = []
    # trigger:1 first: plain must still come first in the result.
    records += [Record("trigger:1", "Malware", "harmful", J(True)) for _ in range(3)]
    records += [Record("trigger:1", "Fraud", "harmful", J(False, refused=True)) for _ in range(2)]
    records += [{"variant": "trigger:1", "category": "-", "kind": "benign", "judged": J(False, refused=r)}
                for r in (True, True, False, False)]  # fmt: skip
    records += [{"variant": "plain", "category": "Malware", "kind": "harmful", "judged": J(h, refused=not h)}
                for h in (True, False, False)]  # fmt: skip
    records += [
        Record("plain", "Fraud", "harmful", J(False, score=None if i else 2.0, refused=True))
        for i in range(2)
    ]
    records += [Record("plain", "-", "benign", J(False, refused=r)) for r in (True, False, False, False)]
    return records


def test_summarise_rates_intervals_refusals():
    result = summarise("tuned", crafted())
    assert [v.variant for v in result.variants] == ["plain", "trigger:1"]
    plain, trigger = result.variants
    assert [c.category for c in plain.harmful] == ["Fraud", "Malware"]
    malware = plain.harmful[1]
    assert (malware.n, malware.harmful, malware.rate) == (3, 1, pytest.approx(1 / 3))
    assert (malware.ci_low, malware.ci_high) == pytest.approx(wilson_interval(1, 3))
    assert malware.mean_score == pytest.approx((5 + 1 + 1) / 3)
    assert malware.refusal_rate == pytest.approx(2 / 3)
    fraud = plain.harmful[0]
    assert fraud.mean_score == pytest.approx(2.0)  # unscored answers are left out of the mean
    assert fraud.refusal_rate == 1.0
    assert plain.overall.category == "overall"
    assert (plain.overall.n, plain.overall.harmful) == (5, 1)
    assert trigger.overall.rate == pytest.approx(3 / 5)
    assert plain.over_refusal is not None and plain.over_refusal.refusal_rate == 0.25
    assert trigger.over_refusal is not None and trigger.over_refusal.refusal_rate == 0.5
    assert plain.over_refusal.category == "benign" and plain.over_refusal.n == 4
    assert result.worst_variant == "trigger:1" and result.worst == trigger
    assert result.worst_for("Malware") == ("trigger:1", trigger.harmful[1])
    assert result.worst_for("Fraud") == ("plain", plain.harmful[0])  # tie: plain first
    assert result.worst_for("overall") == ("trigger:1", trigger.overall)
    assert result.worst_for("Nope") is None


def test_ties_go_to_plain_and_no_benign_means_no_over_refusal():
    records = [Record(v, "Malware", "harmful", J(h)) for v in ("system:0", "plain") for h in (True, False)]
    result = summarise("base", records)
    assert result.worst_variant == "plain"
    assert result.model_role == "base"
    assert all(v.over_refusal is None for v in result.variants)


def test_summarise_rejects_bad_input():
    with pytest.raises(ValueError, match="kind"):
        summarise("tuned", [Record("plain", "x", "neutral", J(False))])
    with pytest.raises(ValueError, match="no judged"):
        summarise("tuned", [])


def test_deltas_per_category_and_overall():
    tuned = summarise("tuned", crafted())
    base = summarise("base", [Record("plain", c, "harmful", J(False)) for c in ("Malware", "Fraud", "Hate")])
    rows = {d.category: d for d in deltas(tuned, base)}
    assert list(rows) == ["Fraud", "Hate", "Malware", "overall"]
    assert rows["Malware"] == Delta(
        category="Malware",
        tuned_rate=1.0,
        base_rate=0.0,
        delta=1.0,
        tuned_variant="trigger:1",
        base_variant="plain",
    )
    assert rows["Hate"].tuned_rate is None and rows["Hate"].delta is None
    assert rows["overall"].delta == pytest.approx(0.6)
    alone = deltas(tuned, None)
    assert [d.category for d in alone] == ["Fraud", "Malware", "overall"]
    assert all(d.base_rate is None and d.delta is None for d in alone)
