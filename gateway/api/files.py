"""/v1/files and /v1/uploads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from gateway import metrics
from gateway.api.deps import PrincipalDep, ServicesDep
from gateway.protocol.common import ListPage, error_responses
from gateway.protocol.files import (
    ACCEPTED_PURPOSES,
    FileDeleted,
    FileObject,
    UploadCompleteRequest,
    UploadCreateRequest,
    UploadObject,
    UploadPartObject,
)

router = APIRouter(prefix="/v1", responses=error_responses(400, 401, 404))


_BINARY = {"type": "string", "format": "binary"}


def _multipart(file_field: str, **fields: dict[str, object]) -> dict[str, object]:
    """The form these routes read themselves (streamed, see ``_multipart``), for the OpenAPI document."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {file_field: _BINARY, **fields},
                        "required": [file_field, *fields],
                    }
                }
            },
        }
    }


@router.post(
    "/files",
    response_model=FileObject,
    responses=error_responses(413),
    openapi_extra=_multipart("file", purpose={"type": "string", "enum": list(ACCEPTED_PURPOSES)}),
)
async def create_file(request: Request, principal: PrincipalDep, svc: ServicesDep) -> FileObject:
    row = await svc.files.create_from_form(principal, request)
    metrics.FILES_UPLOADED.labels(via="files").inc()
    metrics.FILE_BYTES.labels(via="files").inc(row.bytes)
    return FileObject.from_row(row)


@router.get("/files", response_model=ListPage[FileObject])
async def list_files(
    principal: PrincipalDep,
    svc: ServicesDep,
    purpose: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    order: Literal["asc", "desc"] = "desc",
) -> ListPage[FileObject]:
    rows, more = await svc.files.list(principal, purpose=purpose, after=after, limit=limit, order=order)
    return ListPage.of([FileObject.from_row(r) for r in rows], has_more=more)


@router.get("/files/{file_id}", response_model=FileObject)
async def retrieve_file(file_id: str, principal: PrincipalDep, svc: ServicesDep) -> FileObject:
    return FileObject.from_row(await svc.files.get(principal, file_id))


@router.delete("/files/{file_id}", response_model=FileDeleted)
async def delete_file(file_id: str, principal: PrincipalDep, svc: ServicesDep) -> FileDeleted:
    await svc.files.delete(principal, file_id)
    return FileDeleted(id=file_id)


@router.get("/files/{file_id}/scan", responses=error_responses(403))
async def file_scan_report(file_id: str, principal: PrincipalDep, svc: ServicesDep) -> dict[str, object]:
    return await svc.files.scan_report(principal, file_id)


@router.get(
    "/files/{file_id}/content",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": _BINARY}}}},
)
async def file_content(file_id: str, principal: PrincipalDep, svc: ServicesDep) -> FileResponse:
    path = await svc.files.content_path(principal, file_id)
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/uploads", response_model=UploadObject, responses=error_responses(413))
async def create_upload(body: UploadCreateRequest, principal: PrincipalDep, svc: ServicesDep) -> UploadObject:
    return UploadObject.from_row(await svc.files.create_upload(principal, body))


@router.post(
    "/uploads/{upload_id}/parts",
    response_model=UploadPartObject,
    responses=error_responses(409, 413),
    openapi_extra=_multipart("data"),
)
async def add_upload_part(
    upload_id: str, request: Request, principal: PrincipalDep, svc: ServicesDep
) -> UploadPartObject:
    part = await svc.files.add_part(principal, upload_id, request)
    return UploadPartObject(id=part.id, created_at=part.created_at, upload_id=part.upload_id)


@router.post("/uploads/{upload_id}/complete", response_model=UploadObject, responses=error_responses(409))
async def complete_upload(
    upload_id: str, body: UploadCompleteRequest, principal: PrincipalDep, svc: ServicesDep
) -> UploadObject:
    upload, file = await svc.files.complete_upload(principal, upload_id, body.part_ids, body.md5)
    metrics.FILES_UPLOADED.labels(via="uploads").inc()
    metrics.FILE_BYTES.labels(via="uploads").inc(file.bytes)
    return UploadObject.from_row(upload, file)


@router.post("/uploads/{upload_id}/cancel", response_model=UploadObject, responses=error_responses(409))
async def cancel_upload(upload_id: str, principal: PrincipalDep, svc: ServicesDep) -> UploadObject:
    return UploadObject.from_row(await svc.files.cancel_upload(principal, upload_id))
