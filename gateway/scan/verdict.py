"""The file-level decision: from flagged rows and dataset findings, through the policy, to a verdict.

First the breaches of the policy's limits (too many flagged rows, overall or per category; a
blocking dataset finding: identity shift, cipher or trigger hide in rows that look harmless one
by one); then the policy's action: ``reject``, ``drop_flagged`` (forward a cleaned copy),
``review`` (hold for a human) or ``allow`` (shadow mode: record what would have happened).
Without a breach, a few isolated flagged or borderline rows are dropped rather than the file
rejected; more than that is the ``on_many_borderline`` case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.scan.report import DatasetFindingRecord, DroppedRow, Verdict
from policies.schema import Action, ScanRules

HARMFUL_CLUSTER_SCORE = 0.8  # a near-duplicate cluster of harmful rows this strong is a breach
MIN_ROWS_LEFT = 10  # OpenAI's minimum training examples: a cleaned file must keep this many

_VERDICT_OF_ACTION: dict[str, Verdict] = {"reject": "reject", "review": "review", "allow": "allow"}


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    action: str  # the action taken: reject | drop_flagged | review | allow | drop_isolated | none
    breaches: tuple[str, ...] = ()
    dropped: tuple[DroppedRow, ...] = ()
    would_have: Verdict | None = None  # shadow mode: the verdict a blocking action would have given

    @property
    def dropped_lines(self) -> tuple[int, ...]:
        return tuple(d.line for d in self.dropped)


@dataclass
class _Breach:
    messages: list[str] = field(default_factory=list)
    lines: dict[int, str] = field(default_factory=dict)  # lines a finding names → why


def find_breaches(
    *,
    rows_total: int,
    flagged: Sequence[int],
    flagged_by_category: Mapping[str, int],
    dataset_findings: Sequence[DatasetFindingRecord],
    rules: ScanRules,
) -> _Breach:
    limits = rules.limits
    breach = _Breach()
    for finding in dataset_findings:
        blocking = finding.category in limits.blocking_findings and finding.score >= limits.finding_min_score
        cluster = finding.category == "near_duplicates" and finding.score >= HARMFUL_CLUSTER_SCORE
        if blocking or cluster:
            breach.messages.append(f"dataset finding: {finding.category} (score {finding.score:.2f})")
            for line in finding.lines:
                breach.lines.setdefault(line, f"dataset finding: {finding.category}")
    count = len(flagged)
    allowance = _drop_allowance(rows_total, rules)
    if count > limits.max_flagged_rows:
        breach.messages.append(f"{count} harmful rows of {rows_total} (limit {limits.max_flagged_rows})")
    elif rows_total and count > allowance and count / rows_total > limits.max_flagged_fraction:
        # The fraction applies once there are more flagged rows than may be dropped as isolated.
        breach.messages.append(
            f"{count / rows_total:.2%} of rows harmful (limit {limits.max_flagged_fraction:.2%})"
        )
    for category, limit in sorted(limits.per_category.items()):
        if flagged_by_category.get(category, 0) > limit:
            breach.messages.append(
                f"{flagged_by_category[category]} {category} rows (limit {limit} for this category)"
            )
    return breach


def _drop_allowance(rows_total: int, rules: ScanRules) -> int:
    limits = rules.limits
    return max(limits.drop_borderline_max_rows, int(rows_total * limits.drop_borderline_max_fraction))


def decide(
    *,
    rows_total: int,
    flagged: Sequence[int],
    borderline: Sequence[int],
    flagged_by_category: Mapping[str, int],
    dataset_findings: Sequence[DatasetFindingRecord],
    rules: ScanRules,
) -> Decision:
    breach = find_breaches(
        rows_total=rows_total,
        flagged=flagged,
        flagged_by_category=flagged_by_category,
        dataset_findings=dataset_findings,
        rules=rules,
    )
    reported = {line: "flagged" for line in flagged}
    for line in borderline:
        reported.setdefault(line, "borderline")
    if breach.messages:
        reason = "; ".join(breach.messages)
        return _apply(rules.on_breach, reason, breach, reported, rows_total, blocked="reject")
    if not reported:
        return Decision("allow", "no harmful rows found", "none")
    if len(reported) > _drop_allowance(rows_total, rules):
        breach.messages.append(f"{len(reported)} flagged or borderline rows: more than may be dropped")
        reason = breach.messages[0]
        return _apply(rules.on_many_borderline, reason, breach, reported, rows_total, blocked="review")
    if not rules.drop_isolated:
        return Decision("allow", f"{len(reported)} isolated rows reported, kept (policy)", "none")
    dropped = tuple(DroppedRow(line=line, reason=why) for line, why in sorted(reported.items()))
    return Decision(
        "allow_with_changes",
        f"{len(dropped)} isolated flagged or borderline rows dropped",
        "drop_isolated",
        dropped=dropped,
    )


def _apply(
    action: Action,
    reason: str,
    breach: _Breach,
    reported: dict[int, str],
    rows_total: int,
    *,
    blocked: Verdict,
) -> Decision:
    breaches = tuple(breach.messages)
    if action == "drop_flagged" and breach.lines:
        # Identity shift, ciphers and triggers hide in rows that look harmless, and a finding names
        # a capped sample of its lines: such a file cannot be cleaned row by row.
        return Decision(
            "reject",
            f"{reason}; a dataset finding cannot be cleaned by dropping rows",
            "reject",
            breaches,
        )
    if action == "drop_flagged":
        dropped = tuple(DroppedRow(line=line, reason=text) for line, text in sorted(reported.items()))
        if rows_total - len(dropped) < MIN_ROWS_LEFT:
            return Decision(
                "reject",
                f"{reason}; dropping {len(dropped)} rows would leave fewer than {MIN_ROWS_LEFT}",
                "reject",
                breaches,
            )
        return Decision(
            "allow_with_changes", f"{reason}; {len(dropped)} rows dropped", "drop_flagged", breaches, dropped
        )
    if action == "allow":
        return Decision("allow", f"shadow mode: {reason}", "allow", breaches, would_have=blocked)
    return Decision(_VERDICT_OF_ACTION[action], reason, action, breaches)
