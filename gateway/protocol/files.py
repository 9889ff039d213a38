"""Files and uploads on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.protocol.common import OpenAIModel, StrictRequest
from gateway.store import tables

# tunegate only carries fine-tuning data; other purposes have no scan and are refused.
ACCEPTED_PURPOSES = ("fine-tune",)


class FileObject(OpenAIModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: int | None = None
    filename: str
    purpose: str
    status: str
    status_details: str | None = None

    @classmethod
    def from_row(cls, row: tables.File) -> FileObject:
        return cls(
            id=row.id,
            bytes=row.bytes,
            created_at=row.created_at,
            expires_at=row.expires_at,
            filename=row.filename,
            purpose=row.purpose,
            status=row.status,
            status_details=row.status_details,
        )


class FileDeleted(OpenAIModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class UploadCreateRequest(StrictRequest):
    bytes: int = Field(gt=0)
    filename: str = Field(min_length=1, max_length=512)
    mime_type: str = Field(min_length=1, max_length=128)
    purpose: str
    expires_after: dict[str, object] | None = None


class UploadCompleteRequest(StrictRequest):
    part_ids: list[str] = Field(min_length=1)
    md5: str | None = None


class UploadObject(OpenAIModel):
    id: str
    object: Literal["upload"] = "upload"
    bytes: int
    created_at: int
    expires_at: int
    filename: str
    purpose: str
    status: str
    file: FileObject | None = None

    @classmethod
    def from_row(cls, row: tables.Upload, file: tables.File | None = None) -> UploadObject:
        return cls(
            id=row.id,
            bytes=row.bytes,
            created_at=row.created_at,
            expires_at=row.expires_at,
            filename=row.filename,
            purpose=row.purpose,
            status=row.status,
            file=FileObject.from_row(file) if file else None,
        )


class UploadPartObject(OpenAIModel):
    id: str
    object: Literal["upload.part"] = "upload.part"
    created_at: int
    upload_id: str
