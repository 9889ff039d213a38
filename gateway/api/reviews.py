"""/v1/tunegate/reviews (the review queue) and /v1/tunegate/audit-log: reviewers and admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.api.deps import PrincipalDep, ServicesDep
from gateway.protocol.common import StrictRequest, error_responses

router = APIRouter(prefix="/v1/tunegate", responses=error_responses(400, 401, 403, 404))


class DecisionRequest(StrictRequest):
    reason: str


def _page(items: list[dict[str, Any]], *, has_more: bool, key: str = "id") -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": has_more,
        "first_id": items[0][key] if items else None,
        "last_id": items[-1][key] if items else None,
    }


@router.get("/reviews")
async def list_reviews(
    principal: PrincipalDep,
    svc: ServicesDep,
    status: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    items, more = await svc.reviews.list(principal, status=status, after=after, limit=limit)
    return _page(items, has_more=more)


@router.get("/reviews/{review_id}")
async def retrieve_review(review_id: str, principal: PrincipalDep, svc: ServicesDep) -> dict[str, Any]:
    return await svc.reviews.show(principal, review_id)


@router.post("/reviews/{review_id}/approve", responses=error_responses(409))
async def approve_review(
    review_id: str, body: DecisionRequest, principal: PrincipalDep, svc: ServicesDep
) -> dict[str, Any]:
    return await svc.reviews.approve(principal, review_id, body.reason)


@router.post("/reviews/{review_id}/reject", responses=error_responses(409))
async def reject_review(
    review_id: str, body: DecisionRequest, principal: PrincipalDep, svc: ServicesDep
) -> dict[str, Any]:
    return await svc.reviews.reject(principal, review_id, body.reason)


@router.get("/audit-log")
async def audit_log(
    principal: PrincipalDep,
    svc: ServicesDep,
    subject: str | None = None,
    after: Annotated[
        int | None, Query(ge=0, description="the seq of the last entry of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    items, more = await svc.reviews.audit_log(principal, subject=subject, after_seq=after, limit=limit)
    return _page(items, has_more=more, key="seq")
