"""Job statuses and the work kinds that move a job along."""

from __future__ import annotations

from dataclasses import dataclass

SCAN_WORK = "scan_file"  # scan a file under a policy (subject: a scans row)
START_WORK = "start_job"  # forward the files, create the upstream job
POLL_WORK = "poll_job"  # follow the upstream job until it ends
EVAL_WORK = "evaluate_model"  # the model gate: evaluate the trained model, then release or block

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# OpenAI's statuses; anything else an upstream reports is shown as it is (an open set).
KNOWN_STATUSES = frozenset({"validating_files", "queued", "running", "paused"}) | TERMINAL_STATUSES


@dataclass(frozen=True)
class Done:
    """The work item is finished."""


@dataclass(frozen=True)
class Again:
    """Run the work item again after ``delay`` seconds; ``counts`` says whether it was a failed try."""

    delay: float
    counts: bool = False


Outcome = Done | Again
