"""The tenant is the boundary on every route: another tenant's objects are unknown, never forbidden.

Tenant A ("acme") builds a file, a pending upload with one part, a completed upload and a
fine-tuning job that trains and releases a model on the real trainer. Tenant B ("globex") then
tries every route on those objects and must get 404 (a 403 or 409 would confirm they exist),
and sees none of them in any list. A is unharmed afterwards. A second key of tenant A, on
another team, sees all of A's objects: teams are recorded, not separated.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest

from tests.support.data import chat_rows
from tests.support.envelope import check_api_error, check_error
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_job

TRAINING = "".join(json.dumps(row) + "\n" for row in chat_rows(12)).encode()
JOB_ID_PARAM = "fine_tuning_job_id"


@dataclass
class TenantA:
    file_id: str
    pending_upload: str
    pending_part: str
    completed_upload: str
    completed_file: str
    job_id: str
    model: str
    checkpoint_models: list[str]
    event_ids: list[str]
    upstream_model: str

    @property
    def file_ids(self) -> set[str]:
        return {self.file_id, self.completed_file}

    @property
    def model_names(self) -> set[str]:
        return {self.model, *self.checkpoint_models}


@pytest.fixture(scope="module")
def gw(trainer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("isolation") / "gw", trainer_url=trainer.url)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def acme(gw: GatewayProcess) -> openai.OpenAI:
    return gw.client(gw.create_key("acme", "ml"))


@pytest.fixture(scope="module")
def acme_research(gw: GatewayProcess) -> openai.OpenAI:
    return gw.client(gw.create_key("acme", "research"))


@pytest.fixture(scope="module")
def globex(gw: GatewayProcess) -> openai.OpenAI:
    return gw.client(gw.create_key("globex", "ml"))


def _db(gw: GatewayProcess, query: str, *args: str) -> list[tuple]:
    with sqlite3.connect(gw.workdir / "data" / "tunegate.db") as db:
        return db.execute(query, args).fetchall()


@pytest.fixture(scope="module")
def a(gw: GatewayProcess, acme: openai.OpenAI) -> TenantA:
    """Everything tenant A owns, with the job trained and its model released."""
    file = acme.files.create(file=("train.jsonl", TRAINING), purpose="fine-tune")

    pending = acme.uploads.create(
        bytes=len(TRAINING), filename="pending.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    part = acme.uploads.parts.create(pending.id, data=TRAINING)

    completed = acme.uploads.create(
        bytes=len(TRAINING), filename="done.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    halves = [
        acme.uploads.parts.create(completed.id, data=chunk).id for chunk in (TRAINING[:700], TRAINING[700:])
    ]
    completed = acme.uploads.complete(completed.id, part_ids=halves)
    assert completed.status == "completed" and completed.file is not None

    job = acme.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=file.id,
        validation_file=completed.file.id,
        suffix="iso",
        metadata={"owner": "acme"},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    finished = wait_job(acme, job.id)
    assert finished.status == "succeeded", finished.error
    assert finished.fine_tuned_model and finished.fine_tuned_model.startswith("ft:tiny-llama:acme:iso:")

    checkpoints = acme.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints, "the trainer reported no checkpoints"
    events = acme.fine_tuning.jobs.list_events(job.id, limit=100).data
    [(upstream_model,)] = _db(gw, "SELECT upstream_model FROM jobs WHERE id = ?", job.id)
    return TenantA(
        file_id=file.id,
        pending_upload=pending.id,
        pending_part=part.id,
        completed_upload=completed.id,
        completed_file=completed.file.id,
        job_id=job.id,
        model=finished.fine_tuned_model,
        checkpoint_models=[c.fine_tuned_model_checkpoint for c in checkpoints],
        event_ids=[e.id for e in events],
        upstream_model=upstream_model,
    )


def expect_not_found(call: Callable[[], object], *, phrase: str, param: str, code: str = "not_found") -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        call()
    check_api_error(caught.value, 404, phrase=phrase, param=param, code=code)


# --- tenant B on A's objects ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["retrieve", "delete", "content"])
@pytest.mark.parametrize("which", ["file", "upload-file"])
def test_files_of_another_tenant_are_unknown(a: TenantA, globex: openai.OpenAI, operation: str, which: str):
    file_id = a.file_id if which == "file" else a.completed_file
    expect_not_found(
        lambda: getattr(globex.files, operation)(file_id),
        phrase=f"No such File object: {file_id}",
        param="id",
    )


@pytest.mark.parametrize("which", ["file", "upload-file"])
def test_scan_reports_of_another_tenant_are_unknown(
    gw: GatewayProcess, a: TenantA, acme: openai.OpenAI, globex: openai.OpenAI, which: str
):
    # GET /v1/files/{id}/scan is tunegate's own route, so the SDK has no method for it.
    file_id = a.file_id if which == "file" else a.completed_file
    url = f"{gw.url}/files/{file_id}/scan"
    response = httpx.get(url, headers={"Authorization": f"Bearer {globex.api_key}"})
    check_error(response, 404, phrase=f"No such File object: {file_id}", param="id", code="not_found")
    assert httpx.get(url, headers={"Authorization": f"Bearer {acme.api_key}"}).status_code == 200


@pytest.mark.parametrize("which", ["pending", "completed"])
@pytest.mark.parametrize("operation", ["parts", "complete", "cancel"])
def test_uploads_of_another_tenant_are_unknown(a: TenantA, globex: openai.OpenAI, operation: str, which: str):
    # A completed upload must answer 404 too: 409 "already completed" would confirm that it exists.
    upload_id = a.pending_upload if which == "pending" else a.completed_upload
    calls = {
        "parts": lambda: globex.uploads.parts.create(upload_id, data=b'{"messages": []}\n'),
        "complete": lambda: globex.uploads.complete(upload_id, part_ids=[a.pending_part]),
        "cancel": lambda: globex.uploads.cancel(upload_id),
    }
    expect_not_found(calls[operation], phrase=f"No such Upload object: {upload_id}", param="upload_id")


@pytest.mark.parametrize("operation", ["retrieve", "cancel", "pause", "resume", "list_events", "checkpoints"])
def test_jobs_of_another_tenant_are_unknown(a: TenantA, globex: openai.OpenAI, operation: str):
    # The job has finished, so for A cancel/pause/resume would be 409: B must still see 404.
    jobs = globex.fine_tuning.jobs
    call = (
        (lambda: jobs.checkpoints.list(a.job_id))
        if operation == "checkpoints"
        else (lambda: getattr(jobs, operation)(a.job_id))
    )
    expect_not_found(call, phrase=f"No such fine-tuning job: {a.job_id}", param=JOB_ID_PARAM)


def test_job_events_cursor_of_another_tenant(a: TenantA, globex: openai.OpenAI):
    expect_not_found(
        lambda: globex.fine_tuning.jobs.list_events(a.job_id, after=a.event_ids[0]),
        phrase="No such fine-tuning job",
        param=JOB_ID_PARAM,
    )


@pytest.mark.parametrize("which", ["model", "checkpoint", "upstream-name"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_models_of_another_tenant_are_unknown_to_chat(
    a: TenantA, globex: openai.OpenAI, which: str, stream: bool
):
    model = {"model": a.model, "checkpoint": a.checkpoint_models[0], "upstream-name": a.upstream_model}[which]
    expect_not_found(
        lambda: globex.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "What is 2 plus 2?"}],
            max_tokens=4,
            stream=stream,
        ),
        phrase=f"The model '{model}' does not exist or you do not have access to it",
        param="model",
        code="model_not_found",
    )


@pytest.mark.parametrize("which", ["model", "checkpoint"])
def test_models_of_another_tenant_cannot_be_retrieved(a: TenantA, globex: openai.OpenAI, which: str):
    model = a.model if which == "model" else a.checkpoint_models[0]
    expect_not_found(
        lambda: globex.models.retrieve(model),
        phrase=f"The model '{model}' does not exist",
        param="model",
        code="model_not_found",
    )


def test_jobs_cannot_use_files_of_another_tenant(a: TenantA, globex: openai.OpenAI):
    jobs = globex.fine_tuning.jobs
    expect_not_found(
        lambda: jobs.create(model="tiny-llama", training_file=a.file_id),
        phrase=f"No such File object: {a.file_id}",
        param="training_file",
    )
    expect_not_found(
        lambda: jobs.create(model="tiny-llama", training_file=a.completed_file),
        phrase=f"No such File object: {a.completed_file}",
        param="training_file",
    )

    own = globex.files.create(file=("globex.jsonl", TRAINING), purpose="fine-tune")
    expect_not_found(
        lambda: jobs.create(model="tiny-llama", training_file=own.id, validation_file=a.file_id),
        phrase=f"No such File object: {a.file_id}",
        param="validation_file",
    )
    assert jobs.list().data == []  # none of the refused creates made a job
    globex.files.delete(own.id)


def test_lists_of_another_tenant_show_nothing(a: TenantA, globex: openai.OpenAI):
    own = globex.files.create(file=("globex.jsonl", TRAINING), purpose="fine-tune")
    try:
        assert [f.id for f in globex.files.list().data] == [own.id]
        assert [f.id for f in globex.files.list(purpose="fine-tune", order="asc").data] == [own.id]
        for cursor in sorted(a.file_ids):
            page = globex.files.list(after=cursor)
            assert page.data == [] and not page.has_more

        assert globex.fine_tuning.jobs.list().data == []
        assert globex.fine_tuning.jobs.list(metadata={"owner": "acme"}).data == []
        page = globex.fine_tuning.jobs.list(after=a.job_id)
        assert page.data == [] and not page.has_more

        models = {m.id for m in globex.models.list().data}
        assert "tiny-llama" in models
        assert not models & a.model_names
        assert a.upstream_model not in models
        assert all(not name.startswith("ft:") for name in models)
    finally:
        globex.files.delete(own.id)


# --- tenant A afterwards ------------------------------------------------------------------------------------


def test_tenant_a_is_unharmed(a: TenantA, acme: openai.OpenAI, globex: openai.OpenAI):
    # Tenant B's destructive attempts, once more right here, so this test stands on its own.
    for attempt in (
        lambda: globex.files.delete(a.file_id),
        lambda: globex.files.delete(a.completed_file),
        lambda: globex.uploads.cancel(a.pending_upload),
        lambda: globex.uploads.complete(a.pending_upload, part_ids=[a.pending_part]),
        lambda: globex.fine_tuning.jobs.cancel(a.job_id),
    ):
        with pytest.raises(openai.NotFoundError):
            attempt()

    assert {f.id for f in acme.files.list().data} == a.file_ids
    for file_id in a.file_ids:
        assert acme.files.retrieve(file_id).id == file_id
        assert acme.files.content(file_id).content == TRAINING

    job = acme.fine_tuning.jobs.retrieve(a.job_id)
    assert job.status == "succeeded" and job.fine_tuned_model == a.model
    assert [j.id for j in acme.fine_tuning.jobs.list(metadata={"owner": "acme"}).data] == [a.job_id]
    events = [e.id for e in acme.fine_tuning.jobs.list_events(a.job_id, limit=100).data]
    assert events[-len(a.event_ids) :] == a.event_ids  # later events may exist, none vanished
    assert [c.fine_tuned_model_checkpoint for c in acme.fine_tuning.jobs.checkpoints.list(a.job_id).data] == (
        a.checkpoint_models
    )
    assert a.model in {m.id for m in acme.models.list().data}
    for model in (a.model, a.checkpoint_models[0]):
        answer = acme.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "2 plus 2?"}], max_tokens=4
        )
        assert answer.model == model

    # The pending upload kept its part and its state: A can still complete it.
    done = acme.uploads.complete(a.pending_upload, part_ids=[a.pending_part])
    assert done.status == "completed" and done.file is not None
    assert acme.files.content(done.file.id).content == TRAINING


def test_another_team_of_the_same_tenant_sees_everything(
    gw: GatewayProcess, a: TenantA, acme: openai.OpenAI, acme_research: openai.OpenAI
):
    assert a.file_ids <= {f.id for f in acme_research.files.list().data}
    assert acme_research.files.content(a.file_id).content == TRAINING
    assert acme_research.fine_tuning.jobs.retrieve(a.job_id).fine_tuned_model == a.model
    assert a.job_id in {j.id for j in acme_research.fine_tuning.jobs.list().data}
    assert acme_research.fine_tuning.jobs.list_events(a.job_id).data
    assert acme_research.fine_tuning.jobs.checkpoints.list(a.job_id).data
    assert a.model in {m.id for m in acme_research.models.list().data}
    answer = acme_research.chat.completions.create(
        model=a.model, messages=[{"role": "user", "content": "3 plus 3?"}], max_tokens=4
    )
    assert answer.model == a.model

    # The other way round too, and each object records the team whose key made it.
    theirs = acme_research.files.create(file=("research.jsonl", TRAINING), purpose="fine-tune")
    assert acme.files.retrieve(theirs.id).id == theirs.id
    teams = dict(_db(gw, "SELECT id, team FROM files WHERE tenant = ?", "acme"))
    assert teams[theirs.id] == "research"
    assert teams[a.file_id] == teams[a.completed_file] == "ml"
    assert _db(gw, "SELECT tenant, team FROM jobs WHERE id = ?", a.job_id) == [("acme", "ml")]
    assert _db(gw, "SELECT tenant, team FROM uploads WHERE id = ?", a.pending_upload) == [("acme", "ml")]
    acme_research.files.delete(theirs.id)
    with pytest.raises(openai.NotFoundError):
        acme.files.retrieve(theirs.id)
