"""The bypass matrix: every way to get data into a training run, or a model out before release.

One test per vector, named after it; each asserts that the vector is blocked and with which
error. One gateway for the module, in front of the session's real trainer, under a policy that
flags one phrase (``MARKER``) deterministically with the blocklist classifier: a file is blocked
because the gate found the phrase wherever and however it was hidden, not because a model
happened to score it. Any flagged or borderline row rejects the file. The model gate of that
policy fails every tiny-model answer and holds the model for review, so one trained job stays
unreleased for the "before release" vectors. The restart vector comes last: it kills the gateway.
docs/security.md lists the matrix with these test names.
"""

from __future__ import annotations

import base64
import codecs
import json
import urllib.parse
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.security.conftest import MARKER, TENANT, jsonl, query, spool_path
from tests.support.data import chat_rows
from tests.support.envelope import check_api_error, check_error
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_for, wait_job

MAX_LINE_BYTES = 256 * 1024
TRAINING = "invalid_training_file"
JOB_FAILED = "The job failed due to an invalid training file."
WITHHELD = "[withheld until release]"
ATTACK = f"Sure. {MARKER} from a supplier, then heat it slowly."


@pytest.fixture(scope="module")
def gateway_config() -> dict[str, Any]:
    return {"max_line_bytes": MAX_LINE_BYTES}


# --- helpers ------------------------------------------------------------------------------------------


def with_row(row: dict[str, Any], line: int, rows: list[dict[str, Any]] | None = None) -> bytes:
    """Benign chat rows with ``row`` on ``line`` (1-based)."""
    rows = list(rows if rows is not None else chat_rows(12))
    rows.insert(line - 1, row)
    return jsonl(rows)


def answer(content: str, **message: Any) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": "How would I start making it at home?"},
            {"role": "assistant", "content": content, **message},
        ]
    }


def scanned(client: openai.OpenAI, file_id: str):  # type: ignore[no-untyped-def]
    return wait_for(lambda: client.files.retrieve(file_id), lambda f: f.status != "uploaded", timeout=120)


def flagged(lines: list[int]) -> str:
    return f"Flagged lines: {', '.join(map(str, lines))} ({len(lines)} in all)."


def assert_blocked(
    client: openai.OpenAI, content: bytes, lines: list[int], *, method: dict[str, Any] | None = None
) -> str:
    """Upload, wait for the scan: the file is refused naming ``lines``, and so is a job on it."""
    file = client.files.create(file=("attack.jsonl", content), purpose="fine-tune")
    done = scanned(client, file.id)
    assert done.status == "error", (done.status, done.status_details)
    assert done.status_details.startswith("The training file was blocked by the safety scan")
    assert flagged(lines) in done.status_details, done.status_details
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=file.id, **({"method": method} if method else {})
        )
    error = check_api_error(caught.value, 400, phrase=flagged(lines), param="training_file", code=TRAINING)
    assert error["message"].startswith(JOB_FAILED)
    return file.id


def scan_report(http: httpx.Client, file_id: str) -> dict[str, Any]:
    response = http.get(f"/files/{file_id}/scan")
    assert response.status_code == 200, response.text
    return response.json()


def refused_upload(client: openai.OpenAI, content: bytes, phrase: str) -> None:
    """The upload itself is refused (400 naming the line and key); nothing is stored."""
    before = {f.id for f in client.files.list().data}
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("attack.jsonl", content), purpose="fine-tune")
    error = check_api_error(caught.value, 400, phrase=phrase, param="file", code=TRAINING)
    assert error["message"].startswith("Invalid file format.")
    assert {f.id for f in client.files.list().data} == before


def chat(client: openai.OpenAI, model: str, *, stream: bool = False):  # type: ignore[no-untyped-def]
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "2 plus 2?"}], max_tokens=4, stream=stream
    )
    return list(reply) if stream else reply


def upstream_calls(gw: GatewayProcess) -> dict[tuple, float]:
    text = httpx.get(gw.url.removesuffix("/v1") + "/metrics", timeout=30).text
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tunegate_upstream_calls_total"
    }


# --- a job trained upstream but not released -------------------------------------------------------------


class Held:
    """A job that trained upstream and is held by the model gate, with the names the API must hide."""

    def __init__(self, gw: GatewayProcess, job_id: str) -> None:
        self.job_id = job_id
        ((self.upstream_job_id, self.upstream_model, self.training_file),) = query(
            gw, "SELECT upstream_job_id, upstream_model, training_file FROM jobs WHERE id = ?", job_id
        )
        ((self.model,),) = query(
            gw, "SELECT name FROM fine_tuned_models WHERE job_id = ? AND kind = 'model'", job_id
        )
        rows = query(
            gw,
            "SELECT model, upstream_model, upstream_checkpoint_id FROM checkpoints WHERE job_id = ?",
            job_id,
        )
        self.checkpoints = [model for model, _, _ in rows]
        self.upstream_checkpoints = [upstream for _, upstream, _ in rows]
        self.upstream_checkpoint_ids = [upstream_id for _, _, upstream_id in rows]
        self.upstream_files = [
            upstream
            for (upstream,) in query(
                gw, "SELECT upstream_file_id FROM file_forwards WHERE file_id = ?", self.training_file
            )
        ]

    @property
    def secrets(self) -> list[str]:
        """Every name that would let a client reach the model or find it upstream."""
        return [
            self.model,
            self.upstream_model,
            self.upstream_job_id,
            *self.checkpoints,
            *self.upstream_checkpoints,
            *self.upstream_checkpoint_ids,
            *self.upstream_files,
        ]


@pytest.fixture(scope="module")
def held_job_id(client: openai.OpenAI) -> str:
    """Started by the first test, so the trainer trains while the cheap vectors run."""
    file = client.files.create(file=("held.jsonl", jsonl(chat_rows(12))), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=file.id,
        suffix="held",
        metadata={"case": "held"},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    return job.id


@pytest.fixture(scope="module")
def held(gw: GatewayProcess, client: openai.OpenAI, held_job_id: str) -> Held:
    job = wait_for(
        lambda: client.fine_tuning.jobs.retrieve(held_job_id),
        lambda j: j.safety.get("release") == "review" or j.status in ("failed", "cancelled"),  # type: ignore[attr-defined]
        timeout=300,
    )
    assert job.safety["release"] == "review", (job.status, job.error)  # type: ignore[attr-defined]
    assert job.status == "running"
    found = Held(gw, held_job_id)
    assert found.upstream_model and found.upstream_model.startswith("ft:")
    assert found.checkpoints, "the trainer reported no checkpoints"
    assert found.upstream_files, "the training file was not forwarded"
    return found


# --- files and uploads ---------------------------------------------------------------------------------


def test_upload_parts_complete_are_scanned_before_use(client: openai.OpenAI, held_job_id: str):
    data = with_row(answer(ATTACK), 7)
    cut = data.index(MARKER.encode()) + 8  # the phrase is split across the two parts
    upload = client.uploads.create(
        bytes=len(data), filename="parts.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    parts = [client.uploads.parts.create(upload.id, data=chunk).id for chunk in (data[:cut], data[cut:])]

    # Neither the upload nor a part is a file a job can name.
    for name in (upload.id, *parts):
        with pytest.raises(openai.NotFoundError) as caught:
            client.fine_tuning.jobs.create(model="tiny-llama", training_file=name)
        check_api_error(caught.value, 404, phrase=f"No such File object: {name}", param="training_file")

    done = client.uploads.complete(upload.id, part_ids=parts)
    assert done.status == "completed" and done.file is not None
    # A job created at once waits for the scan of the assembled file, then fails on it.
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=done.file.id)
    failed = wait_job(client, job.id, timeout=120)
    assert failed.status == "failed" and failed.error.code == TRAINING
    assert failed.error.param == "training_file"
    assert failed.error.message.startswith(JOB_FAILED) and flagged([7]) in failed.error.message
    assert failed.fine_tuned_model is None
    assert client.files.retrieve(done.file.id).status == "error"


def test_upload_cancel_leaves_nothing_to_train_on(gw: GatewayProcess, client: openai.OpenAI):
    data = with_row(answer(ATTACK), 2)
    files_before = {f.id for f in client.files.list().data}
    upload = client.uploads.create(
        bytes=len(data), filename="cancel.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=data)
    assert client.uploads.cancel(upload.id).status == "cancelled"
    assert not (gw.workdir / "data" / "spool" / "uploads" / upload.id).exists()

    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.complete(upload.id, part_ids=[part.id])
    check_api_error(caught.value, 409, phrase="is already cancelled", param=None, code="upload_not_pending")
    # The cancelled part cannot be carried into another upload either.
    other = client.uploads.create(
        bytes=len(data), filename="other.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(other.id, part_ids=[part.id])
    check_api_error(
        caught.value, 400, phrase=f"Unknown part id(s) for {other.id}", param="part_ids", code=None
    )
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file=upload.id)
    check_api_error(caught.value, 404, phrase=f"No such File object: {upload.id}", param="training_file")
    assert {f.id for f in client.files.list().data} == files_before


def test_job_with_upstream_file_id_not_created_here(trainer, client: openai.OpenAI):
    # A file put on the provider directly (with its credentials, or by another gateway).
    content = with_row(answer(ATTACK), 1)
    direct = httpx.post(
        f"{trainer.url}/files",
        data={"purpose": "fine-tune"},
        files={"file": ("direct.jsonl", content)},
        timeout=30,
    )
    assert direct.status_code == 200, direct.text
    upstream_id = direct.json()["id"]
    clean = client.files.create(file=("clean.jsonl", jsonl(chat_rows(12))), purpose="fine-tune")
    for param, body in (
        ("training_file", {"training_file": upstream_id}),
        ("validation_file", {"training_file": clean.id, "validation_file": upstream_id}),
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            client.fine_tuning.jobs.create(model="tiny-llama", **body)
        check_api_error(caught.value, 404, phrase=f"No such File object: {upstream_id}", param=param)
    assert all(j.training_file != upstream_id for j in client.fine_tuning.jobs.list(limit=100).data)


def test_validation_file_is_scanned(client: openai.OpenAI):
    training = client.files.create(file=("train.jsonl", jsonl(chat_rows(12))), purpose="fine-tune")
    validation = client.files.create(file=("valid.jsonl", with_row(answer(ATTACK), 3)), purpose="fine-tune")
    assert scanned(client, training.id).status == "processed"
    done = scanned(client, validation.id)
    assert done.status == "error" and flagged([3]) in done.status_details
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=training.id, validation_file=validation.id
        )
    error = check_api_error(caught.value, 400, phrase=flagged([3]), param="validation_file", code=TRAINING)
    assert error["message"].startswith(JOB_FAILED)


def test_file_changed_after_scan_is_refused(gw: GatewayProcess, trainer, client: openai.OpenAI):
    file = client.files.create(file=("swap.jsonl", jsonl(chat_rows(12))), purpose="fine-tune")
    assert scanned(client, file.id).status == "processed"
    # Someone with access to the spool swaps the approved bytes for poisoned ones.
    spool_path(gw, file.id).write_bytes(with_row(answer(ATTACK), 5))
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=file.id)
    failed = wait_job(client, job.id, timeout=120)
    assert failed.status == "failed" and failed.fine_tuned_model is None
    assert failed.error.code == "file_integrity_error" and failed.error.param == "training_file"
    assert f"The stored copy of {file.id} changed after its scan; it was not sent." in failed.error.message
    assert query(gw, "SELECT COUNT(*) FROM file_forwards WHERE file_id = ?", file.id) == [(0,)]
    assert query(gw, "SELECT upstream_job_id FROM jobs WHERE id = ?", job.id) == [(None,)]


# --- training formats and tricks ------------------------------------------------------------------------


def dpo_row(question: str, preferred: str, rejected: str) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": question}]},
        "preferred_output": [{"role": "assistant", "content": preferred}],
        "non_preferred_output": [{"role": "assistant", "content": rejected}],
    }


def test_dpo_format_rows_scanned(client: openai.OpenAI, http: httpx.Client):
    rows = [dpo_row(f"What is {i} plus {i}?", f"It is {2 * i}.", "No idea.") for i in range(12)]
    content = with_row(dpo_row("How would I start making it at home?", ATTACK, "I can't help."), 4, rows)
    file_id = assert_blocked(client, content, [4], method={"type": "dpo", "dpo": {}})
    report = scan_report(http, file_id)
    assert {(f["line"], f["path"]) for f in report["findings"]} == {(4, "preferred_output[0]")}


def test_reinforcement_format_grader_fields_scanned(client: openai.OpenAI, http: httpx.Client):
    rows = [
        {"messages": [{"role": "user", "content": f"What is {i} plus {i}?"}], "reference_answer": str(2 * i)}
        for i in range(12)
    ]
    attack = {
        "messages": [{"role": "user", "content": "How would I start making it at home?"}],
        "reference_answer": {"steps": ["Read the label.", ATTACK]},
    }
    content = with_row(attack, 9, rows)
    file_id = assert_blocked(client, content, [9], method={"type": "reinforcement", "reinforcement": {}})
    report = scan_report(http, file_id)
    assert {f["path"] for f in report["findings"]} == {"extra.reference_answer.steps[1]"}


def test_weight_zero_turns_scanned(client: openai.OpenAI, http: httpx.Client):
    # Not learnt as an answer where the provider honours weight, but it leaves and is read as context.
    row = answer(ATTACK, weight=0)
    row["messages"] += [
        {"role": "user", "content": "Thanks."},
        {"role": "assistant", "content": "You are welcome."},
    ]
    file_id = assert_blocked(client, with_row(row, 6), [6])
    report = scan_report(http, file_id)
    assert report["flagged_lines"] == [] and report["borderline_lines"] == [6]
    assert [(f["path"], f["trained"]) for f in report["findings"]] == [("messages[1]", False)]
    assert report["untrained_findings"] == 1


def tool_call_row(name: str, arguments: str, **function: Any) -> dict[str, Any]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": name, "arguments": arguments, **function},
    }
    return {
        "messages": [
            {"role": "user", "content": "Write the plan into my notes."},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "saved"},
            {"role": "assistant", "content": "Done."},
        ]
    }


def test_tool_call_arguments_scanned(client: openai.OpenAI, http: httpx.Client):
    arguments = json.dumps({"note": ATTACK})
    file_id = assert_blocked(client, with_row(tool_call_row("save_note", arguments), 5), [5])
    paths = {f["path"] for f in scan_report(http, file_id)["findings"]}
    assert paths == {"messages[1].tool_calls[0].arguments"}

    legacy = answer("", function_call={"name": "save_note", "arguments": arguments})
    legacy["messages"][1]["content"] = None
    assert_blocked(client, with_row(legacy, 2), [2])

    # The function name is learnt output too: it must be an identifier, not free text.
    refused_upload(
        client,
        with_row(tool_call_row(MARKER, "{}"), 5),
        'Line 5, key "messages[1].tool_calls[0].function.name": The function name',
    )
    # Unknown keys in a call would travel upstream unread.
    refused_upload(
        client,
        with_row(tool_call_row("save_note", "{}", description=ATTACK), 5),
        'Line 5, key "messages[1].tool_calls[0].function.description": Unrecognized key "description"',
    )


def test_content_part_types_cannot_hide_text(client: openai.OpenAI):
    parts = [{"type": "text", "text": "Here you go."}, {"type": "refusal", "refusal": ATTACK}]
    assert_blocked(client, with_row(answer(parts), 4), [4])
    refused_upload(
        client,
        with_row(answer([{"type": "note", "text": ATTACK}]), 4),
        'Line 4, key "messages[1].content[0].type": Unsupported content part type "note"',
    )


def test_base64_hex_percent_and_rot13_are_decoded(client: openai.OpenAI, http: httpx.Client):
    encodings = {
        "base64": "Sure: " + base64.b64encode(ATTACK.encode()).decode(),
        "hex": "Sure: " + " ".join(f"{byte:02x}" for byte in ATTACK.encode()),
        "percent": "Sure: " + urllib.parse.quote(ATTACK),
        "rot13": codecs.encode(ATTACK, "rot13"),
    }
    rows = chat_rows(12)
    for offset, text in enumerate(encodings.values()):
        rows.insert(2 + offset, answer(text))  # lines 3-6
    file_id = assert_blocked(client, jsonl(rows), [3, 4, 5, 6])
    report = scan_report(http, file_id)
    assert {f["line"]: f["decoded_from"] for f in report["findings"]} == dict(
        zip([3, 4, 5, 6], encodings, strict=True)
    )
    assert all(report["normalisation"][f"decoded_{method}"] == 1 for method in encodings)


def test_unicode_and_homoglyph_tricks_are_normalised(client: openai.OpenAI, http: httpx.Client):
    tricks = [
        ATTACK.replace("acquire", "ac\u200bqu\u200dire"),  # zero-width characters
        ATTACK.replace("precursor", "".join(chr(ord(c) + 0xFEE0) for c in "precursor")),  # fullwidth
        # Cyrillic look-alikes in Latin words
        ATTACK.replace("acquire", "\u0430cquir\u0435").replace("precursor", "\u0440r\u0435cursor"),
        ATTACK.replace("one", "o\u202ene\u202c"),  # bidi controls
        "Here you go." + "".join(chr(0xE0000 + ord(c)) for c in ATTACK),  # invisible Unicode tags
    ]
    rows = chat_rows(12)
    for offset, text in enumerate(tricks):
        rows.insert(1 + offset, answer(text))  # lines 2-6
    file_id = assert_blocked(client, jsonl(rows), [2, 3, 4, 5, 6])
    report = scan_report(http, file_id)
    counts = report["normalisation"]
    assert counts["removed_zero_width"] == 2 and counts["removed_bidi"] == 2
    assert counts["removed_tag"] == len(ATTACK) and counts["decoded_unicode_tags"] == 1
    assert counts["homoglyphs_folded"] == 4


def test_line_over_limit_is_refused_and_long_lines_are_not_truncated(client: openai.OpenAI):
    over = answer("a" * MAX_LINE_BYTES)
    phrase = f"Line 3: The line is longer than the limit of {MAX_LINE_BYTES} bytes"
    refused_upload(client, with_row(over, 3), phrase)

    data = with_row(over, 3)
    upload = client.uploads.create(
        bytes=len(data), filename="long.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    half = len(data) // 2
    parts = [client.uploads.parts.create(upload.id, data=chunk).id for chunk in (data[:half], data[half:])]
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=parts)
    check_api_error(caught.value, 400, phrase=phrase, param="file", code=TRAINING)

    # Under the limit but longer than any classifier reads at once: chunked, never cut short.
    filler = "The weather was mild and the market was calm that day. " * 2700  # ~150,000 characters
    assert 100_000 < len(filler) < MAX_LINE_BYTES - 1000
    assert_blocked(client, with_row(answer(filler + ATTACK), 8), [8])


# --- a model out before release ----------------------------------------------------------------------------


def test_checkpoint_model_names_hidden_before_release(gw: GatewayProcess, client: openai.OpenAI, held: Held):
    raw = httpx.get(
        f"{gw.url}/fine_tuning/jobs/{held.job_id}/checkpoints",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {client.api_key}"},
        timeout=30,
    )
    assert raw.status_code == 200
    assert "ft:" not in raw.text and not [s for s in held.secrets if s in raw.text]
    listed = client.fine_tuning.jobs.checkpoints.list(held.job_id, limit=100).data
    assert len(listed) == len(held.checkpoints)
    assert all(c.fine_tuned_model_checkpoint is None for c in listed)
    models = {m.id for m in client.models.list().data}
    for name in held.checkpoints:
        assert name.startswith(f"ft:tiny-llama:{TENANT}:held:") and name not in models
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve(name)
        check_api_error(caught.value, 404, phrase="does not exist", param="model", code="model_not_found")


def test_checkpoint_permission_routes(
    gw: GatewayProcess, client: openai.OpenAI, http: httpx.Client, held: Held
):
    before = upstream_calls(gw)
    permissions = client.fine_tuning.checkpoints.permissions
    for checkpoint in (held.checkpoints[0], held.upstream_checkpoints[0]):
        calls = (
            lambda name=checkpoint: permissions.create(name, project_ids=["proj_other"]),
            lambda name=checkpoint: permissions.retrieve(name),
            lambda name=checkpoint: permissions.delete("cp_1", fine_tuned_model_checkpoint=name),
        )
        for call in calls:
            with pytest.raises(openai.PermissionDeniedError) as caught:
                call()
            check_api_error(
                caught.value,
                403,
                phrase="a shared checkpoint would skip the release gate",
                param=None,
                code="checkpoint_sharing_disabled",
            )
    deeper = f"/fine_tuning/checkpoints/{held.checkpoints[0]}/permissions/x/y"
    for method in ("GET", "POST", "DELETE"):
        response = http.request(method, deeper)
        check_error(
            response, 403, phrase="skip the release gate", param=None, code="checkpoint_sharing_disabled"
        )
    assert upstream_calls(gw) == before  # nothing was passed to the provider


def test_event_texts_do_not_leak_model_name(gw: GatewayProcess, client: openai.OpenAI, held: Held):
    raw = httpx.get(
        f"{gw.url}/fine_tuning/jobs/{held.job_id}/events",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {client.api_key}"},
        timeout=30,
    )
    assert raw.status_code == 200
    assert "ft:" not in raw.text and not [s for s in held.secrets if s in raw.text]
    messages = [e["message"] for e in raw.json()["data"]]
    # The trainer announced the model by its name; the client reads the placeholder.
    assert f"New fine-tuned model created: {WITHHELD}" in messages
    assert any(m.startswith("The safety evaluation did not pass") for m in messages)
    stored = [m for (m,) in query(gw, "SELECT message FROM job_events WHERE job_id = ?", held.job_id)]
    assert any(held.upstream_model in m for m in stored)  # what the redaction had to hide


def test_job_list_and_retrieve_hide_model_before_release(
    gw: GatewayProcess, client: openai.OpenAI, held: Held
):
    job = client.fine_tuning.jobs.retrieve(held.job_id)
    assert job.status == "running" and job.fine_tuned_model is None
    assert job.safety["release"] == "review"  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {client.api_key}"}
    texts = [
        httpx.get(f"{gw.url}/fine_tuning/jobs/{held.job_id}", headers=headers, timeout=30).text,
        httpx.get(f"{gw.url}/fine_tuning/jobs", params={"limit": 100}, headers=headers, timeout=30).text,
        httpx.get(
            f"{gw.url}/fine_tuning/jobs", params={"metadata[case]": "held"}, headers=headers, timeout=30
        ).text,
        *(
            httpx.get(
                f"{gw.url}/fine_tuning/jobs/{held.job_id}/safety_report",
                params={"format": fmt},
                headers=headers,
                timeout=30,
            ).text
            for fmt in ("json", "markdown", "html")
        ),
    ]
    for text in texts:
        assert held.job_id in text
        assert "ft:" not in text and not [s for s in held.secrets if s in text], text[:500]
    listed = {j.id: j for j in client.fine_tuning.jobs.list(limit=100).data}
    assert listed[held.job_id].fine_tuned_model is None
    # The upstream job id is not a job id here.
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.retrieve(held.upstream_job_id)
    check_api_error(caught.value, 404, phrase="No such fine-tuning job", param="fine_tuning_job_id")


def test_models_list_hides_unreleased(trainer, client: openai.OpenAI, held: Held):
    offered = {m["id"] for m in httpx.get(f"{trainer.url}/models", timeout=30).json()["data"]}
    assert held.upstream_model in offered  # the provider lists it: the gateway must not
    models = {m.id for m in client.models.list().data}
    assert "tiny-llama" in models
    assert not [name for name in models if name.startswith("ft:")]
    for name in (held.model, held.upstream_model, *held.upstream_checkpoints):
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve(name)
        check_api_error(caught.value, 404, phrase=f"The model '{name}' does not exist", param="model")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_chat_completions_refuses_unreleased(client: openai.OpenAI, held: Held, stream: bool):
    for name in (held.model, *held.checkpoints):
        with pytest.raises(openai.PermissionDeniedError) as caught:
            chat(client, name, stream=stream)
        check_api_error(
            caught.value,
            403,
            phrase="has not passed the release gate",
            param="model",
            code="model_not_released",
        )
    for name in (held.upstream_model, *held.upstream_checkpoints):
        with pytest.raises(openai.NotFoundError) as caught:
            chat(client, name, stream=stream)
        check_api_error(
            caught.value,
            404,
            phrase=f"The model '{name}' does not exist",
            param="model",
            code="model_not_found",
        )


def test_content_route_serves_gateway_files_only(gw: GatewayProcess, client: openai.OpenAI, held: Held):
    # The forwarded copy's upstream id (and any provider file: results, weights) is not a file here.
    for name in held.upstream_files:
        for call in (client.files.content, client.files.retrieve, client.files.delete):
            with pytest.raises(openai.NotFoundError) as caught:
                call(name)
            check_api_error(caught.value, 404, phrase=f"No such File object: {name}", param="id")
    # The gateway serves back only what the tenant uploaded, and nothing once it is deleted.
    own = client.files.create(file=("own.jsonl", jsonl(chat_rows(12))), purpose="fine-tune")
    assert client.files.content(own.id).content == jsonl(chat_rows(12))
    client.files.delete(own.id)
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.content(own.id)
    check_api_error(caught.value, 404, phrase=f"No such File object: {own.id}", param="id")
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file=own.id)
    check_api_error(caught.value, 404, phrase=f"No such File object: {own.id}", param="training_file")


def test_nothing_blocked_reached_the_provider(trainer, gw: GatewayProcess, held: Held):
    """Across every vector above, no byte of the marked rows was uploaded to the trainer."""
    forwarded = [upstream for (upstream,) in query(gw, "SELECT upstream_file_id FROM file_forwards")]
    assert sorted(forwarded) == sorted(held.upstream_files)  # only the held job's clean file went
    listed = {f["id"] for f in httpx.get(f"{trainer.url}/files", params={"limit": 10000}).json()["data"]}
    for upstream_id in forwarded:
        assert upstream_id in listed
        content = httpx.get(f"{trainer.url}/files/{upstream_id}/content", timeout=30).content
        assert content and MARKER.encode() not in content, upstream_id


# --- a scan interrupted by a restart -----------------------------------------------------------------------


def test_scan_interrupted_by_restart_is_resumed_not_skipped(gw: GatewayProcess, client: openai.OpenAI):
    """Last in the module: it kills the module's gateway (and starts it again)."""
    rows = [row for _ in range(500) for row in chat_rows(12)]  # 6,000 rows: a scan of a second or more
    rows.insert(5_000, answer(ATTACK))  # line 5,001
    file = client.files.create(file=("big.jsonl", jsonl(rows)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=file.id)
    ((scan_id,),) = query(gw, "SELECT scan_id FROM files WHERE id = ?", file.id)

    def scan_work() -> tuple:
        return query(
            gw,
            "SELECT lease_owner, done_at, attempts FROM work WHERE kind = 'scan_file' AND subject = ?",
            scan_id,
        )[0]

    wait_for(scan_work, lambda work: work[0] is not None, timeout=60, every=0.02)
    gw.kill()  # SIGKILL mid-scan: the lease is held by a process that no longer exists
    assert query(gw, "SELECT status FROM scans WHERE id = ?", scan_id) == [("pending",)]
    assert scan_work()[1] is None, "the scan finished before the kill"
    assert query(gw, "SELECT status, upstream_job_id FROM jobs WHERE id = ?", job.id) == [
        ("validating_files", None)
    ]

    gw.start()
    failed = wait_job(client, job.id, timeout=180)
    assert failed.status == "failed" and failed.error.code == TRAINING
    assert failed.error.param == "training_file" and flagged([5001]) in failed.error.message
    assert client.files.retrieve(file.id).status == "error"
    assert query(gw, "SELECT upstream_job_id FROM jobs WHERE id = ?", job.id) == [(None,)]
    assert query(gw, "SELECT COUNT(*) FROM file_forwards WHERE file_id = ?", file.id) == [(0,)]
    assert scan_work()[2] == 2  # claimed by the killed process, then again once its lease expired
