"""Cursor pagination the OpenAI way: ``after`` names the last id of the previous page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession


async def page_rows(
    session: AsyncSession,
    query: Select,
    table: Any,
    *,
    after: str | None,
    limit: int,
    descending: bool = True,
) -> tuple[list[Any], bool]:
    """One page of ``query`` ordered by (created_at, id); returns the rows and whether more follow.

    ``query`` must already carry the tenant filter, so a cursor naming another tenant's
    object finds nothing and yields an empty page.
    """
    if after:
        anchor = (await session.execute(query.where(table.id == after))).scalar_one_or_none()
        if anchor is None:
            return [], False
        if descending:
            query = query.where(
                or_(
                    table.created_at < anchor.created_at,
                    and_(table.created_at == anchor.created_at, table.id < anchor.id),
                )
            )
        else:
            query = query.where(
                or_(
                    table.created_at > anchor.created_at,
                    and_(table.created_at == anchor.created_at, table.id > anchor.id),
                )
            )
    order = (table.created_at.desc(), table.id.desc()) if descending else (table.created_at, table.id)
    rows = list((await session.scalars(query.order_by(*order).limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit
