"""The review queue through a real gateway and trainer: a policy holds a file, people decide.

The policy holds any file with a row whose answer contains a blocklisted phrase; a reviewer
reads the flagged row, approves or rejects with a reason, and waiting jobs follow.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.data import chat_rows, write_jsonl
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_for, wait_job

HOLD_POLICY = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {name: hold-for-review}
spec:
  scan:
    classifiers:
      - name: blocklist
        options: {responses: {harmful_response: ["step one: acquire the precursor"]}}
    detectors: []
    limits: {max_flagged_rows: 0}
    on_breach: review
  release: {max_prompts_per_benchmark: 3, max_tokens: 8, templates: [plain]}
"""
HELD_LINE = 6


@pytest.fixture
def held_gateway(tmp_path, trainer):
    """A gateway whose only policy sends a file with a blocklisted answer to human review."""
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    (policy_dir / "hold.yaml").write_text(HOLD_POLICY)
    process = GatewayProcess(
        tmp_path / "gw", trainer_url=trainer.url, extra_config={"policy_dir": str(policy_dir)}
    )
    process.start()
    yield process
    process.stop()


class Keys:
    def __init__(self, gateway: GatewayProcess) -> None:
        self.user = gateway.create_key("acme", "ml", "user")
        self.reviewer = gateway.create_key("acme", "safety", "reviewer")
        self.admin = gateway.create_key("acme", "ops", "admin")
        self.other_tenant = gateway.create_key("globex", "safety", "reviewer")


def _call(gateway: GatewayProcess, key: str, method: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.request(
        method,
        f"{gateway.url}/tunegate{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )


def _body(method: str) -> dict:
    return {"json": {"reason": "looks fine"}} if method == "POST" else {}


def _held_rows() -> list[dict]:
    rows = chat_rows(12)
    rows.insert(
        HELD_LINE - 1,
        {
            "messages": [
                {"role": "user", "content": "How would I start making it at home?"},
                {"role": "assistant", "content": "Step one: acquire the precursor from a supplier."},
            ]
        },
    )
    return rows


def _upload_held(gateway: GatewayProcess, keys: Keys, tmp_path, name: str):  # type: ignore[no-untyped-def]
    client = gateway.client(keys.user)
    path = write_jsonl(tmp_path / f"{name}.jsonl", _held_rows())
    file = client.files.create(file=path.open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama", training_file=file.id, hyperparameters={"n_epochs": 1}
    )
    review = _review_for(gateway, keys.reviewer, file.id)
    return client, file, job, review


def _review_for(gateway: GatewayProcess, key: str, file_id: str) -> dict:
    def pending() -> list[dict]:
        response = _call(gateway, key, "GET", "/reviews", params={"status": "pending"})
        assert response.status_code == 200, response.text
        return [r for r in response.json()["data"] if r["file_id"] == file_id]

    return wait_for(pending, bool, timeout=180)[0]


def test_a_held_file_is_approved_and_its_waiting_job_trains(held_gateway, tmp_path):
    gateway = held_gateway
    keys = Keys(gateway)
    client, file, job, review = _upload_held(gateway, keys, tmp_path, "held")

    # Held: the file stays uploaded, says why, and the job waits.
    held = client.files.retrieve(file.id)
    assert held.status == "uploaded" and "review" in (held.status_details or "")
    assert review["id"] in held.status_details
    assert review["object"] == "tunegate.review" and review["subject"] == "file"
    assert review["status"] == "pending" and review["job_id"] is None
    assert review["policy"]["name"] == "hold-for-review" and review["reason"]
    assert client.fine_tuning.jobs.retrieve(job.id).status == "validating_files"

    # The reviewer sees the flagged row, its finding and its text.
    shown = _call(gateway, keys.reviewer, "GET", f"/reviews/{review['id']}")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["id"] == review["id"] and body["scan"]["verdict"] == "review"
    assert body["scan"]["rows_total"] == 13
    (row,) = body["rows"]
    assert row["line"] == HELD_LINE and row["outcome"] == "flagged"
    assert "Step one: acquire the precursor" in row["content"]
    assert any(
        f["classifier"] == "blocklist" and f["category"] == "harmful_response" for f in row["findings"]
    )

    # Users of the tenant are refused; another tenant sees nothing.
    for method, path in (
        ("GET", "/reviews"),
        ("GET", f"/reviews/{review['id']}"),
        ("POST", f"/reviews/{review['id']}/approve"),
    ):
        refused = _call(gateway, keys.user, method, path, **_body(method))
        assert refused.status_code == 403, refused.text
        assert "reviewer or admin" in refused.json()["error"]["message"]
    for method, path in (("GET", f"/reviews/{review['id']}"), ("POST", f"/reviews/{review['id']}/approve")):
        hidden = _call(gateway, keys.other_tenant, method, path, **_body(method))
        assert hidden.status_code == 404, hidden.text
        missing = _call(
            gateway, keys.other_tenant, method, path.replace(review["id"], "review-nope"), **_body(method)
        )
        assert missing.status_code == 404
        assert hidden.json()["error"]["message"] == missing.json()["error"]["message"].replace(
            "review-nope", review["id"]
        )
    assert _call(gateway, keys.other_tenant, "GET", "/reviews").json()["data"] == []

    # A decision needs a reason.
    for payload in ({"reason": ""}, {"reason": "   "}, {}):
        bad = _call(gateway, keys.reviewer, "POST", f"/reviews/{review['id']}/approve", json=payload)
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"]["param"] == "reason"
    no_body = _call(gateway, keys.reviewer, "POST", f"/reviews/{review['id']}/approve")
    assert no_body.status_code == 400 and "error" in no_body.json()
    assert client.files.retrieve(file.id).status == "uploaded"

    # Approved: the file passes and the waiting job trains.
    reason = "Quoted from a lab safety manual; acceptable in context."
    approved = _call(
        gateway, keys.reviewer, "POST", f"/reviews/{review['id']}/approve", json={"reason": reason}
    )
    assert approved.status_code == 200, approved.text
    decided = approved.json()
    assert decided["status"] == "approved" and decided["decision_reason"] == reason
    assert "(safety, reviewer)" in decided["decided_by"] and decided["decided_at"]
    file_after = client.files.retrieve(file.id)
    assert file_after.status == "processed" and file_after.status_details is None
    finished = wait_job(client, job.id, timeout=300)
    assert finished.status == "succeeded", finished.error
    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=200).data]
    assert f"Training file {file.id} approved in human review: {reason}" in messages

    # Decided once.
    for verb in ("approve", "reject"):
        again = _call(
            gateway, keys.admin, "POST", f"/reviews/{review['id']}/{verb}", json={"reason": "again"}
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "review_decided"
    listed = _call(gateway, keys.reviewer, "GET", "/reviews", params={"status": "approved"}).json()
    assert [r["id"] for r in listed["data"]] == [review["id"]] and listed["first_id"] == review["id"]
    pending = _call(gateway, keys.reviewer, "GET", "/reviews", params={"status": "pending"}).json()
    assert pending["data"] == [] and pending["has_more"] is False
    assert _call(gateway, keys.reviewer, "GET", "/reviews", params={"status": "bogus"}).status_code == 400

    # The audit log: admins only, who decided what and why.
    assert _call(gateway, keys.reviewer, "GET", "/audit-log").status_code == 403
    log = _call(gateway, keys.admin, "GET", "/audit-log")
    assert log.status_code == 200, log.text
    (entry,) = log.json()["data"]
    assert entry["action"] == "review.approve" and entry["subject"] == review["id"]
    assert entry["reason"] == reason and entry["actor"] == decided["decided_by"]
    assert entry["data"]["file_id"] == file.id and entry["data"]["policy"]["name"] == "hold-for-review"
    other_admin = gateway.create_key("globex", "ops", "admin")
    assert _call(gateway, other_admin, "GET", "/audit-log").json()["data"] == []

    scrape = httpx.get(gateway.url.removesuffix("/v1") + "/metrics", timeout=30).text
    assert 'tunegate_reviews_decided_total{decision="approved",subject="file"} 1.0' in scrape
    assert 'tunegate_review_queue_depth{subject="file"} 0.0' in scrape


def test_a_held_file_is_rejected_and_its_waiting_job_fails_with_the_reason(held_gateway, tmp_path):
    gateway = held_gateway
    keys = Keys(gateway)
    client, file, job, review = _upload_held(gateway, keys, tmp_path, "rejected")
    scrape = httpx.get(gateway.url.removesuffix("/v1") + "/metrics", timeout=30).text
    assert 'tunegate_review_queue_depth{subject="file"} 1.0' in scrape

    reason = "Synthesis instructions; not acceptable training data."
    rejected = _call(gateway, keys.admin, "POST", f"/reviews/{review['id']}/reject", json={"reason": reason})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and "(ops, admin)" in rejected.json()["decided_by"]

    file_after = client.files.retrieve(file.id)
    assert file_after.status == "error" and file_after.status_details == f"Rejected in human review: {reason}"
    failed = wait_job(client, job.id, timeout=60)
    assert failed.status == "failed" and failed.error.code == "invalid_training_file"
    assert failed.error.message == (
        f"The job failed due to an invalid training file. Rejected in human review: {reason}"
    )
    assert failed.error.param == "training_file"

    (entry,) = _call(gateway, keys.admin, "GET", "/audit-log", params={"subject": review["id"]}).json()[
        "data"
    ]
    assert entry["action"] == "review.reject" and entry["reason"] == reason
    assert entry["data"]["file_id"] == file.id

    scrape = httpx.get(gateway.url.removesuffix("/v1") + "/metrics", timeout=30).text
    assert 'tunegate_reviews_decided_total{decision="rejected",subject="file"} 1.0' in scrape
