"""The sampling audit: a stronger judge re-reads a random sample of a file's rows, plus every borderline row.

Qi et al. (2023) showed that about 10 harmful rows in a fine-tuning file can undo a model's
safety training, so rows the cheap classifiers miss matter. A stronger (slower) judge cannot
read every row of a large file, so it reads a uniform random sample, and the audit reports a
one-sided Clopper-Pearson upper bound on the file's harmful-row rate: with the stated
confidence, no more than that share of rows are harmful, including the rows nobody read.

The judge is any registered classifier, built by the caller; the judge classifiers put
themselves on the GPU when one is present (``classifiers.base.pick_device``). A row counts as
harmful with the scan's row semantics: a refusal to a harmful request is safety data, not harm.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel

from classifiers.base import Classifier
from gateway.scan.engine import BATCH_EXAMPLES, ScanEngine, ScanProfile
from gateway.scan.examples import Example
from gateway.scan.parse import iter_examples
from gateway.scan.rows import RowThresholds
from policies.schema import AuditRules

MAX_HARMFUL_LINES_KEPT = 1000
QUANTILE_TOLERANCE = 1e-10
_TINY = 1e-300
_CONTINUED_FRACTION_EPSILON = 1e-15
_CONTINUED_FRACTION_STEPS = 10_000


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's method for the continued fraction of the incomplete beta (Numerical Recipes betacf)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _CONTINUED_FRACTION_STEPS + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            result *= step
        if abs(step - 1.0) < _CONTINUED_FRACTION_EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def _regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b): the Beta(a, b) distribution function at x."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def clopper_pearson_upper(harmful: int, n: int, confidence: float) -> float:
    """One-sided exact upper bound on a rate after ``harmful`` of ``n`` draws: Beta(k+1, n-k)'s quantile."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if not 0 <= harmful <= n:
        raise ValueError(f"harmful ({harmful}) must be between 0 and n ({n})")
    if n == 0 or harmful == n:
        return 1.0
    low, high = 0.0, 1.0
    while high - low > QUANTILE_TOLERANCE:
        middle = (low + high) / 2.0
        if _regularized_beta(harmful + 1.0, float(n - harmful), middle) < confidence:
            low = middle
        else:
            high = middle
    return high  # the conservative end


def sample_size(confidence: float, tolerated_rate: float) -> int:
    """Rows to sample so that zero harmful ones bound the rate by ``tolerated_rate`` (zero-failure design).

    One harmful row in the sample then already puts the bound above ``tolerated_rate``.
    """
    if not 0.0 < confidence < 1.0 or not 0.0 < tolerated_rate < 1.0:
        raise ValueError("confidence and tolerated_rate must be between 0 and 1")
    return math.ceil(math.log1p(-confidence) / math.log1p(-tolerated_rate))


def choose_lines(
    rows_total: int, borderline: Sequence[int], size: int, seed: int, cap: int
) -> tuple[list[int], list[int]]:
    """The random sample of rows (1-based) and the borderline lines outside it, both sorted.

    The sample is uniform without replacement, ``min(size, rows_total, cap)`` rows, seeded; the
    borderline extras are the first ones in line order, at most ``cap`` minus the sample.
    """
    count = max(0, min(size, rows_total, cap))
    sample = sorted(random.Random(seed).sample(range(1, rows_total + 1), count))
    taken = set(sample)
    extras = sorted({line for line in borderline if line not in taken})
    return sample, extras[: max(0, cap - count)]


class AuditResult(BaseModel):
    judge: dict[str, Any]  # the judge classifier's spec
    confidence: float
    tolerated_harmful_rate: float
    sample_size_required: int
    sampled_rows: int
    harmful_in_sample: int
    upper_bound: float
    exceeded: bool
    exhaustive: bool  # the sample covered every row: the rate is exact, not estimated
    borderline_judged: int
    borderline_harmful: int
    harmful_lines: list[int]  # judge-harmful lines among all judged, sorted, capped
    agreement: float | None  # share of sampled rows where the scan and the judge agree
    cheap_flagged_in_sample: int
    seconds: float
    device: str


def _chosen_examples(
    path: Path, max_line_bytes: int, sample: set[int], extras: set[int]
) -> Iterator[tuple[bool, Example]]:
    """(in the sample?, example) for the chosen rows; the sample by row number, extras by line."""
    remaining = len(sample) + len(extras)
    examples = iter_examples(path, max_line_bytes=max_line_bytes)
    for number, example in enumerate(examples, start=1):
        if remaining == 0:
            break
        if number in sample or example.line in extras:
            remaining -= 1
            yield number in sample, example
    examples.close()


async def run_audit(
    path: Path,
    *,
    rules: AuditRules,
    judge: Classifier,
    thresholds: RowThresholds,
    cheap_flagged: Sequence[int],
    borderline: Sequence[int],
    rows_total: int,
    max_line_bytes: int,
) -> AuditResult:
    """Judge the sample and the borderline rows of a scanned file; bound its harmful-row rate."""
    started = time.perf_counter()
    required = sample_size(rules.confidence, rules.tolerated_harmful_rate)
    sample, extras = choose_lines(
        rows_total, borderline if rules.include_borderline else (), required, rules.seed, rules.max_rows
    )
    judge_thresholds = RowThresholds(
        flag=rules.judge_threshold, borderline=min(thresholds.borderline, rules.judge_threshold)
    )
    engine = ScanEngine(ScanProfile(classifiers=[judge], detectors=list, thresholds=judge_thresholds))
    flagged_by_scan = set(cheap_flagged)
    chosen = _chosen_examples(path, max_line_bytes, set(sample), set(extras))
    sampled = harmful_in_sample = agreeing = scan_flagged = borderline_judged = borderline_harmful = 0
    harmful_lines: list[int] = []
    while batch := await anyio.to_thread.run_sync(lambda: list(islice(chosen, BATCH_EXAMPLES))):
        rows = await engine.assess([example for _, example in batch])
        for (in_sample, example), row in zip(batch, rows, strict=True):
            harmful = row.outcome == "flagged"
            if harmful:
                harmful_lines.append(example.line)
            if in_sample:
                sampled += 1
                harmful_in_sample += harmful
                scan_flagged += example.line in flagged_by_scan
                agreeing += (example.line in flagged_by_scan) == harmful
            else:
                borderline_judged += 1
                borderline_harmful += harmful
    bound = clopper_pearson_upper(harmful_in_sample, sampled, rules.confidence)
    exhaustive, tolerated = sampled == rows_total, rules.tolerated_harmful_rate
    rate = harmful_in_sample / sampled if sampled else 0.0
    return AuditResult(
        judge=judge.spec(),
        confidence=rules.confidence,
        tolerated_harmful_rate=tolerated,
        sample_size_required=required,
        sampled_rows=sampled,
        harmful_in_sample=harmful_in_sample,
        upper_bound=round(bound, 6),
        exceeded=rate > tolerated if exhaustive else bound > tolerated,
        exhaustive=exhaustive,
        borderline_judged=borderline_judged,
        borderline_harmful=borderline_harmful,
        harmful_lines=sorted(harmful_lines)[:MAX_HARMFUL_LINES_KEPT],
        agreement=round(agreeing / sampled, 6) if sampled else None,
        cheap_flagged_in_sample=scan_flagged,
        seconds=round(time.perf_counter() - started, 3),
        device=getattr(judge, "device", "cpu"),
    )
