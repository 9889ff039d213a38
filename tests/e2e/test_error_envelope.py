"""Every way a client can get a request or a file wrong ends in OpenAI's error envelope.

One real gateway process for the module (small line and upload limits, routes for ``tiny-*``
only) in front of the session's real trainer. Each case asserts the HTTP status and the whole
envelope ``{"error": {"message", "type", "param", "code"}}``: a helpful message (a key phrase),
the ``param`` it is about, and the code. Malformed requests go out through raw ``httpx``; the
rest through the ``openai`` client, whose exception class is checked too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.data import chat_rows
from tests.support.envelope import ANY, check_api_error, check_error
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_job

MAX_LINE_BYTES = 2048
MAX_UPLOAD_BYTES = 16 * 1024
NOT_FOUND = "not_found"
TRAINING_FILE = "invalid_training_file"


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


CHAT_LINE = jsonl(chat_rows(1))
GOOD_FILE = jsonl(chat_rows(12))


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gw(trainer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(
        tmp_path_factory.mktemp("errors") / "gw",
        trainer_url=trainer.url,
        extra_config={
            "max_line_bytes": MAX_LINE_BYTES,
            "max_upload_bytes": MAX_UPLOAD_BYTES,
            "routes": [{"model": "tiny-*", "upstream": "local"}],
        },
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gw: GatewayProcess) -> str:
    return gw.create_key("acme", "ml")


@pytest.fixture(scope="module")
def client(gw: GatewayProcess, key: str) -> openai.OpenAI:
    return gw.client(key)


@pytest.fixture(scope="module")
def http(gw: GatewayProcess, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as raw:
        yield raw


@pytest.fixture(scope="module")
def chat_file(client: openai.OpenAI) -> str:
    """A valid chat training file with 12 examples."""
    return client.files.create(file=("train.jsonl", GOOD_FILE), purpose="fine-tune").id


class FilesUnchanged:
    """Snapshot of the tenant's file list and the spool's files folder; ``check`` says nothing was added."""

    def __init__(self, client: openai.OpenAI, spool: Path) -> None:
        self.client = client
        self.spool = spool
        self.ids = self._ids()
        self.stored = self._stored()

    def _ids(self) -> list[str]:
        return [f.id for f in self.client.files.list().data]

    def _stored(self) -> set[str]:
        return {p.name for p in self.spool.iterdir()} if self.spool.is_dir() else set()

    def check(self) -> None:
        assert set(self._ids()) == set(self.ids), "a rejected upload created a File"
        assert self._stored() == self.stored, "a rejected upload left bytes in the spool"


@pytest.fixture
def files_unchanged(client: openai.OpenAI, gw: GatewayProcess) -> Iterator[FilesUnchanged]:
    snapshot = FilesUnchanged(client, gw.workdir / "data" / "spool" / "files")
    yield snapshot
    snapshot.check()


def job_body(training_file: str = "file-abc", **extra: object) -> dict:
    return {"model": "tiny-llama", "training_file": training_file, **extra}


# --- authentication and routing ---------------------------------------------------------------------------


def test_missing_api_key(gw: GatewayProcess):
    response = httpx.get(f"{gw.url}/files")
    check_error(response, 401, phrase="didn't provide an API key", param=None, code="invalid_api_key")


def test_authorization_header_not_bearer(gw: GatewayProcess, key: str):
    response = httpx.get(f"{gw.url}/files", headers={"Authorization": f"Basic {key}"})
    check_error(response, 401, phrase="'Bearer KEY'", param=None, code="invalid_api_key")


def test_invalid_api_key(gw: GatewayProcess):
    with pytest.raises(openai.AuthenticationError) as caught:
        gw.client("tg-not-a-real-key").files.list()
    check_api_error(caught.value, 401, phrase="Incorrect API key", param=None, code="invalid_api_key")


def test_unknown_route(http: httpx.Client):
    check_error(http.get("/assistants"), 404, phrase="Unknown route", param=None, code=NOT_FOUND)


def test_method_not_allowed(http: httpx.Client):
    check_error(http.put("/files"), 405, phrase="Method Not Allowed", param=None, code=None)


@pytest.mark.parametrize(
    ("call", "phrase", "param"),
    [
        (lambda c: c.files.retrieve("file-nope"), "No such File object: file-nope", "id"),
        (lambda c: c.files.content("file-nope"), "No such File object: file-nope", "id"),
        (lambda c: c.files.delete("file-nope"), "No such File object: file-nope", "id"),
        (
            lambda c: c.fine_tuning.jobs.retrieve("ftjob-nope"),
            "No such fine-tuning job: ftjob-nope",
            "fine_tuning_job_id",
        ),
        (lambda c: c.fine_tuning.jobs.cancel("ftjob-nope"), "No such fine-tuning job", "fine_tuning_job_id"),
        (
            lambda c: c.fine_tuning.jobs.list_events("ftjob-nope"),
            "No such fine-tuning job",
            "fine_tuning_job_id",
        ),
        (
            lambda c: c.fine_tuning.jobs.checkpoints.list("ftjob-nope"),
            "No such fine-tuning job",
            "fine_tuning_job_id",
        ),
        (
            lambda c: c.uploads.parts.create("upload_nope", data=b"x"),
            "No such Upload object: upload_nope",
            "upload_id",
        ),
        (
            lambda c: c.uploads.complete("upload_nope", part_ids=["part_x"]),
            "No such Upload object",
            "upload_id",
        ),
        (lambda c: c.uploads.cancel("upload_nope"), "No such Upload object", "upload_id"),
    ],
    ids=[
        "file",
        "file-content",
        "file-delete",
        "job",
        "job-cancel",
        "job-events",
        "job-checkpoints",
        "upload-part",
        "upload-complete",
        "upload-cancel",
    ],
)
def test_unknown_ids(client: openai.OpenAI, call, phrase: str, param: str):
    with pytest.raises(openai.NotFoundError) as caught:
        call(client)
    check_api_error(caught.value, 404, phrase=phrase, param=param, code=NOT_FOUND)


def test_unknown_model(client: openai.OpenAI):
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("tiny-nonexistent")
    check_api_error(
        caught.value, 404, phrase="'tiny-nonexistent' does not exist", param="model", code="model_not_found"
    )


# --- request validation ---------------------------------------------------------------------------------


def test_invalid_json_body(http: httpx.Client):
    response = http.post(
        "/fine_tuning/jobs", content=b'{"model": "tiny-llama",', headers={"Content-Type": "application/json"}
    )
    check_error(response, 400, phrase="could not parse the JSON body", param=None, code=None)


def test_missing_body(http: httpx.Client):
    response = http.post("/fine_tuning/jobs")
    error = check_error(response, 400, phrase="no body", param=None, code=None)
    assert "None" not in error["message"]


def test_body_not_an_object(http: httpx.Client):
    response = http.post("/fine_tuning/jobs", json=["tiny-llama"])
    check_error(response, 400, phrase="must be a JSON object", param=None, code=None)


def test_missing_required_field(http: httpx.Client):
    response = http.post("/fine_tuning/jobs", json={"model": "tiny-llama"})
    check_error(response, 400, phrase="Missing required parameter: 'training_file'", param="training_file")


def test_unknown_field(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file="file-abc", extra_body={"epochs": 3})
    check_api_error(
        caught.value, 400, phrase="Unrecognized request argument supplied: epochs", param="epochs"
    )


@pytest.mark.parametrize(
    ("extra", "phrase", "param"),
    [
        ({"suffix": "x" * 65}, "at most 64 characters", "suffix"),
        ({"suffix": "has space"}, "only letters, digits", "suffix"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16 key-value pairs", "metadata"),
        ({"seed": -1}, "greater than or equal to 0", "seed"),
        ({"seed": "seven"}, "valid integer", "seed"),
        ({"model": ""}, "at least 1 character", "model"),
        ({"validation_file": 42}, "valid string", "validation_file"),
    ],
    ids=[
        "suffix-too-long",
        "suffix-chars",
        "metadata-17-pairs",
        "seed-negative",
        "seed-string",
        "model-empty",
        "validation-file-number",
    ],
)
def test_invalid_field_values(http: httpx.Client, extra: dict, phrase: str, param: str):
    response = http.post("/fine_tuning/jobs", json=job_body(**extra))
    error = check_error(response, 400, phrase=phrase, param=param, code="invalid_value")
    assert error["message"].startswith(f"Invalid value for '{param}'")
    assert "Value error" not in error["message"]


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        ({"hyperparameters": {"n_epochs": "many"}}, "hyperparameters.n_epochs must be 'auto' or an integer"),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs must be between 1 and 50"),
        (
            {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": "many"}}}},
            "method.supervised.hyperparameters.n_epochs must be 'auto' or an integer",
        ),
        (
            {"method": {"type": "magic"}},
            "method.type must be one of supervised, dpo, reinforcement, got 'magic'",
        ),
        (
            {"method": {"type": "supervised", "supervised": {}}, "hyperparameters": {"n_epochs": 2}},
            "either in method or in the deprecated top-level field",
        ),
    ],
    ids=[
        "n-epochs-string",
        "n-epochs-zero",
        "method-n-epochs-string",
        "method-type-unknown",
        "hyperparameters-twice",
    ],
)
def test_invalid_method_and_hyperparameters(client: openai.OpenAI, extra: dict, phrase: str):
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(**job_body(**extra))
    error = check_api_error(caught.value, 400, phrase=phrase, param=ANY, code="invalid_value")
    assert error["param"] and error["param"].split(".")[0] in ("hyperparameters", "method")
    assert not error["message"].startswith("Value error")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"hyperparameters": {"n_epochs": "many"}}, "hyperparameters.n_epochs"),
        ({"method": {"type": "magic"}}, "method.type"),
    ],
    ids=["n-epochs", "method-type"],
)
def test_method_errors_name_their_param(http: httpx.Client, extra: dict, param: str):
    check_error(http.post("/fine_tuning/jobs", json=job_body(**extra)), 400, phrase="", param=param)


@pytest.mark.parametrize(
    ("path", "phrase", "param"),
    [
        (
            "/fine_tuning/jobs?limit=0",
            "Invalid value for 'limit': Input should be greater than or equal to 1",
            "limit",
        ),
        ("/fine_tuning/jobs?limit=101", "less than or equal to 100", "limit"),
        ("/fine_tuning/jobs?limit=lots", "valid integer", "limit"),
        ("/files?order=sideways", "Invalid value for 'order'", "order"),
        ("/fine_tuning/jobs/ftjob-x/events?limit=0", "Invalid value for 'limit'", "limit"),
    ],
    ids=["jobs-limit-0", "jobs-limit-101", "jobs-limit-text", "files-order", "events-limit-0"],
)
def test_query_validation(http: httpx.Client, path: str, phrase: str, param: str):
    check_error(http.get(path), 400, phrase=phrase, param=param, code="invalid_value")


def test_query_validation_through_sdk(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.list(limit=0)
    check_api_error(
        caught.value, 400, phrase="greater than or equal to 1", param="limit", code="invalid_value"
    )


# --- files ----------------------------------------------------------------------------------------------


def test_purpose_not_fine_tune(client: openai.OpenAI, files_unchanged):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("train.jsonl", GOOD_FILE), purpose="assistants")
    check_api_error(caught.value, 400, phrase="'assistants' is not a purpose", param="purpose", code=None)


def test_purpose_missing(http: httpx.Client, files_unchanged):
    response = http.post("/files", files={"file": ("train.jsonl", GOOD_FILE)})
    check_error(response, 400, phrase="Missing required parameter: 'purpose'", param="purpose", code=None)


def test_filename_not_jsonl(client: openai.OpenAI, files_unchanged):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("train.csv", GOOD_FILE), purpose="fine-tune")
    check_api_error(caught.value, 400, phrase="Must be .jsonl (got 'train.csv')", param="file", code=None)


def test_file_field_missing(http: httpx.Client, files_unchanged):
    response = http.post("/files", data={"purpose": "fine-tune"}, files={"document": ("a.jsonl", GOOD_FILE)})
    check_error(response, 400, phrase="Missing required parameter: 'file'", param="file", code=None)


def test_files_not_multipart(http: httpx.Client, files_unchanged):
    response = http.post("/files", json={"purpose": "fine-tune", "file": "train.jsonl"})
    check_error(response, 400, phrase="multipart/form-data", param="file", code=None)


def _multipart(*parts: tuple[str, str | None, bytes], closed: bool = True) -> bytes:
    """A hand-made multipart/form-data body (boundary ``xyz``), parts in the given order."""
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--xyz\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return body + (b"--xyz--\r\n" if closed else b"")


MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}


def test_purpose_after_the_file_part(http: httpx.Client, files_unchanged):
    body = _multipart(("file", "train.jsonl", GOOD_FILE), ("purpose", None, b"batch"))
    response = http.post("/files", content=body, headers=MULTIPART)
    check_error(response, 400, phrase="'batch' is not a purpose", param="purpose", code=None)


def test_malformed_multipart(http: httpx.Client, client: openai.OpenAI, files_unchanged):
    response = http.post("/files", content=b"this is not a multipart body", headers=MULTIPART)
    check_error(response, 400, phrase="multipart/form-data body could not be parsed", param="file", code=None)

    upload = _upload(client, 10)
    response = http.post(f"/uploads/{upload.id}/parts", content=b"garbage", headers=MULTIPART)
    check_error(response, 400, phrase="multipart/form-data body could not be parsed", param="data", code=None)


def test_multipart_without_closing_boundary(http: httpx.Client, client: openai.OpenAI):
    before = {f.id for f in client.files.list().data}
    body = _multipart(("purpose", None, b"fine-tune"), ("file", "train.jsonl", GOOD_FILE), closed=False)
    response = http.post("/files", content=body[: -len(b"\r\n")], headers=MULTIPART)
    created = {f.id for f in client.files.list().data} - before
    for file_id in created:  # clean up before asserting, so the module's other checks stay exact
        client.files.delete(file_id)
    check_error(response, 400, phrase="multipart", param="file")
    assert not created


def _long_line() -> bytes:
    row = {
        "messages": [{"role": "user", "content": "a" * MAX_LINE_BYTES}, {"role": "assistant", "content": "b"}]
    }
    return json.dumps(row).encode() + b"\n"


BAD_FILES = {
    "invalid-json-line-3": (CHAT_LINE * 2 + b'{"messages": [\n' + CHAT_LINE, "Line 3: Invalid JSON"),
    "not-an-object": (CHAT_LINE + b'["user", "assistant"]\n', "Line 2: Expected a JSON object, got a list"),
    "missing-messages": (
        CHAT_LINE + b'{"conversation": []}\n',
        'Line 2, key "messages": Missing key "messages"',
    ),
    "unknown-role": (
        CHAT_LINE
        + jsonl(
            [{"messages": [{"role": "robot", "content": "beep"}, {"role": "assistant", "content": "boop"}]}]
        ),
        'Line 2, key "messages[0].role": Unknown role "robot"',
    ),
    "no-assistant": (
        jsonl([{"messages": [{"role": "user", "content": "hi"}]}]),
        'Line 1, key "messages": No assistant message',
    ),
    "mixed-formats": (
        CHAT_LINE + jsonl([{"prompt": "2+2", "completion": "4"}]),
        "Line 2: This line is a completion example, but line 1 started the file as chat",
    ),
    "invalid-utf8": (
        CHAT_LINE + b'{"messages": [{"role": "user", "content": "caf\xe9"}]}\n',
        "Line 2: The line is not valid UTF-8",
    ),
    "line-over-limit": (
        CHAT_LINE + _long_line(),
        f"Line 2: The line is longer than the limit of {MAX_LINE_BYTES}",
    ),
    "empty": (b"\n\n", "no training examples"),
    "message-not-object": (
        jsonl([{"messages": ["hello", {"role": "assistant", "content": "hi"}]}]),
        'Line 1, key "messages[0]": Each message must be an object',
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_training_file(client: openai.OpenAI, files_unchanged, name: str):
    content, phrase = BAD_FILES[name]
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=(f"{name}.jsonl", content), purpose="fine-tune")
    error = check_api_error(caught.value, 400, phrase=phrase, param="file", code=TRAINING_FILE)
    assert error["message"].startswith("Invalid file format.")


@pytest.mark.parametrize(
    "size", [MAX_UPLOAD_BYTES + 2048, MAX_UPLOAD_BYTES + 128 * 1024], ids=["streamed", "declared"]
)
def test_file_over_upload_limit(http: httpx.Client, files_unchanged, size: int):
    lines = CHAT_LINE * (size // len(CHAT_LINE) + 1)
    response = http.post("/files", data={"purpose": "fine-tune"}, files={"file": ("big.jsonl", lines)})
    check_error(
        response,
        413,
        phrase=f"larger than the limit of {MAX_UPLOAD_BYTES} bytes",
        param="file",
        code="file_too_large",
    )


def test_oversized_upload_is_an_sdk_status_error(client: openai.OpenAI, files_unchanged):
    with pytest.raises(openai.APIStatusError) as caught:
        client.files.create(file=("big.jsonl", CHAT_LINE * 200), purpose="fine-tune")
    assert type(caught.value) is openai.APIStatusError  # the SDK has no class of its own for 413
    check_api_error(caught.value, 413, phrase="larger than the limit", param="file", code="file_too_large")


# --- uploads --------------------------------------------------------------------------------------------


def _upload(client: openai.OpenAI, size: int, *, filename: str = "train.jsonl", purpose: str = "fine-tune"):
    return client.uploads.create(
        bytes=size, filename=filename, mime_type="application/jsonl", purpose=purpose
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "phrase", "param", "code"),
    [
        ({"purpose": "batch"}, 400, "'batch' is not a purpose", "purpose", None),
        ({"filename": "train.txt"}, 400, "Must be .jsonl (got 'train.txt')", "file", None),
        (
            {"size": MAX_UPLOAD_BYTES + 1},
            413,
            f"over the limit of {MAX_UPLOAD_BYTES}",
            "bytes",
            "file_too_large",
        ),
        (
            {"size": 0},
            400,
            "Invalid value for 'bytes': Input should be greater than 0",
            "bytes",
            "invalid_value",
        ),
    ],
    ids=["purpose", "filename", "too-large", "zero-bytes"],
)
def test_upload_create_rejected(
    client: openai.OpenAI, kwargs: dict, status: int, phrase: str, param: str, code: str | None
):
    size = kwargs.pop("size", 100)
    with pytest.raises(openai.APIStatusError) as caught:
        _upload(client, size, **kwargs)
    check_api_error(caught.value, status, phrase=phrase, param=param, code=code)


def test_upload_complete_mistakes(client: openai.OpenAI, files_unchanged):
    data = GOOD_FILE
    upload = _upload(client, len(data))
    first = client.uploads.parts.create(upload.id, data=data[:100])

    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=[first.id])
    check_api_error(
        caught.value,
        400,
        phrase=f"The parts hold 100 bytes but the upload was created with bytes={len(data)}",
        param="part_ids",
        code=None,
    )

    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=[first.id, "part_unknown"])
    check_api_error(caught.value, 400, phrase="Unknown part id(s)", param="part_ids", code=None)
    assert "part_unknown" in caught.value.message

    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=[first.id, first.id])
    check_api_error(caught.value, 400, phrase="more than once", param="part_ids", code=None)

    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=[])
    check_api_error(
        caught.value, 400, phrase="Invalid value for 'part_ids'", param="part_ids", code="invalid_value"
    )

    second = client.uploads.parts.create(upload.id, data=data[100:])
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(
            upload.id, part_ids=[first.id, second.id], md5=hashlib.md5(b"other").hexdigest()
        )
    check_api_error(caught.value, 400, phrase="md5 checksum does not match", param="md5", code=None)

    # Out of order: same byte total, but the bytes no longer form JSON lines.
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload.id, part_ids=[second.id, first.id])
    check_api_error(caught.value, 400, phrase="Invalid file format. Line", param="file", code=TRAINING_FILE)

    files_unchanged.check()  # none of the failed completions made a File
    done = client.uploads.complete(
        upload.id, part_ids=[first.id, second.id], md5=hashlib.md5(data).hexdigest()
    )
    assert done.status == "completed" and done.file is not None
    assert client.files.content(done.file.id).content == data
    files_unchanged.ids.append(done.file.id)
    files_unchanged.stored.add(done.file.id)

    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.complete(upload.id, part_ids=[first.id, second.id])
    check_api_error(caught.value, 409, phrase="is already completed", param=None, code="upload_not_pending")
    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.parts.create(upload.id, data=b"more")
    check_api_error(caught.value, 409, phrase="is already completed", param=None, code="upload_not_pending")


def test_upload_part_without_data(http: httpx.Client, client: openai.OpenAI):
    upload = _upload(client, 10)
    response = http.post(f"/uploads/{upload.id}/parts", files={"chunk": ("blob", b"0123456789")})
    check_error(response, 400, phrase="Missing required parameter: 'data'", param="data", code=None)


def test_cancelled_upload(client: openai.OpenAI, files_unchanged):
    upload = _upload(client, len(CHAT_LINE))
    part = client.uploads.parts.create(upload.id, data=CHAT_LINE)
    assert client.uploads.cancel(upload.id).status == "cancelled"

    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.parts.create(upload.id, data=CHAT_LINE)
    check_api_error(
        caught.value,
        409,
        phrase=f"Upload {upload.id} is already cancelled",
        param=None,
        code="upload_not_pending",
    )
    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.complete(upload.id, part_ids=[part.id])
    check_api_error(caught.value, 409, phrase="is already cancelled", param=None, code="upload_not_pending")
    with pytest.raises(openai.ConflictError) as caught:
        client.uploads.cancel(upload.id)
    check_api_error(caught.value, 409, phrase="is already cancelled", param=None, code="upload_not_pending")


# --- fine-tuning jobs -----------------------------------------------------------------------------------


def test_too_few_examples(client: openai.OpenAI):
    small = client.files.create(file=("small.jsonl", jsonl(chat_rows(3))), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file=small.id)
    check_api_error(
        caught.value,
        400,
        phrase="Training file has 3 example(s), but must have at least 10",
        param="training_file",
        code=TRAINING_FILE,
    )


def test_dpo_method_with_chat_file(client: openai.OpenAI, chat_file: str):
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama",
            training_file=chat_file,
            method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1}}},
        )
    check_api_error(
        caught.value,
        400,
        phrase="is in chat format, but the dpo method needs dpo examples",
        param="training_file",
        code=TRAINING_FILE,
    )


def test_validation_file_in_wrong_format(client: openai.OpenAI, chat_file: str):
    row = {
        "input": {"messages": [{"role": "user", "content": "2+2?"}]},
        "preferred_output": [{"role": "assistant", "content": "4"}],
        "non_preferred_output": [{"role": "assistant", "content": "5"}],
    }
    preference = client.files.create(file=("dpo.jsonl", jsonl([row] * 10)), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=chat_file, validation_file=preference.id
        )
    check_api_error(
        caught.value,
        400,
        phrase="is in dpo format, but the supervised method needs chat or completion",
        param="validation_file",
        code=TRAINING_FILE,
    )


def test_unknown_training_file(client: openai.OpenAI):
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.create(model="tiny-llama", training_file="file-doesnotexist")
    check_api_error(
        caught.value,
        404,
        phrase="No such File object: file-doesnotexist",
        param="training_file",
        code=NOT_FOUND,
    )


def test_unknown_validation_file(client: openai.OpenAI, chat_file: str):
    with pytest.raises(openai.NotFoundError) as caught:
        client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=chat_file, validation_file="file-nope"
        )
    check_api_error(
        caught.value, 404, phrase="No such File object: file-nope", param="validation_file", code=NOT_FOUND
    )


def test_model_not_routed(client: openai.OpenAI, chat_file: str):
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=chat_file)
    check_api_error(
        caught.value,
        400,
        phrase="'gpt-4o-mini-2024-07-18' is not available for fine-tuning",
        param="model",
        code="model_not_available",
    )


def test_controls_on_a_finished_job(client: openai.OpenAI, chat_file: str):
    job = client.fine_tuning.jobs.create(model="tiny-llama", training_file=chat_file)
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    assert wait_job(client, job.id, timeout=30).status == "cancelled"
    for action in ("cancel", "pause", "resume"):
        with pytest.raises(openai.ConflictError) as caught:
            getattr(client.fine_tuning.jobs, action)(job.id)
        check_api_error(
            caught.value,
            409,
            phrase=f"Job {job.id} has already cancelled; it cannot be {action}d",
            param=None,
            code="job_finished",
        )


# --- models and chat ------------------------------------------------------------------------------------


def _chat(client: openai.OpenAI, model: str):
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )


@pytest.mark.parametrize(
    "model",
    [
        "ft:tiny-llama:acme:calc:abcd1234",
        "ft:tiny-llama:acme:calc:abcd1234:ckpt-step-1",
        "gpt-4o",
        "tiny-missing",
    ],
)
def test_chat_with_unknown_model(client: openai.OpenAI, model: str):
    with pytest.raises(openai.NotFoundError) as caught:
        _chat(client, model)
    check_api_error(
        caught.value, 404, phrase=f"The model '{model}' does not exist", param="model", code="model_not_found"
    )


def test_chat_without_messages(http: httpx.Client):
    response = http.post("/chat/completions", json={"model": "tiny-llama", "messages": []})
    check_error(response, 400, phrase="Invalid value for 'messages'", param="messages", code="invalid_value")


def test_checkpoint_permissions_refused(client: openai.OpenAI, http: httpx.Client):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.fine_tuning.checkpoints.permissions.create(
            "ft:tiny-llama:acme:calc:abcd1234:ckpt-step-1", project_ids=["proj_1"]
        )
    check_api_error(
        caught.value,
        403,
        phrase="Sharing fine-tuned checkpoints is not available",
        param=None,
        code="checkpoint_sharing_disabled",
    )
    for method in ("GET", "DELETE"):
        response = http.request(method, "/fine_tuning/checkpoints/ft:tiny-llama:acme::x/permissions")
        check_error(
            response, 403, phrase="skip the release gate", param=None, code="checkpoint_sharing_disabled"
        )
