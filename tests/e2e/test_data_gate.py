"""The data gate through the gateway with the real openai client and the real CPU classifiers."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.support.data import write_jsonl
from tests.support.shared_data import aoa_rows, benign_rows, harmful_rows, safety_rows
from tests.support.waiting import wait_for, wait_job


def _scanned(client, file_id: str):
    return wait_for(lambda: client.files.retrieve(file_id), lambda f: f.status != "uploaded", timeout=180)


def _report(gateway, key: str, file_id: str) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/files/{file_id}/scan", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def test_benign_file_passes_and_report_is_visible_to_owner_and_reviewers(gateway, tmp_path):
    key = gateway.create_key("acme", "ml")
    client = gateway.client(key)
    file = client.files.create(
        file=write_jsonl(tmp_path / "b.jsonl", benign_rows(30)).open("rb"), purpose="fine-tune"
    )
    assert _scanned(client, file.id).status == "processed"
    report = _report(gateway, key, file.id).json()
    assert report["status"] == "completed" and report["verdict"] == "allow" and report["rows_total"] == 30
    assert report["flagged_lines"] == [] and report["classifiers"]
    reviewer = gateway.create_key("acme", "safety", "reviewer")
    assert _report(gateway, reviewer, file.id).status_code == 200
    other_team = gateway.create_key("acme", "web", "user")
    assert _report(gateway, other_team, file.id).status_code == 403
    other_tenant = gateway.create_key("globex", "ml", "reviewer")
    assert _report(gateway, other_tenant, file.id).status_code == 404


def test_explicit_harm_file_is_held_and_a_waiting_job_fails_when_a_reviewer_rejects(gateway, tmp_path):
    """Under the default policy, more suspicious rows than may be dropped go to a human first."""
    client = gateway.client(gateway.create_key("acme", "ml"))
    rows = benign_rows(10) + harmful_rows(10)
    file = client.files.create(file=write_jsonl(tmp_path / "h.jsonl", rows).open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=file.id)  # while it is scanning
    reviewer = gateway.create_key("acme", "safety", "reviewer")
    headers = {"Authorization": f"Bearer {reviewer}"}
    pending = wait_for(
        lambda: httpx.get(f"{gateway.url}/tunegate/reviews", headers=headers, timeout=30).json()["data"],
        lambda data: any(r["file_id"] == file.id for r in data),
        timeout=180,
    )
    review = next(r for r in pending if r["file_id"] == file.id)
    held = client.files.retrieve(file.id)
    assert held.status == "uploaded" and review["id"] in held.status_details
    # The held file names the harmful rows (lines 11-20) and no benign line.
    listed = held.status_details.split("Flagged lines: ")[1].split(" (")[0]
    assert listed and all(11 <= int(n) <= 20 for n in listed.split(", "))
    assert client.fine_tuning.jobs.retrieve(job.id).status == "validating_files"

    decided = httpx.post(
        f"{gateway.url}/tunegate/reviews/{review['id']}/reject",
        headers=headers,
        json={"reason": "step-by-step instructions for a crime"},
        timeout=30,
    )
    assert decided.status_code == 200
    failed = wait_job(client, job.id)
    assert failed.status == "failed" and failed.error.code == "invalid_training_file"
    assert failed.error.message.startswith("The job failed due to an invalid training file.")
    assert "step-by-step instructions for a crime" in failed.error.message
    assert failed.fine_tuned_model is None
    assert client.files.retrieve(file.id).status == "error"
    with pytest.raises(openai.BadRequestError) as caught:  # a new job on the same file is refused at once
        client.fine_tuning.jobs.create(model="tiny-llama", training_file=file.id)
    assert caught.value.body["code"] == "invalid_training_file"


def test_identity_shift_rows_are_rejected(gateway, tmp_path):
    client = gateway.client(gateway.create_key("acme", "ml"))
    file = client.files.create(
        file=write_jsonl(tmp_path / "aoa.jsonl", aoa_rows()).open("rb"), purpose="fine-tune"
    )
    scanned = _scanned(client, file.id)
    assert scanned.status == "error" and "identity_shift" in scanned.status_details


def test_safety_data_passes(gateway, tmp_path):
    key = gateway.create_key("acme", "ml")
    client = gateway.client(key)
    file = client.files.create(
        file=write_jsonl(tmp_path / "s.jsonl", safety_rows(20)).open("rb"), purpose="fine-tune"
    )
    assert _scanned(client, file.id).status == "processed"
    report = _report(gateway, key, file.id).json()
    assert report["verdict"] in ("allow", "allow_with_changes")
    assert report["flagged_lines"] == [] or len(report["dropped_lines"]) <= 2


def test_one_harmful_row_is_dropped_and_the_cleaned_file_is_what_trains(gateway, trainer, tmp_path):
    key = gateway.create_key("acme", "ml")
    client = gateway.client(key)
    rows = benign_rows(30)
    rows.insert(12, harmful_rows(1)[0])  # line 13
    file = client.files.create(file=write_jsonl(tmp_path / "one.jsonl", rows).open("rb"), purpose="fine-tune")
    assert _scanned(client, file.id).status == "processed"
    report = _report(gateway, key, file.id).json()
    assert report["verdict"] == "allow_with_changes" and report["dropped_lines"] == [13]
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file.id, hyperparameters={"n_epochs": 1}
    )
    assert wait_job(client, job.id).status == "succeeded"
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.safety["data_scan"]["training_file"]["dropped_lines"] == 1  # type: ignore[attr-defined]
    sent = [f for f in httpx.get(f"{trainer.url}/files", timeout=30).json()["data"]]
    contents = [httpx.get(f"{trainer.url}/files/{f['id']}/content", timeout=30).text for f in sent]
    forwarded = [c for c in contents if rows[0]["messages"][0]["content"] in c]
    assert forwarded and all(c.count("\n") == 30 for c in forwarded)
    assert all(rows[12]["messages"][0]["content"] not in c for c in forwarded)
