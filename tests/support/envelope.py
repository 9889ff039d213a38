"""Checks for OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``, nothing else."""

from __future__ import annotations

from typing import Any

import openai

ENVELOPE_KEYS = {"message", "type", "param", "code"}
ANY = object()  # "do not check this field"


def check_error(
    response: Any,
    status: int,
    *,
    phrase: str,
    param: object,
    code: object = ANY,
    type: str = "invalid_request_error",
) -> dict[str, Any]:
    """Assert the status and the exact envelope of an error response (httpx or the SDK's); return the error.

    ``phrase`` must occur in the message; ``param`` and ``code`` are compared exactly unless ``ANY``.
    """
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ENVELOPE_KEYS, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error["type"], str), error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    assert phrase in error["message"], f"{phrase!r} not in {error['message']!r}"
    assert error["type"] == type, error
    if param is not ANY:
        assert error["param"] == param, error
    if code is not ANY:
        assert error["code"] == code, error
    return error


def check_api_error(
    exc: openai.APIStatusError,
    status: int,
    *,
    phrase: str,
    param: object,
    code: object = ANY,
    type: str = "invalid_request_error",
) -> dict[str, Any]:
    """``check_error`` on the exception the openai client raised, plus what the SDK parsed from it."""
    error = check_error(exc.response, status, phrase=phrase, param=param, code=code, type=type)
    assert exc.status_code == status
    assert exc.body == error  # the SDK unwraps "error"
    assert (exc.param, exc.code, exc.type) == (error["param"], error["code"], error["type"])
    return error
