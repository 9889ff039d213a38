"""Prometheus metrics. Names ``tunegate_*``; seconds; counters end in ``_total``.

Labels take values from small fixed sets only (route templates, status codes, adapter and
kind names): never ids, tenants' free text or model names.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "tunegate_http_requests_total",
    "HTTP requests served, by route template, method and status code",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "tunegate_http_request_duration_seconds",
    "Time to serve an HTTP request, by route template and method",
    ["route", "method"],
)
UPSTREAM_CALLS = Counter(
    "tunegate_upstream_calls_total",
    "Calls to fine-tuning providers, by adapter, operation and outcome",
    ["adapter", "operation", "outcome"],
)
UPSTREAM_DURATION = Histogram(
    "tunegate_upstream_call_duration_seconds",
    "Duration of calls to fine-tuning providers",
    ["adapter", "operation"],
)
JOBS = Gauge("tunegate_jobs", "Fine-tuning jobs in the store, by status", ["status"])
WORK_BACKLOG = Gauge("tunegate_work_backlog", "Background work items not yet done, by kind", ["kind"])
WORK_PROCESSED = Counter(
    "tunegate_work_processed_total", "Background work runs, by kind and outcome", ["kind", "outcome"]
)
WORK_DURATION = Histogram("tunegate_work_duration_seconds", "Duration of one background work run", ["kind"])
FILES_UPLOADED = Counter("tunegate_files_uploaded_total", "Training files accepted", ["via"])
FILE_BYTES = Counter("tunegate_file_bytes_total", "Bytes of training files accepted", ["via"])

# Policies. The ``policy`` label is a policy name: a small set the platform team writes.
POLICY_RELOADS = Counter("tunegate_policy_reloads_total", "Policy directory reloads, by outcome", ["outcome"])
POLICY_RELOAD_OK = Gauge("tunegate_policy_reload_ok", "1 when the last policy (re)load succeeded, else 0")
POLICIES_LOADED = Gauge("tunegate_policies_loaded", "Policies in force")
SCAN_VERDICTS = Counter(
    "tunegate_scan_verdicts_total",
    "File scans finished, by policy, the action taken and the resulting verdict",
    ["policy", "action", "verdict"],
)
SCAN_FINDINGS = Counter(
    "tunegate_scan_flagged_rows_total", "Rows flagged by file scans, by category", ["policy", "category"]
)
DATASET_FINDINGS = Counter(
    "tunegate_scan_dataset_findings_total", "Whole-file findings by detectors, by category", ["category"]
)
AUDIT_UPPER_BOUND = Histogram(
    "tunegate_audit_harmful_rate_upper_bound",
    "Clopper-Pearson upper bound on a file's harmful-row rate from the sampling audit",
    ["policy"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
AUDITS = Counter("tunegate_audits_total", "Sampling audits, by policy and outcome", ["policy", "outcome"])
HYPERPARAMETER_GUARD = Counter(
    "tunegate_hyperparameter_guard_total",
    "Jobs checked by the hyperparameter guard, by policy and outcome (passed, clamped, rejected)",
    ["policy", "outcome"],
)
SAFETY_ROWS_ADDED = Counter(
    "tunegate_safety_rows_added_total", "Safety rows mixed into forwarded training files", ["policy"]
)

REVIEWS_DECIDED = Counter(
    "tunegate_reviews_decided_total",
    "Human review decisions, by subject and decision",
    ["subject", "decision"],
)
REVIEW_QUEUE = Gauge("tunegate_review_queue_depth", "Reviews waiting for a decision, by subject", ["subject"])

# The model gate.
EVALS = Counter(
    "tunegate_model_evals_total", "Fine-tuned models evaluated, by verdict (pass, fail)", ["verdict"]
)
EVAL_DURATION = Histogram(
    "tunegate_model_eval_duration_seconds",
    "Time to evaluate a fine-tuned model (and its base, unless cached)",
    buckets=(10, 30, 60, 120, 300, 600, 1200, 3600, 7200),
)
EVAL_HARMFULNESS_RATE = Histogram(
    "tunegate_model_eval_harmfulness_rate",
    "Harmfulness rate of evaluated fine-tuned models (worst prompt format), by release decision",
    ["decision"],
    buckets=(0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
)
RELEASE_DECISIONS = Counter(
    "tunegate_release_decisions_total",
    "Release decisions on fine-tuned models, by policy and decision (released, blocked, review, allowed)",
    ["policy", "decision"],
)


def record_upstream_call(adapter: str, operation: str, outcome: str, seconds: float) -> None:
    """The ``on_call`` hook handed to upstream adapters."""
    UPSTREAM_CALLS.labels(adapter=adapter, operation=operation, outcome=outcome).inc()
    UPSTREAM_DURATION.labels(adapter=adapter, operation=operation).observe(seconds)
