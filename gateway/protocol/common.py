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
