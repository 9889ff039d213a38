"""The Helm chart (helm/tunegate): lint, render, validate, and check what operations rely on.

Rendering and linting go through Helm's own Go SDK (helm_python, offline: no cluster, no helm
binary); every rendered object is validated with kubernetes-validate against the OpenAPI schemas
of a recent Kubernetes. The prometheus-operator objects (ServiceMonitor, PrometheusRule) have no
schema there, so their structure is asserted by hand. Metric names in the alerts and the
dashboard are checked against gateway/metrics.py, label values against the code that sets them.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "tunegate"
VALUES = Path(__file__).resolve().parent / "values"
RELEASE = "tunegate"
NAMESPACE = "ml"
KUBE_VERSION = "1.34.0"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
POLICY_DIR = "/etc/tunegate/policies"
CONFIG_FILE = "/etc/tunegate/tunegate.yaml"
TUNEGATE_CONTAINERS = {"tunegate", "worker", "migrate"}
ALERTS = {
    "TunegateScanBacklog",
    "TunegateEvalFailures",
    "TunegateUpstreamErrorRate",
    "TunegateBlockedReleases",
    "TunegatePolicyReloadFailed",
}
# One metric per dashboard topic the runbook points at.
DASHBOARD_METRICS = {
    "tunegate_http_requests_total",  # request rate by route
    "tunegate_http_request_duration_seconds_bucket",  # latency by route
    "tunegate_scan_verdicts_total",  # scan verdicts by policy/action
    "tunegate_work_backlog",
    "tunegate_upstream_calls_total",  # by outcome
    "tunegate_release_decisions_total",  # model-gate decisions
    "tunegate_model_eval_duration_seconds_bucket",
    "tunegate_review_queue_depth",
    "tunegate_policy_reload_ok",
}
METRIC = re.compile(r"\btunegate_[a-z0-9_]+")


# --- helpers ------------------------------------------------------------------------------------


@cache
def chart() -> Any:
    return helm.Chart.load(CHART)


@cache
def _values_file(name: str) -> dict[str, Any]:
    return yaml.safe_load((VALUES / name).read_text(encoding="utf-8")) or {}


def values(name: str, **overrides: Any) -> dict[str, Any]:
    """A values file, with overrides deep-merged in (``a__b=1`` sets ``{"a": {"b": 1}}``)."""
    data = copy.deepcopy(_values_file(name))
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def render(data: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = chart().render(values=data, name=RELEASE, namespace=NAMESPACE)
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


@cache
def _rendered_file(name: str) -> str:
    return json.dumps(render(values(name)))


def rendered(name: str) -> list[dict[str, Any]]:
    """The objects a values file renders (cached; a fresh copy each call)."""
    docs: list[dict[str, Any]] = json.loads(_rendered_file(name))
    return docs


def notes(data: dict[str, Any]) -> str:
    manifests = chart().render(values=data, name=RELEASE, namespace=NAMESPACE)
    return next(text for path, text in manifests.items() if path.endswith("NOTES.txt"))


def objects(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in objects(docs, kind) if doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {[d['metadata']['name'] for d in matches]}"
    return matches[0]


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod(workload)["containers"] if c["name"] == name)


def env(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


def gateway(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment", RELEASE)


def config_file(docs: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        one(docs, "ConfigMap", f"{RELEASE}-config")["data"]["tunegate.yaml"]
    )
    return data


def tunegate_workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deployments and Jobs that run the tunegate image."""
    return [
        doc
        for doc in docs
        if doc["kind"] in {"Deployment", "Job"}
        and any(c["name"] in TUNEGATE_CONTAINERS for c in pod(doc)["containers"])
    ]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels, matchExpressions) matches ``labels``."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, wanted = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in wanted:
            return False
        if operator == "NotIn" and labels.get(key) in wanted:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def nulls(node: Any, path: str = "") -> Iterator[str]:
    """Paths of null values in a rendered object."""
    if node is None:
        yield path or "/"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from nulls(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nulls(value, f"{path}/{index}")


@cache
def declared_metrics() -> frozenset[str]:
    """Series names gateway/metrics.py exports (histograms as _bucket, _sum and _count)."""
    tree = ast.parse((ROOT / "gateway" / "metrics.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            kind = node.func.id
            if kind in {"Counter", "Gauge", "Histogram"}:
                name = node.args[0].value  # type: ignore[attr-defined]
                suffixes = ("_bucket", "_sum", "_count") if kind == "Histogram" else ("",)
                names.update(name + suffix for suffix in suffixes)
    return frozenset(names)


def upstream_outcomes() -> set[str]:
    source = (ROOT / "gateway" / "upstreams" / "_http.py").read_text(encoding="utf-8")
    return set(re.findall(r'self\._emit\(operation, "(\w+)"', source))


def work_kind(constant: str) -> str:
    source = (ROOT / "gateway" / "jobs" / "lifecycle.py").read_text(encoding="utf-8")
    match = re.search(rf'^{constant} = "(\w+)"', source, re.MULTILINE)
    assert match, f"{constant} not found in gateway/jobs/lifecycle.py"
    return match.group(1)


# --- the chart as a package ---------------------------------------------------------------------


def test_chart_metadata_follows_the_project():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    metadata = chart().metadata
    assert metadata["apiVersion"] == "v2"
    assert metadata["name"] == "tunegate"
    assert metadata["appVersion"] == project["version"]
    assert chart().schema is not None, "the chart ships values.schema.json"


def test_shipped_default_policy_is_the_projects():
    shipped = (CHART / "files" / "policies" / "default.yaml").read_text(encoding="utf-8")
    assert shipped == (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8"), (
        "helm/tunegate/files/policies/default.yaml drifted from policies/default.yaml: copy it over"
    )


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_lint_passes(name):
    report = helm.lint(CHART, values(name), strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert not problems, problems
    assert not report["errors"], report["errors"]


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_every_manifest_validates(name):
    docs = rendered(name)
    assert docs
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue  # no schema in kubernetes-validate; see the monitoring tests
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        # The schemas accept null volume sources, which kubectl and server-side apply reject.
        assert not list(nulls(doc)), f"{doc['kind']} {doc['metadata']['name']}: null at {list(nulls(doc))}"
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/version"] == chart().metadata["appVersion"]


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        (
            "postgres.yaml",
            {"database": {"url": "postgresql+asyncpg://u:p@db/tg"}, "autoscaling__enabled": False},
        ),
        ("postgres.yaml", {"migrations__strategy": "initContainer", "worker__enabled": False}),
        ("vllm.yaml", {"guardModel": {"externalUrl": "http://guard:8000/v1", "model": "lg"}}),
        (
            "vllm.yaml",
            {"guardModel__vllm__cache": {"existingClaim": "hf-cache"}, "migrations__enabled": False},
        ),
    ],
)
def test_variants_validate(name, overrides):
    for doc in render(values(name, **overrides)):
        if doc["kind"] not in CRD_KINDS:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
            assert not list(nulls(doc))


def test_names_fit_in_a_dns_label():
    long = "t" * 63
    for name, overrides in [("postgres.yaml", {}), ("vllm.yaml", {})]:
        for doc in render(values(name, fullnameOverride=long, **overrides)):
            assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]


# --- values.schema.json -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "where"),
    [("wrong-type.yaml", "/gateway/replicas"), ("literal-secret.yaml", "/config/upstreams/0/api_key")],
)
def test_schema_rejects_bad_values(name, where):
    with pytest.raises(helm.HelmValuesError, match=where):
        chart().validate_schema(values(name))
    with pytest.raises(helm.HelmValuesError, match=where):
        render(values(name))


@pytest.mark.parametrize("port", [0, 65536, "9090", 9090.5])
def test_schema_rejects_a_bad_worker_metrics_port(port):
    with pytest.raises(helm.HelmValuesError, match="metricsPort"):
        chart().validate_schema(values("postgres.yaml", worker__metricsPort=port))


def test_schema_rejects_chart_managed_config_keys():
    with pytest.raises(helm.HelmValuesError, match="database_url"):
        chart().validate_schema({"config": {"database_url": "postgresql+asyncpg://u:p@db/x"}})


# --- SQLite -------------------------------------------------------------------------------------


def test_sqlite_runs_one_gateway_doing_everything():
    docs = rendered("default.yaml")
    deployment = gateway(docs)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    main = container(deployment, "tunegate")
    assert main["args"] == ["serve"]
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert main["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert "TUNEGATE_DATABASE_URL" not in env(main)
    assert "database_url" not in config_file(docs)
    (init,) = pod(deployment)["initContainers"]
    assert init["args"] == ["migrate"]
    assert not objects(docs, "Job")
    assert not objects(docs, "PodDisruptionBudget")
    assert not objects(docs, "HorizontalPodAutoscaler")
    claim = one(docs, "PersistentVolumeClaim", f"{RELEASE}-data")
    data = next(v for v in pod(deployment)["volumes"] if v["name"] == "data")
    assert data["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gateway__replicas": 2}, r"gateway\.replicas=2 needs PostgreSQL.*exactly 1 replica"),
        ({"worker__enabled": True}, r"worker\.enabled needs PostgreSQL"),
        ({"autoscaling__enabled": True}, r"autoscaling\.enabled needs PostgreSQL"),
    ],
)
def test_sqlite_refuses_more_than_one_pod(overrides, message):
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values("default.yaml", **overrides))


# --- PostgreSQL ---------------------------------------------------------------------------------


def test_postgres_runs_several_gateways_and_a_gpu_worker():
    data = values("postgres.yaml")
    docs = rendered("postgres.yaml")
    deployment = gateway(docs)
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    hpa = one(docs, "HorizontalPodAutoscaler", RELEASE)
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": RELEASE}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    pdb = one(docs, "PodDisruptionBudget", RELEASE)
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]

    main = container(deployment, "tunegate")
    assert main["args"] == ["serve", "--no-worker"]
    assert "initContainers" not in pod(deployment), "PostgreSQL migrates in the hook Job"
    database = env(main)["TUNEGATE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database == {"name": "tunegate-db", "key": "url"}
    assert config_file(docs)["database_url"] == "${TUNEGATE_DATABASE_URL}"

    worker = one(docs, "Deployment", f"{RELEASE}-worker")
    assert worker["spec"]["replicas"] == 2
    work = container(worker, "worker")
    assert work["args"] == ["worker"]
    assert work["image"].endswith(":0.1.0-cuda") and not main["image"].endswith("-cuda")
    assert work["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert work["ports"] == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]
    assert pod(worker)["nodeSelector"] == data["worker"]["nodeSelector"]
    assert pod(worker)["tolerations"] == data["worker"]["tolerations"]
    assert env(work)["TUNEGATE_DATABASE_URL"] == env(main)["TUNEGATE_DATABASE_URL"]

    # Every pod that may process a file mounts the same spool claim.
    spool = one(docs, "PersistentVolumeClaim", f"{RELEASE}-spool")
    assert spool["spec"]["accessModes"] == ["ReadWriteMany"]
    for workload, name in ((deployment, "tunegate"), (worker, "worker")):
        volume = next(v for v in pod(workload)["volumes"] if v["name"] == "spool")
        assert volume["persistentVolumeClaim"]["claimName"] == spool["metadata"]["name"]
        mount = next(m for m in container(workload, name)["volumeMounts"] if m["name"] == "spool")
        assert mount["mountPath"] == config_file(docs)["spool_dir"]

    ingress = one(docs, "Ingress", RELEASE)
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/v1", "routing / would publish /metrics, which needs no key"
    assert path["backend"]["service"] == {"name": RELEASE, "port": {"name": "http"}}
    assert ingress["spec"]["tls"] == [{"hosts": ["tunegate.example.com"], "secretName": "tunegate-tls"}]

    (job,) = objects(docs, "Job")
    assert container(job, "migrate")["args"] == ["migrate"]
    assert "pre-upgrade" in job["metadata"]["annotations"]["helm.sh/hook"]


@pytest.mark.parametrize(("asked", "runs"), [(1, 2), (3, 3)])
def test_postgres_runs_at_least_two_replicas(asked, runs):
    docs = render(values("postgres.yaml", autoscaling__enabled=False, gateway__replicas=asked))
    assert gateway(docs)["spec"]["replicas"] == runs
    assert objects(docs, "PodDisruptionBudget")


def test_postgres_without_worker_serves_and_works_in_every_gateway():
    docs = render(values("postgres.yaml", worker__enabled=False))
    assert container(gateway(docs), "tunegate")["args"] == ["serve"]
    assert not [d for d in objects(docs, "Deployment") if d["metadata"]["name"] != RELEASE]
    assert [s["metadata"]["name"] for s in objects(docs, "Service")] == [RELEASE]


@pytest.mark.parametrize("port", [None, 9400])
def test_worker_serves_metrics_on_its_port(port):
    """worker.metricsPort becomes worker.metrics_port, the container port and the probes' target."""
    overrides = {} if port is None else {"worker__metricsPort": port}
    docs = render(values("postgres.yaml", **overrides))
    port = port or 9090
    worker = one(docs, "Deployment", f"{RELEASE}-worker")
    work = container(worker, "worker")
    assert env(work)["TUNEGATE_WORKER__METRICS_PORT"] == {
        "name": "TUNEGATE_WORKER__METRICS_PORT",
        "value": str(port),
    }
    assert work["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert work[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    # Only the worker listens there: the gateway keeps its one port and never gets the variable.
    main = container(gateway(docs), "tunegate")
    assert "TUNEGATE_WORKER__METRICS_PORT" not in env(main)
    assert [p["name"] for p in main["ports"]] == ["http"]

    service = one(docs, "Service", f"{RELEASE}-worker")
    assert service["spec"]["clusterIP"] == "None", "headless: one endpoint per worker pod"
    assert service["spec"]["selector"] == worker["spec"]["selector"]["matchLabels"]
    assert not selects(
        {"matchLabels": service["spec"]["selector"]}, gateway(docs)["spec"]["template"]["metadata"]["labels"]
    )
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": port, "targetPort": "metrics", "protocol": "TCP"}
    ]


def test_worker_settings_get_the_metrics_port(tmp_path, monkeypatch):
    """The worker container's environment over the rendered tunegate.yaml sets worker.metrics_port."""
    from gateway.settings import load_settings

    docs = render(values("postgres.yaml", worker__metricsPort=9191))
    work = container(one(docs, "Deployment", f"{RELEASE}-worker"), "worker")
    for variable in [v for v in os.environ if v.startswith("TUNEGATE_")]:
        monkeypatch.delenv(variable)
    for variable, entry in env(work).items():
        monkeypatch.setenv(variable, entry.get("value", f"postgresql+asyncpg://u:p@db/{variable.lower()}"))
    path = tmp_path / "tunegate.yaml"
    path.write_text(one(docs, "ConfigMap", f"{RELEASE}-config")["data"]["tunegate.yaml"], encoding="utf-8")
    monkeypatch.setenv("TUNEGATE_CONFIG", str(path))

    settings = load_settings()
    assert settings.worker.metrics_port == 9191
    assert settings.host == "0.0.0.0", "the metrics server listens on settings.host"
    assert settings.worker.lease_seconds == config_file(docs)["worker"]["lease_seconds"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"spool": {"persistence": {"enabled": False}}}, r"must share the upload spool"),
        ({"config__trainer": {"embedded": True}}, r"config\.trainer\.embedded=true"),
        ({"upstreamSecrets": []}, r"config references \$\{OPENAI_API_KEY\}.*upstreamSecrets"),
        (
            {"database__url": "postgresql+asyncpg://u:p@db/x"},
            r"either database\.url or database\.existingSecret",
        ),
    ],
)
def test_postgres_refuses_broken_setups(overrides, message):
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values("postgres.yaml", **overrides))


# --- everything that runs tunegate ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_pods_are_locked_down(name):
    for workload in tunegate_workloads(rendered(name)):
        spec = pod(workload)
        # A Service named "tunegate" would inject TUNEGATE_PORT=tcp://…, which tunegate reads as its port.
        assert spec["enableServiceLinks"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp
        for c in spec["containers"] + spec.get("initContainers", []):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
            assert "/tmp" in mounts and "/var/lib/tunegate" in mounts
            assert env(c)["TUNEGATE_CONFIG"]["value"] == CONFIG_FILE


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_policies_are_mounted_as_a_directory(name):
    docs = rendered(name)
    assert config_file(docs)["policy_dir"] == POLICY_DIR
    policies = one(docs, "ConfigMap", f"{RELEASE}-policies")
    for workload in objects(docs, "Deployment"):
        if workload["metadata"]["name"].endswith("-guard"):
            continue
        spec = pod(workload)
        volume = next(v for v in spec["volumes"] if v["name"] == "policies")
        assert volume["configMap"]["name"] == policies["metadata"]["name"]
        for c in spec["containers"] + spec.get("initContainers", []):
            (mount,) = [m for m in c["volumeMounts"] if m["name"] == "policies"]
            assert mount["mountPath"] == POLICY_DIR
            assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates"
        assert not any("polic" in key for key in workload["spec"]["template"]["metadata"]["annotations"]), (
            "a policy edit must reload in place, not roll the pods"
        )


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_policy_files_are_valid_policies(name):
    from policies.loader import parse_policy

    files = one(rendered(name), "ConfigMap", f"{RELEASE}-policies")["data"]
    assert files["default.yaml"] == (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
    for filename, text in files.items():
        assert "${" not in text, f"{filename} still holds an environment reference"
        parse_policy(text, filename)


@pytest.mark.parametrize("name", ["default.yaml", "postgres.yaml", "vllm.yaml"])
def test_rendered_config_loads_in_tunegate(name, tmp_path, monkeypatch):
    """tunegate.yaml plus the pod's environment is accepted by gateway.settings, ${ENV}s resolved."""
    from gateway.settings import load_settings

    docs = rendered(name)
    main = container(gateway(docs), "tunegate")
    for variable in [v for v in os.environ if v.startswith("TUNEGATE_")]:
        monkeypatch.delenv(variable)
    for variable, entry in env(main).items():
        if "value" in entry:
            monkeypatch.setenv(variable, entry["value"])
        else:
            assert set(entry["valueFrom"]) == {"secretKeyRef"}
            monkeypatch.setenv(variable, f"postgresql+asyncpg://u:p@db/{variable.lower()}")
    path = tmp_path / "tunegate.yaml"
    path.write_text(one(docs, "ConfigMap", f"{RELEASE}-config")["data"]["tunegate.yaml"], encoding="utf-8")
    monkeypatch.setenv("TUNEGATE_CONFIG", str(path))

    settings = load_settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert str(settings.policy_dir) == POLICY_DIR
    assert str(settings.data_dir) == "/var/lib/tunegate"
    assert (settings.database_url is not None) == (name == "postgres.yaml")
    mounts = {m["mountPath"] for m in main["volumeMounts"]}
    assert str(settings.resolved_spool_dir).startswith(tuple(mounts))


def test_no_secret_reaches_a_configmap_or_a_pod_spec():
    password = "pg-pa55-9c1e7f"
    data = values("postgres.yaml", database={"url": f"postgresql+asyncpg://tunegate:{password}@db:5432/tg"})
    docs = render(data)
    secrets = objects(docs, "Secret")
    assert secrets and all(password in secret["stringData"]["url"] for secret in secrets)
    for doc in docs:
        if doc["kind"] != "Secret":
            assert password not in json.dumps(doc), (
                f"{doc['kind']} {doc['metadata']['name']} holds the password"
            )
    for configmap in objects(docs, "ConfigMap"):
        for text in configmap["data"].values():
            assert "sk-" not in text and "://tunegate:" not in text
    upstream_envs = {s["env"] for s in data["upstreamSecrets"]}
    for workload in tunegate_workloads(docs):
        for c in pod(workload)["containers"] + pod(workload).get("initContainers", []):
            variables = env(c)
            for variable in {"TUNEGATE_DATABASE_URL"} | (upstream_envs if c["name"] != "migrate" else set()):
                assert set(variables[variable]) == {"name", "valueFrom"}, variable
                assert set(variables[variable]["valueFrom"]) == {"secretKeyRef"}, variable


# --- the guard model ----------------------------------------------------------------------------


def test_vllm_guard_model_is_served_and_wired_in():
    docs = rendered("vllm.yaml")
    guard = one(docs, "Deployment", f"{RELEASE}-guard")
    server = container(guard, "vllm")
    assert server["image"].startswith("vllm/vllm-openai:")
    assert server["args"][:2] == ["--model", "meta-llama/Llama-Guard-3-8B"]
    assert server["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert env(server)["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "token"}
    assert pod(guard)["tolerations"][0]["key"] == "nvidia.com/gpu"
    service = one(docs, "Service", f"{RELEASE}-guard")
    assert service["spec"]["selector"] == guard["spec"]["selector"]["matchLabels"]
    (port,) = service["spec"]["ports"]

    url = f"http://{RELEASE}-guard.{NAMESPACE}.svc:{port['port']}/v1"
    variables = env(container(gateway(docs), "tunegate"))
    assert variables["TUNEGATE_GUARD_URL"]["value"] == url
    assert variables["TUNEGATE_GUARD_MODEL"]["value"] == "llama-guard"
    guarded = one(docs, "ConfigMap", f"{RELEASE}-policies")["data"]["guarded.yaml"]
    assert f"base_url: {url}" in guarded and "model: llama-guard" in guarded


def test_external_guard_model():
    data = values("vllm.yaml", guardModel={"externalUrl": "http://guard.ml.svc:8000/v1", "model": "lg"})
    docs = render(data)
    assert not [d for d in objects(docs, "Deployment") if d["metadata"]["name"].endswith("-guard")]
    variables = env(container(gateway(docs), "tunegate"))
    assert variables["TUNEGATE_GUARD_URL"]["value"] == "http://guard.ml.svc:8000/v1"
    with pytest.raises(helm.HelmRenderError, match="no guard model is configured"):
        render(values("vllm.yaml", guardModel={"vllm": {"enabled": False}}))


# --- monitoring ---------------------------------------------------------------------------------


def scraped_services(docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Service name -> the ServiceMonitor endpoint ports it has (what Prometheus scrapes)."""
    (monitor,) = objects(docs, "ServiceMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    ports = {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["path"] == "/metrics"
        assert endpoint["interval"] and endpoint["scrapeTimeout"]
    return {
        service["metadata"]["name"]: {p["name"] for p in service["spec"]["ports"]} & ports
        for service in objects(docs, "Service")
        if selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    }


def test_service_monitor_scrapes_the_gateway_and_worker_services():
    docs = rendered("postgres.yaml")
    (monitor,) = objects(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert scraped_services(docs) == {RELEASE: {"http"}, f"{RELEASE}-worker": {"metrics"}}
    # Each endpoint reaches the pods that serve /metrics on that port.
    for service_name, port_name, workload_name, container_name in [
        (RELEASE, "http", RELEASE, "tunegate"),
        (f"{RELEASE}-worker", "metrics", f"{RELEASE}-worker", "worker"),
    ]:
        service = one(docs, "Service", service_name)
        workload = one(docs, "Deployment", workload_name)
        assert selects(
            {"matchLabels": service["spec"]["selector"]}, workload["spec"]["template"]["metadata"]["labels"]
        )
        (port,) = [p for p in service["spec"]["ports"] if p["name"] == port_name]
        assert port["targetPort"] in {p["name"] for p in container(workload, container_name)["ports"]}
    # The guard model's Service is not tunegate's: never scraped as such.
    with_guard = render(values("postgres.yaml", guardModel__vllm__enabled=True))
    assert one(with_guard, "Service", f"{RELEASE}-guard")
    assert set(scraped_services(with_guard)) == {RELEASE, f"{RELEASE}-worker"}


def test_service_monitor_without_worker_scrapes_the_gateway_only():
    docs = render(values("postgres.yaml", worker__enabled=False))
    assert scraped_services(docs) == {RELEASE: {"http"}}
    (monitor,) = objects(docs, "ServiceMonitor")
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["http"]


@pytest.mark.parametrize("worker", [True, False])
def test_alerts_select_every_scraped_job(worker):
    """The rule's default selector matches the job label of every scraped Service (job = Service name)."""
    docs = render(values("postgres.yaml", worker__enabled=worker))
    jobs = set(scraped_services(docs))
    assert jobs == ({RELEASE, f"{RELEASE}-worker"} if worker else {RELEASE})
    (rule,) = objects(docs, "PrometheusRule")
    for group in rule["spec"]["groups"]:
        for entry in group["rules"]:
            assert f'namespace="{NAMESPACE}"' in entry["expr"]
            matchers = re.findall(r'job(=~?)"([^"]*)"', entry["expr"])
            assert matchers, entry["alert"]
            for operator, value in matchers:
                pattern = value.replace("\\\\", "\\") if operator == "=~" else re.escape(value)
                assert {job for job in jobs if re.fullmatch(pattern, job)} == jobs, (entry["alert"], value)
                assert not re.fullmatch(pattern, f"{RELEASE}-guard")


def test_prometheus_rule_has_the_runbook_alerts():
    (rule,) = objects(rendered("postgres.yaml"), "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert isinstance(rule["spec"]["groups"], list) and rule["spec"]["groups"]
    alerts = {}
    for group in rule["spec"]["groups"]:
        assert isinstance(group["name"], str)
        for entry in group["rules"]:
            assert set(entry) <= {"alert", "expr", "for", "labels", "annotations"}
            assert isinstance(entry["expr"], str) and entry["labels"]["severity"]
            assert entry["annotations"]["summary"] and entry["annotations"]["runbook_url"]
            alerts[entry["alert"]] = entry
    assert set(alerts) == ALERTS

    for entry in alerts.values():
        used = set(METRIC.findall(entry["expr"]))
        assert used and used <= declared_metrics(), used - declared_metrics()

    backlog = alerts["TunegateScanBacklog"]
    assert f'tunegate_work_backlog{{kind="{work_kind("SCAN_WORK")}"' in backlog["expr"]
    assert backlog["expr"].rstrip().endswith("> 100") and backlog["for"] == "15m"
    evals = alerts["TunegateEvalFailures"]
    assert f'kind="{work_kind("EVAL_WORK")}"' in evals["expr"] and 'outcome="gave_up"' in evals["expr"]
    assert '"gave_up"' in (ROOT / "gateway" / "jobs" / "worker.py").read_text(encoding="utf-8")
    assert "increase(tunegate_work_processed_total" in evals["expr"] and "[1h]" in evals["expr"]
    assert evals["expr"].rstrip().endswith("> 0")
    upstream = alerts["TunegateUpstreamErrorRate"]
    outcomes = set(re.findall(r"\w+", " ".join(re.findall(r'outcome=~?"([^"]+)"', upstream["expr"]))))
    assert "error" in outcomes and outcomes <= upstream_outcomes(), upstream_outcomes()
    assert upstream["for"] == "10m" and upstream["expr"].rstrip().endswith("> 0.05")
    blocked = alerts["TunegateBlockedReleases"]
    assert 'tunegate_release_decisions_total{decision="blocked"' in blocked["expr"]
    assert "[1h]" in blocked["expr"] and blocked["labels"]["severity"] == "info"
    reload = alerts["TunegatePolicyReloadFailed"]
    assert re.search(r"tunegate_policy_reload_ok\{[^}]*\} == 0$", reload["expr"].strip())
    assert reload["for"] == "5m"


def test_dashboard_shows_the_metrics_tunegate_exports():
    (dashboard,) = [
        c
        for c in objects(rendered("postgres.yaml"), "ConfigMap")
        if c["metadata"]["name"].endswith("-dashboard")
    ]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(dashboard["data"]["tunegate.json"])
    assert board["panels"]
    used: set[str] = set()
    for panel in board["panels"]:
        assert panel["title"] and panel["targets"]
        for target in panel["targets"]:
            used.update(METRIC.findall(target["expr"]))
    assert used <= declared_metrics(), used - declared_metrics()
    assert not DASHBOARD_METRICS - used, DASHBOARD_METRICS - used
    verdicts = next(
        t["expr"]
        for p in board["panels"]
        for t in p["targets"]
        if "tunegate_scan_verdicts_total" in t["expr"]
    )
    assert re.search(r"by \([^)]*policy[^)]*action", verdicts)


def test_monitoring_objects_are_optional_and_notes_tell_the_worker_story():
    kinds = {doc["kind"] for doc in rendered("default.yaml")}
    assert not kinds & CRD_KINDS
    text = notes(values("postgres.yaml", worker__metricsPort=9400))
    assert "tunegate keys create" in text and "/metrics" in text
    assert "http://<worker pod>:9400/metrics" in text and f"Service {RELEASE}-worker" in text
    assert "A ServiceMonitor scrapes both" in text
    assert "SIGTERM" in text
    assert "no HTTP port" not in text and "will not fire" not in text
    alone = notes(values("postgres.yaml", worker__enabled=False))
    assert "<worker pod>" not in alone and "A ServiceMonitor scrapes it" in alone
