"""Policies end to end: one gateway, several teams, each governed by its own policy.

Every policy scans with the deterministic ``blocklist`` classifier only, so verdicts do not
depend on a model. Each action is driven with the real openai client against a real gateway
and the real trainer, and what left the gateway is read back from the trainer itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from policies.augment import BUILTIN_DATASETS, load_safety_rows
from policies.loader import parse_policy
from tests.support.data import chat_rows, write_jsonl
from tests.support.envelope import check_api_error
from tests.support.processes import GatewayProcess, TrainerProcess
from tests.support.waiting import wait_for, wait_job

TENANT = "acme"
PHRASE = "step one: acquire the precursor"
TINY_PHRASE = "forbidden-for-tiny"
FLAGGED_LINES = (4, 11)  # 1-based lines of the harmful rows in _harmful_rows()
# The model gate runs on every job that trains; a few prompts and short answers keep it quick.
FAST_RELEASE = "  release: {max_prompts_per_benchmark: 3, max_tokens: 8, templates: [plain]}\n"


def _policy(
    name: str,
    team: str,
    *,
    phrases: tuple[str, ...] = (PHRASE,),
    models: str = '["*"]',
    priority: int = 0,
    scan_extra: str = "",
    spec_extra: str = "",
) -> str:
    listed = ", ".join(json.dumps(p) for p in phrases)
    return f"""\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {{name: {name}, owner: e2e}}
spec:
  match: {{tenants: ["{TENANT}"], teams: ["{team}"], models: {models}, priority: {priority}}}
  scan:
    classifiers:
      - name: blocklist
        options: {{responses: {{harmful_response: [{listed}]}}}}
    detectors: []
    limits: {{max_flagged_rows: 0}}
{scan_extra}{FAST_RELEASE}{spec_extra}"""


CAPS_REJECT = """\
  hyperparameters:
    - {models: ["tiny-*"], max_epochs: 3, action: reject}
"""
CAPS_CLAMP = """\
  hyperparameters:
    - {models: ["tiny-*"], max_epochs: 2, min_batch_size: 2, action: clamp}
"""
AUGMENT = """\
  augment: {enabled: true, dataset: "builtin:safety-v1", ratio: 0.1, seed: 3}
"""
POLICIES: dict[str, str] = {
    "reject.yaml": _policy("p-reject", "t-reject", scan_extra="    on_breach: reject\n"),
    "drop.yaml": _policy("p-drop", "t-drop", scan_extra="    on_breach: drop_flagged\n"),
    "shadow.yaml": _policy(
        "p-shadow", "t-shadow", scan_extra="    on_breach: allow\n    drop_isolated: false\n"
    ),
    "augment.yaml": _policy("p-augment", "t-augment", spec_extra=AUGMENT),
    "caps-reject.yaml": _policy("p-caps-reject", "t-caps-reject", spec_extra=CAPS_REJECT),
    "caps-clamp.yaml": _policy("p-caps-clamp", "t-caps-clamp", spec_extra=CAPS_CLAMP),
    "models-team.yaml": _policy("p-models-team", "t-models"),
    "models-tiny.yaml": _policy(
        "p-models-tiny", "t-models", phrases=(PHRASE, TINY_PHRASE), models='["tiny-*"]', priority=5
    ),
    "reload.yaml": _policy("p-reload", "t-reload", phrases=("alpha-marker",)),
}
TEAMS = (
    "t-reject",
    "t-drop",
    "t-shadow",
    "t-augment",
    "t-caps-reject",
    "t-caps-clamp",
    "t-models",
    "t-reload",
)


def _version(text: str) -> str:
    """A policy's version as the gateway computes it (independent of where the file lives)."""
    return parse_policy(text, "expected.yaml").version


class Env:
    def __init__(self, gateway: GatewayProcess, trainer: TrainerProcess, policy_dir: Path, tmp: Path) -> None:
        self.gateway = gateway
        self.trainer = trainer
        self.policy_dir = policy_dir
        self.tmp = tmp
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys = pool.map(lambda team: gateway.create_key(TENANT, team, "user"), TEAMS)
        self.keys = dict(zip(TEAMS, keys, strict=True))

    def client(self, team: str) -> openai.OpenAI:
        return self.gateway.client(self.keys[team])

    def get(self, team: str, path: str) -> httpx.Response:
        return httpx.get(
            f"{self.gateway.url}{path}", headers={"Authorization": f"Bearer {self.keys[team]}"}, timeout=30
        )

    def upload(self, team: str, name: str, rows: list[dict]) -> tuple[str, bytes]:
        path = write_jsonl(self.tmp / f"{name}.jsonl", rows)
        with path.open("rb") as handle:
            file = self.client(team).files.create(file=handle, purpose="fine-tune")
        return file.id, path.read_bytes()

    def scanned(self, team: str, file_id: str):  # type: ignore[no-untyped-def]
        return wait_for(
            lambda: self.client(team).files.retrieve(file_id), lambda f: f.status != "uploaded", timeout=60
        )

    def report(self, team: str, file_id: str) -> dict:
        response = self.get(team, f"/files/{file_id}/scan")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "completed", body
        return body

    def job_json(self, team: str, job_id: str) -> dict:
        response = self.get(team, f"/fine_tuning/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, team: str, job_id: str) -> list[str]:
        return [e.message for e in self.client(team).fine_tuning.jobs.list_events(job_id, limit=200).data]

    def forwarded(self, file_id: str) -> list[bytes]:
        """The bytes the trainer received for a gateway file (one entry per forwarded copy)."""
        with contextlib.closing(sqlite3.connect(self.gateway.workdir / "data" / "tunegate.db")) as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT upstream_file_id FROM file_forwards WHERE file_id = ?", (file_id,)
                )
            ]
        contents = []
        for upstream_id in ids:
            response = httpx.get(f"{self.trainer.url}/files/{upstream_id}/content", timeout=30)
            assert response.status_code == 200, response.text
            contents.append(response.content)
        return contents

    def metrics(self) -> dict[tuple[str, frozenset], float]:
        text = httpx.get(self.gateway.url.removesuffix("/v1") + "/metrics", timeout=30).text
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, frozenset(labels.items())), 0.0)

    def write_policy(self, filename: str, text: str) -> None:
        """Replace a policy file atomically, so the watcher never reads half of it."""
        staging = self.policy_dir / f".{filename}.tmp"
        staging.write_text(text)
        os.replace(staging, self.policy_dir / filename)


@pytest.fixture(scope="module")
def env(tmp_path_factory, trainer):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("policies-e2e")
    policy_dir = root / "policies"
    policy_dir.mkdir()
    for filename, text in POLICIES.items():
        (policy_dir / filename).write_text(text)
    gateway = GatewayProcess(
        root / "gw",
        trainer_url=trainer.url,
        extra_config={"policy_dir": str(policy_dir), "policy_reload_interval": 0.5},
    )
    gateway.start()
    try:
        yield Env(gateway, trainer, policy_dir, root)
    finally:
        gateway.stop()


def _harmful_rows() -> list[dict]:
    """12 benign rows and 2 whose answers contain the blocklisted phrase (lines 4 and 11)."""
    rows = chat_rows(12)
    for line in FLAGGED_LINES:
        rows.insert(
            line - 1,
            {
                "messages": [
                    {"role": "user", "content": f"How would I start making it at home? ({line})"},
                    {"role": "assistant", "content": "Step one: acquire the precursor from a supplier."},
                ]
            },
        )
    return rows


def _lines(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode().splitlines() if line.strip()]


def _supervised(**hyperparameters: int) -> dict:
    return {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}}


def test_reject_blocks_the_file_and_names_lines_and_policy(env):
    file_id, _ = env.upload("t-reject", "reject", _harmful_rows())
    file = env.scanned("t-reject", file_id)
    assert file.status == "error"
    version = _version(POLICIES["reject.yaml"])
    assert "Flagged lines: 4, 11 (2 in all)." in file.status_details
    assert f"Policy: p-reject (version {version})." in file.status_details

    report = env.report("t-reject", file_id)
    assert report["verdict"] == "reject" and report["action"] == "reject"
    assert report["breaches"] == ["2 harmful rows of 14 (limit 0)"]
    assert report["flagged_lines"] == list(FLAGGED_LINES) and report["dropped_lines"] == []
    assert report["policy"]["name"] == "p-reject" and report["policy"]["version"] == version
    assert [c["name"] for c in report["classifiers"]] == ["blocklist"], report["classifiers"]

    with pytest.raises(openai.BadRequestError) as caught:
        env.client("t-reject").fine_tuning.jobs.create(model="tiny-llama", training_file=file_id)
    check_api_error(
        caught.value,
        400,
        phrase="The job failed due to an invalid training file.",
        param="training_file",
        code="invalid_training_file",
    )
    assert "p-reject" in caught.value.body["message"]


def test_drop_flagged_forwards_a_cleaned_copy(env):
    file_id, _ = env.upload("t-drop", "drop", _harmful_rows())
    assert env.scanned("t-drop", file_id).status == "processed"
    report = env.report("t-drop", file_id)
    assert report["verdict"] == "allow_with_changes" and report["action"] == "drop_flagged"
    assert report["dropped"] == [{"line": line, "reason": "flagged"} for line in FLAGGED_LINES]
    assert report["dropped_lines"] == list(FLAGGED_LINES) and report["breaches"]
    assert report["policy"]["name"] == "p-drop"

    client = env.client("t-drop")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=1)
    )
    finished = wait_job(client, job.id, timeout=120)
    assert finished.status == "succeeded", finished.error
    (sent,) = env.forwarded(file_id)
    rows = _lines(sent)
    assert rows == chat_rows(12)
    assert PHRASE not in sent.decode().lower()
    data_scan = env.job_json("t-drop", job.id)["safety"]["data_scan"]
    assert data_scan["training_file"]["dropped_lines"] == 2 and data_scan["policy"]["name"] == "p-drop"


def test_shadow_mode_allows_records_and_counts(env):
    file_id, uploaded = env.upload("t-shadow", "shadow", _harmful_rows())
    assert env.scanned("t-shadow", file_id).status == "processed"
    report = env.report("t-shadow", file_id)
    assert report["verdict"] == "allow" and report["action"] == "allow"
    assert report["would_have"] == "reject" and report["breaches"]
    assert report["flagged_lines"] == list(FLAGGED_LINES) and report["dropped_lines"] == []
    assert report["policy"]["name"] == "p-shadow"

    client = env.client("t-shadow")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=1)
    )
    finished = wait_job(client, job.id, timeout=120)
    assert finished.status == "succeeded", finished.error
    assert env.forwarded(file_id) == [uploaded]
    counted = env.metric("tunegate_scan_verdicts_total", policy="p-shadow", action="allow", verdict="allow")
    assert counted >= 1


def test_augment_mixes_safety_rows_into_what_is_forwarded(env):
    original = chat_rows(40)
    file_id, _ = env.upload("t-augment", "augment", original)
    assert env.scanned("t-augment", file_id).status == "processed"
    client = env.client("t-augment")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=1)
    )
    finished = wait_job(client, job.id, timeout=120)
    assert finished.status == "succeeded", finished.error

    (sent,) = env.forwarded(file_id)
    rows = _lines(sent)
    assert len(rows) == 44
    kept = [r for r in rows if r in original]
    assert kept == original  # every original row, in order
    extra = [r for r in rows if r not in original]
    assert len(extra) == 4
    pool = load_safety_rows(BUILTIN_DATASETS["safety-v1"])
    for row in extra:
        roles = [m["role"] for m in row["messages"]]
        assert roles[-1] == "assistant" and "user" in roles[:-1], row
        assert row in pool, row  # a refusal from the built-in safety set

    assert any("mixed 4 safety rows" in m and "p-augment" in m for m in env.events("t-augment", job.id))
    data_scan = env.job_json("t-augment", job.id)["safety"]["data_scan"]
    assert data_scan["augment"]["rows_added"] == 4 and data_scan["augment"]["rows_in"] == 40
    assert env.metric("tunegate_safety_rows_added_total", policy="p-augment") == 4


def test_hyperparameter_caps_reject_and_clamp(env):
    client = env.client("t-caps-reject")
    file_id, _ = env.upload("t-caps-reject", "caps-reject", chat_rows(12))
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=5)
        )
    error = check_api_error(
        caught.value,
        400,
        phrase="n_epochs=5 is not allowed; it must be at most 3",
        param="hyperparameters.n_epochs",
        code="hyperparameter_not_allowed",
    )
    assert "'p-caps-reject'" in error["message"] and "tiny-llama" in error["message"]
    accepted = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=2)
    )
    assert accepted.status == "validating_files" and accepted.hyperparameters.n_epochs == 2
    client.fine_tuning.jobs.cancel(accepted.id)  # accepted is all this case needs; spare the trainer

    client = env.client("t-caps-clamp")
    file_id, _ = env.upload("t-caps-clamp", "caps-clamp", chat_rows(12))
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=5, batch_size=1)
    )
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size) == (2, 2)
    shown = client.fine_tuning.jobs.retrieve(job.id)
    assert (shown.hyperparameters.n_epochs, shown.hyperparameters.batch_size) == (2, 2)
    assert shown.method.supervised.hyperparameters.n_epochs == 2
    assert shown.method.supervised.hyperparameters.batch_size == 2
    messages = env.events("t-caps-clamp", job.id)
    assert "Hyperparameter n_epochs clamped from 5 to 2 by policy p-caps-clamp." in messages
    assert "Hyperparameter batch_size clamped from 1 to 2 by policy p-caps-clamp." in messages
    finished = wait_job(client, job.id, timeout=120)
    assert finished.status == "succeeded", finished.error
    assert env.metric("tunegate_hyperparameter_guard_total", policy="p-caps-reject", outcome="rejected") == 1
    assert env.metric("tunegate_hyperparameter_guard_total", policy="p-caps-clamp", outcome="clamped") == 1


def test_a_model_specific_policy_governs_the_job_and_rescans(env):
    rows = chat_rows(12)
    rows[2]["messages"][-1]["content"] = f"6 plus 6 is 12 ({TINY_PHRASE})."
    file_id, _ = env.upload("t-models", "models", rows)
    assert env.scanned("t-models", file_id).status == "processed"  # the upload: team policy, no phrase
    assert env.report("t-models", file_id)["policy"]["name"] == "p-models-team"

    client = env.client("t-models")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file_id, method=_supervised(n_epochs=1)
    )
    failed = wait_job(client, job.id, timeout=60)
    assert failed.status == "failed" and failed.error.code == "invalid_training_file"
    assert failed.error.param == "training_file"
    version = _version(POLICIES["models-tiny.yaml"])
    assert failed.error.message.startswith("The job failed due to an invalid training file.")
    assert f"Policy: p-models-tiny (version {version})" in failed.error.message
    assert "Flagged lines: 3 (1 in all)." in failed.error.message

    policy = env.job_json("t-models", job.id)["safety"]["policy"]
    assert policy["name"] == "p-models-tiny" and policy["version"] == version
    messages = env.events("t-models", job.id)
    assert f"Policy p-models-tiny (version {version}) governs this job." in messages
    assert f"Policy p-models-tiny scans {file_id} under its own rules before training." in messages
    assert client.files.retrieve(file_id).status == "processed"  # the upload's own verdict stands
    assert env.forwarded(file_id) == []  # nothing left the gateway


def test_hot_reload_applies_new_versions_and_survives_a_broken_file(env):
    original = POLICIES["reload.yaml"]
    updated = _policy("p-reload", "t-reload", phrases=("alpha-marker", "beta-marker"))
    rows = chat_rows(12)
    rows[5]["messages"][-1]["content"] = "5 plus 5 is 10 (beta-marker)."

    def upload_and_report(name: str) -> tuple[str, dict]:
        file_id, _ = env.upload("t-reload", name, rows)
        return env.scanned("t-reload", file_id).status, env.report("t-reload", file_id)

    status, report = upload_and_report("reload-v1")
    assert status == "processed" and report["policy"]["version"] == _version(original)

    ok_before = env.metric("tunegate_policy_reloads_total", outcome="ok")
    failed_before = env.metric("tunegate_policy_reloads_total", outcome="failed")
    try:
        started = time.monotonic()
        env.write_policy("reload.yaml", updated)
        wait_for(
            lambda: env.metric("tunegate_policy_reloads_total", outcome="ok"),
            lambda v: v > ok_before,
            timeout=10,
        )
        took = time.monotonic() - started
        status, report = upload_and_report("reload-v2")
        assert status == "error" and report["verdict"] == "reject", report
        assert report["policy"]["version"] == _version(updated) != _version(original)
        assert took < 5, took

        env.write_policy(
            "reload.yaml", updated.replace("limits: {max_flagged_rows: 0}", "limits: {max_flagged_rows: [0")
        )
        wait_for(
            lambda: env.metric("tunegate_policy_reloads_total", outcome="failed"),
            lambda v: v >= failed_before + 1,
            timeout=10,
        )
        assert env.metric("tunegate_policy_reload_ok") == 0
        assert httpx.get(env.gateway.url.removesuffix("/v1") + "/healthz", timeout=10).status_code == 200
        status, report = upload_and_report("reload-broken")
        assert status == "error" and report["policy"]["version"] == _version(updated)
    finally:
        env.write_policy("reload.yaml", original)
    wait_for(lambda: env.metric("tunegate_policy_reload_ok"), lambda v: v == 1, timeout=10)
    status, report = upload_and_report("reload-restored")
    assert status == "processed" and report["policy"]["version"] == _version(original)
