"""/v1/models and /v1/chat/completions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.api.deps import PrincipalDep, ServicesDep
from gateway.errors import NotFound
from gateway.protocol.common import ListPage, error_responses
from gateway.protocol.models import ChatCompletionRequest, ModelObject

router = APIRouter(prefix="/v1", responses=error_responses(400, 401, 404))


@router.get("/models", response_model=ListPage[ModelObject], response_model_exclude_none=True)
async def list_models(principal: PrincipalDep, svc: ServicesDep) -> ListPage[ModelObject]:
    items = await svc.models.list(principal)
    return ListPage(data=items)


@router.get("/models/{model:path}", response_model=ModelObject)
async def retrieve_model(model: str, principal: PrincipalDep, svc: ServicesDep) -> ModelObject:
    for item in await svc.models.list(principal):
        if item.id == model:
            return item
    raise NotFound(
        f"The model '{model}' does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/event-stream": {"schema": {"type": "string"}},
            }
        },
        **error_responses(403, 502),
    },
)
async def chat_completions(
    body: ChatCompletionRequest, principal: PrincipalDep, svc: ServicesDep
) -> JSONResponse | StreamingResponse:
    payload = body.model_dump(exclude_unset=True)
    if body.stream:
        stream = await svc.models.chat_stream(principal, payload)
        return StreamingResponse(stream, media_type="text/event-stream")
    # The upstream's answer is plain JSON already: rendered as is, without FastAPI's jsonable_encoder.
    return JSONResponse(await svc.models.chat(principal, payload))
