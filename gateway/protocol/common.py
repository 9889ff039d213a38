"""Base wire models: OpenAI's shapes, unknown fields passed through."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class OpenAIModel(BaseModel):
    """Every wire model accepts and keeps fields it does not know (the API grows)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class StrictRequest(BaseModel):
    """Request bodies whose unknown fields are a client mistake worth a 400."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorDetail(BaseModel):
    """The four fields of every error, nothing else (``gateway.errors.GatewayError.envelope``)."""

    model_config = ConfigDict(extra="forbid")

    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(BaseModel):
    """OpenAI's error envelope, the body of every 4xx and 5xx answer."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


_ERROR_DESCRIPTIONS: dict[int | str, str] = {
    400: "The request or the uploaded file is invalid; the message says what to fix.",
    401: "No API key, or an unknown one.",
    403: "The key's role or tenant may not do this.",
    404: "No such object for this tenant.",
    409: "The object is not in a state that allows this.",
    413: "The upload is over the size limit.",
    502: "The upstream provider failed.",
    "4XX": "Any other client error.",
    "5XX": "A server error.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or route: the named statuses, plus 4XX and 5XX, all as the envelope.

    The ranges describe what every route may answer (405, a proxy's 5xx) and keep FastAPI from
    documenting its 422, which tunegate never sends (validation errors are 400s).
    """
    return {
        status: {"model": ErrorEnvelope, "description": _ERROR_DESCRIPTIONS[status]}
        for status in (*statuses, "4XX", "5XX")
    }


class ListPage(OpenAIModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False

    @classmethod
    def of(cls, items: list[Any], *, has_more: bool) -> ListPage[Any]:
        return cls(
            data=items,
            first_id=items[0].id if items else None,
            last_id=items[-1].id if items else None,
            has_more=has_more,
        )
