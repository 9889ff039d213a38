"""The metrics catalogue in docs/operations.md is the truth about ``/metrics``.

The catalogue is the first Markdown table after the heading ``## 5. Metrics catalogue`` (the
number is optional), with the columns ``metric | type | labels | meaning``:

- ``metric``: one name in backticks, as exposed (counters end in ``_total``; a histogram is named
  by its family, without ``_bucket``/``_sum``/``_count``);
- ``type``: ``counter``, ``gauge`` or ``histogram``;
- ``labels``: label names only, each in backticks, comma-separated, or ``—`` for none (values
  belong in the meaning column).

The tests compare it with the metrics defined in ``gateway/metrics.py`` (and the default
registry), with what a live app exposes on ``/metrics``, and check that every label is one of a
few bounded names: ids, tenants, models, paths and free text must never become labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from gateway.app import create_app
from gateway.settings import load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
HEADING = re.compile(r"^##\s+(?:\d+\.\s+)?Metrics catalogue\s*$")
COLUMNS = ["metric", "type", "labels", "meaning"]
TYPES = {"counter", "gauge", "histogram"}
PREFIX = "tunegate_"

# Every label name in use, each with a small fixed set of values (see gateway/metrics.py). A new
# label must be added here on purpose, after checking that its values cannot grow with traffic.
ALLOWED_LABELS = {
    "route": "route template (`/v1/files/{file_id}`) or `unmatched`",
    "method": 'HTTP method: one of the seven standard ones, anything else is "other"',
    "status": "HTTP status code, or a job status",
    "adapter": "a configured upstream name",
    "operation": "an adapter operation (create_job, get_job, ...)",
    "outcome": "a fixed outcome word",
    "kind": "a background work kind",
    "via": "`files` or `uploads`",
    "policy": "a policy name (written by the platform team)",
    "action": "a policy action",
    "verdict": "a scan or evaluation verdict",
    "category": "a classifier or detector category",
    "subject": "`file` or `job`",
    "decision": "a review or release decision",
}
# Words that mark an id or free text: never a label, whatever else the name says.
FORBIDDEN_WORDS = {
    "id",
    "ids",
    "job",
    "file",
    "filename",
    "tenant",
    "team",
    "model",
    "user",
    "key",
    "path",
    "url",
    "reason",
    "message",
    "error",
    "prompt",
    "text",
    "email",
    "checkpoint",
    "upload",
    "review",
    "suffix",
}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class Entry:
    name: str  # as exposed: counters end in _total
    type: str
    labels: frozenset[str]


# -- the catalogue ---------------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    inner = row.strip()
    assert inner.startswith("|") and inner.endswith("|"), f"not a table row: {row!r}"
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner[1:-1])]


def _table_after_heading(text: str) -> list[str]:
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)]
    assert len(starts) == 1, (
        f"{DOC.name} must have exactly one heading '## 5. Metrics catalogue' (found {len(starts)})"
    )
    rows: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("## "):
            break
        if line.lstrip().startswith("|"):
            rows.append(line)
        elif rows:
            break  # the first table ends at its first non-table line
    assert rows, f"no table after the Metrics catalogue heading in {DOC.name}"
    return rows


def parse_catalogue(text: str) -> dict[str, Entry]:
    rows = _table_after_heading(text)
    header = [cell.lower() for cell in _cells(rows[0])]
    assert header == COLUMNS, f"catalogue columns must be {COLUMNS}, got {header}"
    assert set("".join(_cells(rows[1]))) <= set("-: "), "the second row must be the table separator"
    entries: dict[str, Entry] = {}
    for row in rows[2:]:
        cells = _cells(row)
        assert len(cells) == len(COLUMNS), f"catalogue row needs {len(COLUMNS)} cells: {row!r}"
        metric, kind, labels, meaning = cells
        match = re.fullmatch(r"`([a-z_:][a-z0-9_:]*)`", metric)
        assert match, f"metric cell must be one name in backticks: {metric!r}"
        name = match.group(1)
        assert kind in TYPES, f"{name}: type must be one of {sorted(TYPES)}, got {kind!r}"
        if labels in {"—", "-", ""}:
            names: frozenset[str] = frozenset()
        else:
            parts = [part.strip() for part in labels.split(",")]
            bad = [part for part in parts if not re.fullmatch(r"`[a-z_][a-z0-9_]*`", part)]
            assert not bad, f"{name}: labels cell must list `names` only, comma-separated; bad: {bad}"
            names = frozenset(part.strip("`") for part in parts)
        assert meaning, f"{name}: the meaning cell is empty"
        assert name not in entries, f"{name} is listed twice in the catalogue"
        entries[name] = Entry(name, kind, names)
    return entries


@pytest.fixture(scope="module")
def doc_text() -> str:
    assert DOC.is_file(), f"{DOC} is missing"
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogue(doc_text: str) -> dict[str, Entry]:
    return parse_catalogue(doc_text)


# -- the code --------------------------------------------------------------------------------


def _exposed_name(metric: MetricWrapperBase) -> str:
    # prometheus_client keeps a counter's name without "_total" and adds it when exposing.
    return f"{metric._name}_total" if metric._type == "counter" else metric._name


def defined_metrics() -> dict[str, Entry]:
    """Every metric object defined in gateway/metrics.py, by exposed name."""
    found: dict[str, Entry] = {}
    for attribute, value in vars(metrics).items():
        if isinstance(value, MetricWrapperBase):
            name = _exposed_name(value)
            assert name not in found, f"gateway.metrics.{attribute}: {name} is defined twice"
            found[name] = Entry(name, value._type, frozenset(value._labelnames))
    return found


def _normalise(family_name: str, family_type: str) -> str:
    if family_type == "counter" and not family_name.endswith("_total"):
        return f"{family_name}_total"
    return family_name


# -- the live app ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``/metrics`` of an in-process app on a fresh SQLite store (no worker, no upstream calls)."""
    tmp = tmp_path_factory.mktemp("metrics")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp)  # no ./tunegate.yaml here: the defaults, plus the overrides below
        patch.delenv("TUNEGATE_CONFIG", raising=False)
        settings = load_settings(
            None, data_dir=tmp / "data", database_url=None, spool_dir=None, policy_dir=None
        )
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        # An id in the URL: the route label must be the template, never the id.
        assert client.get("/v1/files/file-metricsprobe0001").status_code == 401
        assert client.get("/metrics").status_code == 200  # counted once this response is out
        response = client.get("/metrics")
    assert response.status_code == 200
    yield response.text


def exposed_families(text: str) -> dict[str, tuple[str, set[str]]]:
    """``tunegate_*`` families on the page: exposed name -> (type, label names seen in samples)."""
    families = {
        family.name: family
        for family in text_string_to_metric_families(text)
        if family.name.startswith(PREFIX)
    }
    exposed: dict[str, tuple[str, set[str]]] = {}
    for name, family in families.items():
        base = families.get(name.removesuffix("_created")) if name.endswith("_created") else None
        if base is not None and base.type in ("counter", "histogram"):
            continue  # the start-time series prometheus_client adds to counters and histograms
        labels = {label for sample in family.samples for label in sample.labels}
        if family.type == "histogram":
            labels.discard("le")
        exposed[_normalise(name, family.type)] = (family.type, labels)
    return exposed


# -- the tests -------------------------------------------------------------------------------


def test_catalogue_lists_exactly_the_metrics_in_the_code(catalogue: dict[str, Entry]) -> None:
    defined = defined_metrics()
    missing = sorted(set(defined) - set(catalogue))
    unknown = sorted(set(catalogue) - set(defined))
    assert not missing, f"defined in gateway/metrics.py but not in the catalogue of {DOC.name}: {missing}"
    assert not unknown, f"in the catalogue of {DOC.name} but not defined in gateway/metrics.py: {unknown}"
    for name, entry in defined.items():
        documented = catalogue[name]
        assert documented.type == entry.type, f"{name}: documented as {documented.type}, is {entry.type}"
        assert documented.labels == entry.labels, (
            f"{name}: documented labels {sorted(documented.labels)}, code has {sorted(entry.labels)}"
        )


def test_every_tunegate_metric_in_the_registry_comes_from_gateway_metrics() -> None:
    registered = {
        _normalise(family.name, family.type)
        for family in REGISTRY.collect()
        if family.name.startswith(PREFIX)
    }
    assert registered == set(defined_metrics()), (
        "tunegate_* metrics registered outside gateway/metrics.py: "
        f"{sorted(registered - set(defined_metrics()))}"
    )


def test_metric_names_follow_the_conventions() -> None:
    for name, entry in defined_metrics().items():
        assert name.startswith(PREFIX), f"{name}: metric names start with {PREFIX}"
        if entry.type == "counter":
            assert name.endswith("_total"), f"{name}: a counter's exposed name ends in _total"
        else:
            assert not name.endswith("_total"), f"{name}: only counters end in _total"


def test_every_exposed_metric_is_documented_with_its_type_and_labels(
    scraped: str, catalogue: dict[str, Entry]
) -> None:
    exposed = exposed_families(scraped)
    assert set(exposed) == set(catalogue), (
        f"/metrics exposes {sorted(set(exposed) - set(catalogue))} undocumented; "
        f"documented but not exposed: {sorted(set(catalogue) - set(exposed))}"
    )
    for name, (kind, labels) in exposed.items():
        documented = catalogue[name]
        assert kind == documented.type, f"{name}: exposed as {kind}, documented as {documented.type}"
        assert labels <= documented.labels, (
            f"{name}: exposed with labels {sorted(labels)}, documented {sorted(documented.labels)}"
        )
        if labels:  # a family with samples shows every one of its labels
            assert labels == documented.labels, f"{name}: exposed labels {sorted(labels)}"


def test_the_route_label_is_the_template_not_the_url(scraped: str) -> None:
    requests = [
        sample
        for family in text_string_to_metric_families(scraped)
        if family.name == "tunegate_http_requests"
        for sample in family.samples
        if sample.name == "tunegate_http_requests_total"
    ]
    routes = {sample.labels["route"] for sample in requests}
    assert "/v1/files/{file_id}" in routes, routes
    assert "/metrics" in routes, routes
    leaked = [
        sample
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if any("metricsprobe" in value for value in sample.labels.values())
    ]
    assert not leaked, f"an id from a URL became a label value: {leaked}"


def _label_problem(label: str) -> str | None:
    words = set(label.lower().split("_"))
    hit = sorted(words & FORBIDDEN_WORDS)
    if hit or label.lower().endswith("id"):
        return f"names an id or free text ({', '.join(hit) or 'ends in id'})"
    if label not in ALLOWED_LABELS:
        return "is not in the allowed list of bounded labels (tests/gateway/test_metrics_catalogue.py)"
    return None


@pytest.mark.parametrize("name", sorted(defined_metrics()))
def test_labels_are_bounded(name: str) -> None:
    entry = defined_metrics()[name]
    problems = [
        f"label {label!r} {problem}" for label in sorted(entry.labels) if (problem := _label_problem(label))
    ]
    assert not problems, f"metric {name}: " + "; ".join(problems)


def test_the_label_check_catches_ids_and_free_text() -> None:
    risky = ["job_id", "file", "tenant", "team", "model", "user", "api_key", "path", "reason", "message"]
    for label in [*risky, "upstream_model", "fileid", "error_text"]:
        assert _label_problem(label), label
    for bounded in ALLOWED_LABELS:
        assert _label_problem(bounded) is None, bounded


def test_every_metric_named_in_the_doc_exists(doc_text: str) -> None:
    """Alert expressions and runbooks in the doc name real series (a typo would never fire)."""
    defined = defined_metrics()
    series = set(defined)
    for name, entry in defined.items():
        if entry.type == "histogram":
            series |= {name + suffix for suffix in HISTOGRAM_SERIES}
    named = set(re.findall(r"\btunegate_[a-z0-9_]*[a-z0-9]", doc_text))
    unknown = sorted(name for name in named if name not in series and not name.endswith("_created"))
    unknown = [name for name in unknown if name != "tunegate_job_id"]  # the upstream metadata key
    assert not unknown, f"{DOC.name} names series that /metrics does not have: {unknown}"
