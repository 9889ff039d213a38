"""Files and uploads: stream to the spool, validate the format, record, and queue the scan."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import anyio
from python_multipart.exceptions import FormParserError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from gateway.api._multipart import FileSink, StreamedForm, read_form
from gateway.auth import Principal, Role
from gateway.errors import Conflict, InvalidRequest, NotFound, PayloadTooLarge, PermissionDenied
from gateway.ids import new_id
from gateway.jobs.lifecycle import SCAN_WORK
from gateway.jobs.queue import enqueue
from gateway.protocol.files import ACCEPTED_PURPOSES, UploadCreateRequest
from gateway.scan.parse import StreamingParser
from gateway.scan.pipeline import new_scan
from gateway.settings import Settings
from gateway.spool import Spool, SpoolWriter
from gateway.store import tables
from gateway.store.pagination import page_rows
from policies.registry import PolicySet

MAX_UPLOAD_PART_BYTES = 64 * 1024 * 1024


def check_purpose(purpose: str | None) -> str:
    if not purpose:
        raise InvalidRequest(
            "Missing required parameter: 'purpose'. Use purpose='fine-tune'.", param="purpose"
        )
    if purpose not in ACCEPTED_PURPOSES:
        raise InvalidRequest(
            f"'{purpose}' is not a purpose this gateway accepts; tunegate carries fine-tuning data only "
            "(purpose='fine-tune').",
            param="purpose",
        )
    return purpose


def check_filename(filename: str | None) -> str:
    if not filename:
        raise InvalidRequest(
            "Missing required parameter: 'file'. Send the data as a multipart file.", param="file"
        )
    if not filename.lower().endswith(".jsonl"):
        raise InvalidRequest(
            f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {filename!r}).", param="file"
        )
    return filename


async def _read_form(
    request: Request, *, file_field: str, open_sink: Callable[[str, StreamedForm], FileSink]
) -> StreamedForm:
    """``read_form``, with a malformed multipart body reported as the client's mistake (400), not a 500."""
    try:
        return await read_form(request, file_field=file_field, open_sink=open_sink)
    except FormParserError as exc:
        raise InvalidRequest(
            f"The multipart/form-data body could not be parsed ({exc}); send a well-formed form.",
            param=file_field,
        ) from None


class _ValidatingSink:
    """Spools the bytes and checks each JSONL line as it passes."""

    def __init__(self, writer: SpoolWriter, parser: StreamingParser) -> None:
        self.writer = writer
        self.parser = parser

    def write(self, chunk: bytes) -> None:
        self.writer.write(chunk)
        self.parser.feed(chunk)


class FileService:
    def __init__(
        self, sessions: async_sessionmaker, spool: Spool, settings: Settings, policies: PolicySet
    ) -> None:
        self._sessions = sessions
        self._spool = spool
        self._settings = settings
        self._policies = policies

    # --- files -----------------------------------------------------------------------------
    async def create_from_form(self, principal: Principal, request: Request) -> tables.File:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._settings.max_upload_bytes + 64 * 1024:
            raise PayloadTooLarge(
                f"The file is larger than the limit of {self._settings.max_upload_bytes} bytes.", param="file"
            )
        file_id = new_id("file-")
        holder: dict[str, _ValidatingSink] = {}

        def open_sink(filename: str, form: StreamedForm) -> _ValidatingSink:
            check_filename(filename)
            if "purpose" in form.fields:
                check_purpose(form.fields["purpose"])
            writer = self._spool.writer(f"files/{file_id}", max_bytes=self._settings.max_upload_bytes)
            holder["sink"] = _ValidatingSink(
                writer, StreamingParser(max_line_bytes=self._settings.max_line_bytes)
            )
            return holder["sink"]

        try:
            form = await _read_form(request, file_field="file", open_sink=open_sink)
            purpose = check_purpose(form.fields.get("purpose"))
            sink = holder.get("sink")
            if sink is None:
                raise InvalidRequest("Missing required parameter: 'file'.", param="file")
            sink.parser.close()
            path = sink.writer.commit()
        except BaseException:
            if "sink" in holder:
                holder["sink"].writer.discard()
            raise
        return await self._record(
            principal,
            file_id=file_id,
            filename=form.filename or "",
            purpose=purpose,
            path=path,
            size=sink.writer.bytes,
            sha256=sink.writer.sha256,
            parser=sink.parser,
        )

    async def _record(
        self,
        principal: Principal,
        *,
        file_id: str,
        filename: str,
        purpose: str,
        path: Path,
        size: int,
        sha256: str,
        parser: StreamingParser,
        session: AsyncSession | None = None,
    ) -> tables.File:
        if parser.examples_count == 0:
            self._spool.remove(f"files/{file_id}")
            raise InvalidRequest(
                "Invalid file format. The file holds no examples.", param="file", code="invalid_training_file"
            )
        row = tables.File(
            id=file_id,
            tenant=principal.tenant,
            team=principal.team,
            filename=filename,
            purpose=purpose,
            bytes=size,
            sha256=sha256,
            spool_path=str(path),
            created_at=int(time.time()),
            expires_at=None,
            status="uploaded",
            status_details=None,
            format=parser.format.value if parser.format else None,
            examples=parser.examples_count,
        )
        # The upload is scanned under the policy its tenant and team match (no base model yet).
        scan = new_scan(row, self._policies.match(tenant=row.tenant, team=row.team, model=None))
        row.scan_id = scan.id
        async with self._sessions() as own:
            target = session or own
            target.add(row)
            await target.flush()
            target.add(scan)
            await enqueue(target, SCAN_WORK, scan.id)
            await target.commit()
        return row

    async def get(self, principal: Principal, file_id: str) -> tables.File:
        async with self._sessions() as session:
            row = await session.get(tables.File, file_id)
        if row is None or row.tenant != principal.tenant or row.deleted:
            raise NotFound(f"No such File object: {file_id}", param="id")
        return row

    async def list(
        self, principal: Principal, *, purpose: str | None, after: str | None, limit: int, order: str
    ) -> tuple[list[tables.File], bool]:
        query = select(tables.File).where(
            tables.File.tenant == principal.tenant, tables.File.deleted.is_(False)
        )
        if purpose:
            query = query.where(tables.File.purpose == purpose)
        async with self._sessions() as session:
            return await page_rows(
                session, query, tables.File, after=after, limit=limit, descending=order != "asc"
            )

    async def scan_report(self, principal: Principal, file_id: str) -> dict[str, object]:
        """The scan report, for the uploading team or a reviewer/admin of the tenant."""
        row = await self.get(principal, file_id)
        if row.team != principal.team and principal.role not in (Role.REVIEWER, Role.ADMIN):
            raise PermissionDenied(
                "Only the uploading team or a reviewer of the tenant can read this scan report."
            )
        body: dict[str, object] = {"object": "file.scan_report", "file_id": row.id}
        async with self._sessions() as session:
            scan = await session.get(tables.Scan, row.scan_id) if row.scan_id else None
        if scan is None or scan.status == "pending":
            return {**body, "status": "pending"}
        if scan.status == "failed" or not scan.report:
            return {**body, "status": "failed", "reason": scan.details}
        held = {"review": scan.review} if scan.review else {}
        return {**body, "status": "completed", **held, **scan.report}

    async def delete(self, principal: Principal, file_id: str) -> None:
        row = await self.get(principal, file_id)
        async with self._sessions() as session:
            stored = await session.get(tables.File, row.id)
            if stored is not None:
                stored.deleted = True
                await session.commit()
        self._spool.remove(f"files/{file_id}")

    async def content_path(self, principal: Principal, file_id: str) -> Path:
        row = await self.get(principal, file_id)
        path = Path(row.spool_path)
        if not await anyio.Path(path).is_file():
            raise NotFound(f"The content of {file_id} is no longer stored.", param="id")
        return path

    # --- uploads -----------------------------------------------------------------------------
    async def create_upload(self, principal: Principal, body: UploadCreateRequest) -> tables.Upload:
        check_purpose(body.purpose)
        check_filename(body.filename)
        if body.bytes > self._settings.max_upload_bytes:
            limit = self._settings.max_upload_bytes
            raise PayloadTooLarge(
                f"The upload declares {body.bytes} bytes, over the limit of {limit}.",
                param="bytes",
            )
        now = int(time.time())
        row = tables.Upload(
            id=new_id("upload_"),
            tenant=principal.tenant,
            team=principal.team,
            filename=body.filename,
            purpose=body.purpose,
            mime_type=body.mime_type,
            bytes=body.bytes,
            status="pending",
            created_at=now,
            expires_at=now + self._settings.upload_expiry_seconds,
        )
        async with self._sessions() as session:
            session.add(row)
            await session.commit()
        return row

    async def get_upload(self, principal: Principal, upload_id: str) -> tables.Upload:
        async with self._sessions() as session:
            row = await session.get(tables.Upload, upload_id)
        if row is None or row.tenant != principal.tenant:
            raise NotFound(f"No such Upload object: {upload_id}", param="upload_id")
        return row

    async def _pending_upload(self, principal: Principal, upload_id: str) -> tables.Upload:
        row = await self.get_upload(principal, upload_id)
        if row.status == "pending" and row.expires_at < time.time():
            async with self._sessions() as session:
                stored = await session.get(tables.Upload, row.id)
                if stored is not None:
                    stored.status = "expired"
                    await session.commit()
            self._spool.remove(f"uploads/{row.id}")
            raise Conflict(f"Upload {upload_id} has expired; create a new one.", code="upload_expired")
        if row.status != "pending":
            raise Conflict(f"Upload {upload_id} is already {row.status}.", code="upload_not_pending")
        return row

    async def add_part(self, principal: Principal, upload_id: str, request: Request) -> tables.UploadPart:
        upload = await self._pending_upload(principal, upload_id)
        part_id = new_id("part_")
        holder: dict[str, SpoolWriter] = {}

        def open_sink(_filename: str, _form: StreamedForm) -> SpoolWriter:
            holder["w"] = self._spool.writer(
                f"uploads/{upload.id}/{part_id}", max_bytes=MAX_UPLOAD_PART_BYTES
            )
            return holder["w"]

        try:
            await _read_form(request, file_field="data", open_sink=open_sink)
            if "w" not in holder:
                raise InvalidRequest("Missing required parameter: 'data'.", param="data")
            path = holder["w"].commit()
        except BaseException:
            if "w" in holder:
                holder["w"].discard()
            raise
        part = tables.UploadPart(
            id=part_id,
            upload_id=upload.id,
            created_at=int(time.time()),
            bytes=holder["w"].bytes,
            spool_path=str(path),
        )
        async with self._sessions() as session:
            session.add(part)
            await session.commit()
        return part

    async def complete_upload(
        self, principal: Principal, upload_id: str, part_ids: list[str], md5: str | None
    ) -> tuple[tables.Upload, tables.File]:
        """Assemble the parts on disk in the given order, validate, and create the File."""
        upload = await self._pending_upload(principal, upload_id)
        async with self._sessions() as session:
            parts = {
                p.id: p
                for p in (
                    await session.scalars(
                        select(tables.UploadPart).where(tables.UploadPart.upload_id == upload.id)
                    )
                ).all()
            }
        missing = [p for p in part_ids if p not in parts]
        if missing:
            raise InvalidRequest(
                f"Unknown part id(s) for {upload_id}: {', '.join(missing)}", param="part_ids"
            )
        if len(set(part_ids)) != len(part_ids):
            raise InvalidRequest("part_ids lists a part more than once.", param="part_ids")
        total = sum(parts[p].bytes for p in part_ids)
        if total != upload.bytes:
            raise InvalidRequest(
                f"The parts hold {total} bytes but the upload was created with bytes={upload.bytes}.",
                param="part_ids",
            )
        file_id = new_id("file-")
        parser = StreamingParser(max_line_bytes=self._settings.max_line_bytes)
        digest = hashlib.md5(usedforsecurity=False)
        writer = self._spool.writer(f"files/{file_id}", max_bytes=self._settings.max_upload_bytes)
        with writer:
            for part_id in part_ids:
                await _copy_part(Path(parts[part_id].spool_path), writer, parser, digest)
            parser.close()
            if md5 and md5.lower() != digest.hexdigest():
                raise InvalidRequest("The md5 checksum does not match the assembled parts.", param="md5")
            path = writer.commit()
        async with self._sessions() as session:
            stored = await session.get(tables.Upload, upload.id)
            if stored is None or stored.status != "pending":
                self._spool.remove(f"files/{file_id}")
                raise Conflict(f"Upload {upload_id} is no longer pending.", code="upload_not_pending")
            stored.status = "completed"
            stored.file_id = file_id
            file_row = await self._record(
                principal,
                file_id=file_id,
                filename=upload.filename,
                purpose=upload.purpose,
                path=path,
                size=writer.bytes,
                sha256=writer.sha256,
                parser=parser,
                session=session,
            )
        self._spool.remove(f"uploads/{upload.id}")
        return stored, file_row

    async def cancel_upload(self, principal: Principal, upload_id: str) -> tables.Upload:
        upload = await self._pending_upload(principal, upload_id)
        async with self._sessions() as session:
            stored = await session.get(tables.Upload, upload.id)
            if stored is None:
                raise NotFound(f"No such Upload object: {upload_id}", param="upload_id")
            stored.status = "cancelled"
            await session.commit()
        self._spool.remove(f"uploads/{upload.id}")
        return stored


async def _copy_part(source: Path, writer: SpoolWriter, parser: StreamingParser, digest: object) -> None:
    def copy() -> None:
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                writer.write(chunk)
                parser.feed(chunk)
                digest.update(chunk)  # type: ignore[attr-defined]

    await anyio.to_thread.run_sync(copy)
