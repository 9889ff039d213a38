"""Schemathesis against tunegate's own OpenAPI document: no 5xx, and every response is what the document says.

The app runs in process (ASGI, no socket) on a real SQLite store in a temporary directory, with the
session's real reference trainer as its upstream. The background worker is off (``run_worker=False``):
this fuzzes the HTTP surface, and nothing a request does waits on the worker. A user key calls every
route, a reviewer key the review queue and audit log. Schemathesis generates valid and invalid requests
for every operation and each response must pass: no server error, a declared status code, a declared
content type, and a body that matches the declared schema (the error envelope included). Uploads are
also fuzzed with JSONL-shaped files, checked against the parser run in process. Runs are derandomized,
so CI sees the same requests every time; the ``slow`` variants add schemathesis's coverage phase and
run many more examples (``make test-all``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import create_app
from gateway.auth import Role, create_key
from gateway.protocol.common import ErrorEnvelope
from gateway.scan.parse import StreamingParser, TrainingFileError
from gateway.settings import Settings, load_settings
from gateway.store.db import create_engine, migrate, session_factory
from tests.support.data import chat_rows
from tests.support.processes import GatewayProcess

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FAST_EXAMPLES = 10
SLOW_EXAMPLES = 200
FAST_UPLOADS = 40
SLOW_UPLOADS = 1000


async def _keys(database_url: str) -> dict[Role, str]:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with session_factory(engine)() as session:
            return {role: await create_key(session, tenant="acme", team="ml", role=role) for role in Role}
    finally:
        await engine.dispose()


def _document() -> dict:
    """The OpenAPI document, built the way the server builds it (no I/O: the lifespan is not run)."""
    return create_app(Settings(trainer={"embedded": False}), run_worker=False).openapi()


# Loaded at import so pytest lists one test per operation; the fixture app below serves the same document.
# `make test` runs the fuzzing phase only; the slow run adds the coverage phase (boundary values, every
# way to break each parameter, unexpected methods) and many more examples.
schema = schemathesis.openapi.from_dict(_document())
schema.config.phases.update(phases=["fuzzing"])
thorough_schema = schemathesis.openapi.from_dict(_document())
thorough_schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module")
def served(trainer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[Role, str]]]:
    """The app on a fresh SQLite store with the trainer upstream, and one key per role of one tenant."""
    workdir: Path = tmp_path_factory.mktemp("fuzz") / "gw"
    # Writes the config file a gateway process would read; the app itself runs in this process.
    config = GatewayProcess(workdir, trainer_url=trainer.url).config_path
    app_settings = load_settings(config)
    keys = asyncio.run(_keys(app_settings.resolved_database_url))
    app = create_app(app_settings, run_worker=False)
    yield app, keys
    asgi.shutdown_lifespans()  # the lifespan schemathesis started on the first call


def test_document_declares_the_error_envelope(served):
    """Every operation documents its errors as the envelope, and none the 422 that tunegate never sends."""
    document = served[0].openapi()
    assert document == _document()  # the served app's document is the one fuzzed
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}"
            for status in ("4XX", "5XX"):
                assert responses[status]["content"]["application/json"]["schema"] == envelope, (method, path)


def _call_and_check(case, served: tuple[FastAPI, dict[Role, str]]) -> None:
    app, keys = served
    # The review queue and the audit log answer reviewers; every other route a plain user.
    role = Role.REVIEWER if case.path.startswith("/v1/tunegate") else Role.USER
    response = case.call(app=app, headers={"Authorization": f"Bearer {keys[role]}"})
    case.validate_response(response, checks=CHECKS)


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,  # the same requests on every run
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@schema.parametrize()
@_settings(FAST_EXAMPLES)
def test_openapi_fuzz(case, served):
    _call_and_check(case, served)


@pytest.mark.slow
@thorough_schema.parametrize()
@_settings(SLOW_EXAMPLES)
def test_openapi_fuzz_thorough(case, served):
    _call_and_check(case, served)


# --- POST /v1/files with JSONL-shaped content ------------------------------------------------------------
# Schemathesis fills the multipart ``file`` with arbitrary bytes under arbitrary names, which the filename
# check mostly refuses; these examples reach the line parser: valid rows, rows with bytes cut out or put
# in, arbitrary JSON values and arbitrary bytes, joined by LF or CRLF, always named ``.jsonl``.

_VALID = [json.dumps(row) for row in chat_rows(3)]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    line = draw(st.sampled_from(_VALID)).encode()
    start = draw(st.integers(0, len(line)))
    end = draw(st.integers(start, min(len(line), start + 12)))
    return line[:start] + draw(st.binary(max_size=6)) + line[end:]


_lines = st.lists(
    st.sampled_from(_VALID).map(str.encode)
    | _mutated()
    | _json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=24).filter(lambda raw: b"\n" not in raw),
    min_size=1,
    max_size=14,
)


def _expected_error(content: bytes) -> TrainingFileError | None:
    """What the parser says about these bytes, run here in process: the oracle for the server's answer."""
    parser = StreamingParser()
    try:
        parser.feed(content)
        parser.close()
    except TrainingFileError as exc:
        return exc
    return None


def _check_upload(served: tuple[FastAPI, dict[Role, str]], lines: list[bytes], newline: bytes) -> None:
    app, keys = served
    content = newline.join(lines)
    with asgi.get_client(app) as client:
        response = client.post(
            "/v1/files",
            headers={"Authorization": f"Bearer {keys[Role.USER]}"},
            files={"file": ("fuzz.jsonl", content, "application/jsonl")},
            data={"purpose": "fine-tune"},
        )
    expected = _expected_error(content)
    if expected is None:
        assert response.status_code == 200, response.text
        assert response.json()["bytes"] == len(content)
        return
    assert response.status_code == 400, response.text
    error = ErrorEnvelope.model_validate(response.json()).error
    assert (error.param, error.code) == ("file", "invalid_training_file"), error
    assert error.message == expected.message
    if expected.line is not None:
        assert f"Line {expected.line}" in error.message


@given(lines=_lines, newline=st.sampled_from([b"\n", b"\r\n"]))
@_settings(FAST_UPLOADS)
def test_file_upload_fuzz(served, lines: list[bytes], newline: bytes):
    _check_upload(served, lines, newline)


@pytest.mark.slow
@given(lines=_lines, newline=st.sampled_from([b"\n", b"\r\n"]))
@_settings(SLOW_UPLOADS)
def test_file_upload_fuzz_thorough(served, lines: list[bytes], newline: bytes):
    _check_upload(served, lines, newline)
