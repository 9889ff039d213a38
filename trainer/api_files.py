"""``/v1/files``: upload, list, read and delete training files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from trainer.files import FileStore


def files_router(files: FileStore) -> APIRouter:
    router = APIRouter()

    @router.post("/files")
    def upload(file: UploadFile = File(...), purpose: str = Form(...)) -> dict[str, Any]:
        return files.create(file.file, file.filename or "upload.jsonl", purpose)

    @router.get("/files")
    def list_files(purpose: str | None = None) -> dict[str, Any]:
        return {"object": "list", "data": files.list(purpose), "has_more": False}

    @router.get("/files/{file_id}")
    def get_file(file_id: str) -> dict[str, Any]:
        return files.get(file_id)

    @router.delete("/files/{file_id}")
    def delete_file(file_id: str) -> dict[str, Any]:
        return files.delete(file_id)

    @router.get("/files/{file_id}/content")
    def file_content(file_id: str) -> FileResponse:
        record = files.get(file_id)
        return FileResponse(
            files.content_path(file_id), filename=record["filename"], media_type="application/octet-stream"
        )

    return router
