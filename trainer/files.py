"""Uploaded files on disk: ``files/<id>.json`` holds the OpenAI file object, ``<id>.bin`` the bytes."""

from __future__ import annotations

import io
import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, BinaryIO

from trainer.errors import APIError, not_found
from trainer.jsonio import write_json

PURPOSES = {"fine-tune", "fine-tune-results", "assistants", "batch", "vision", "user_data", "evals"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


class FileStore:
    """Create, read and delete files; an id is valid while its JSON record exists."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def _meta(self, file_id: str) -> Path:
        return self.root / f"{file_id}.json"

    def content_path(self, file_id: str) -> Path:
        self.get(file_id)
        return self.root / f"{file_id}.bin"

    def create(self, stream: BinaryIO, filename: str, purpose: str) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise APIError(400, f"Invalid purpose '{purpose}'.", param="purpose", code="invalid_value")
        file_id = new_id("file")
        data_path = self.root / f"{file_id}.bin"
        with data_path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        size = data_path.stat().st_size
        if size > self.max_bytes:
            data_path.unlink()
            raise APIError(
                413, f"File is larger than {self.max_bytes} bytes.", param="file", code="file_too_large"
            )
        record = {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }
        write_json(self._meta(file_id), record)
        return record

    def add_bytes(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        """Store a file the server itself produces (e.g. a job's results CSV)."""
        return self.create(io.BytesIO(data), filename, purpose)

    def get(self, file_id: str) -> dict[str, Any]:
        path = self._meta(file_id) if _safe_id(file_id) else None
        if path is None or not path.is_file():
            raise not_found(f"No such File object: {file_id}", param="id")
        return json.loads(path.read_text())

    def list(self, purpose: str | None = None) -> list[dict[str, Any]]:
        records = [json.loads(p.read_text()) for p in self.root.glob("file-*.json")]
        if purpose:
            records = [r for r in records if r["purpose"] == purpose]
        return sorted(records, key=lambda r: (r["created_at"], r["id"]), reverse=True)

    def delete(self, file_id: str) -> dict[str, Any]:
        self.get(file_id)
        self._meta(file_id).unlink(missing_ok=True)
        (self.root / f"{file_id}.bin").unlink(missing_ok=True)
        return {"id": file_id, "object": "file", "deleted": True}


def _safe_id(file_id: str) -> bool:
    """Ids become file names: allow only our own alphabet."""
    return file_id.startswith("file-") and file_id[5:].isalnum()
