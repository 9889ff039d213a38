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


def record_upstream_call(adapter: str, operation: str, outcome: str, seconds: float) -> None:
    """The ``on_call`` hook handed to upstream adapters."""
    UPSTREAM_CALLS.labels(adapter=adapter, operation=operation, outcome=outcome).inc()
    UPSTREAM_DURATION.labels(adapter=adapter, operation=operation).observe(seconds)
