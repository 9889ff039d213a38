"""Start a job upstream: wait for the scan, forward the files, create the job (idempotently)."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.errors import UpstreamFailed
from gateway.jobs.events import add_event
from gateway.jobs.lifecycle import POLL_WORK, TERMINAL_STATUSES, Again, Done, Outcome
from gateway.jobs.queue import enqueue
from gateway.spool import sha256_of
from gateway.store import tables
from gateway.upstreams.base import GATEWAY_JOB_ID_KEY, JobSpec, Upstream

SCAN_WAIT_SECONDS = 1.0


def invalid_file_message(details: str | None) -> str:
    """OpenAI's wording for a job that fails on its data, followed by the reason."""
    return f"The job failed due to an invalid training file. {details or ''}".strip()


async def fail_job(
    sessions: async_sessionmaker, job_id: str, *, code: str, message: str, param: str | None = None
) -> None:
    async with sessions() as session:
        job = await session.get(tables.Job, job_id)
        if job is None or job.status in TERMINAL_STATUSES:
            return
        job.status = "failed"
        job.finished_at = int(time.time())
        job.error = {"code": code, "message": message, "param": param}
        add_event(session, job.id, message, level="error")
        await session.commit()


class JobStarter:
    def __init__(self, sessions: async_sessionmaker, upstreams: dict[str, Upstream]) -> None:
        self._sessions = sessions
        self._upstreams = upstreams

    async def __call__(self, job_id: str) -> Outcome:
        async with self._sessions() as session:
            job = await session.get(tables.Job, job_id)
            if job is None or job.status in TERMINAL_STATUSES:
                return Done()
            if job.upstream_job_id:  # started before a crash; the watcher carries on
                await enqueue(session, POLL_WORK, job.id)
                await session.commit()
                return Done()
            files: list[tuple[str, tables.File | None]] = [
                ("training_file", await session.get(tables.File, job.training_file))
            ]
            if job.validation_file:
                files.append(("validation_file", await session.get(tables.File, job.validation_file)))

        checked: list[tuple[str, tables.File]] = []
        for param, file in files:
            if file is None or file.deleted:
                await fail_job(
                    self._sessions,
                    job_id,
                    code="invalid_training_file",
                    param=param,
                    message=f"The job failed because the {param.replace('_', ' ')} was deleted.",
                )
                return Done()
            if file.status == "uploaded":
                return Again(SCAN_WAIT_SECONDS)
            if file.status == "error":
                await fail_job(
                    self._sessions,
                    job_id,
                    code="invalid_training_file",
                    param=param,
                    message=invalid_file_message(file.status_details),
                )
                return Done()
            checked.append((param, file))

        upstream = self._upstreams[job.upstream]
        upstream_ids: dict[str, str] = {}
        for param, file in checked:
            forwarded = await self._forward(upstream, file)
            if forwarded is None:
                await fail_job(
                    self._sessions,
                    job_id,
                    code="file_integrity_error",
                    param=param,
                    message=f"The stored copy of {file.id} changed after its scan; it was not sent. "
                    "Upload the file again.",
                )
                return Done()
            upstream_ids[param] = forwarded

        spec = JobSpec(
            gateway_job_id=job.id,
            model=job.model,
            training_file=upstream_ids["training_file"],
            validation_file=upstream_ids.get("validation_file"),
            suffix=job.suffix,
            seed=job.seed,
            method=job.method,
            metadata={GATEWAY_JOB_ID_KEY: job.id},
        )
        try:
            created = await upstream.create_job(spec)
        except UpstreamFailed as exc:
            if exc.retryable:
                raise
            await fail_job(
                self._sessions,
                job_id,
                code=exc.code or "upstream_rejected",
                param=exc.param,
                message=f"The fine-tuning provider refused the job: {exc.message}",
            )
            return Done()

        async with self._sessions() as session:
            stored = await session.get(tables.Job, job_id)
            if stored is None:
                return Done()
            stored.upstream_job_id = created.id
            if stored.status == "cancelled":
                # Cancelled while we were creating it: cancel upstream too.
                await upstream.cancel_job(created.id)
            else:
                stored.status = "queued" if created.status == "validating_files" else created.status
            stored.safety = {**stored.safety, "data_scan": _scan_summary(files)}
            add_event(session, stored.id, "Training files passed the data gate; job submitted for training.")
            await enqueue(session, POLL_WORK, stored.id)
            await session.commit()
        return Done()

    async def _forward(self, upstream: Upstream, file: tables.File) -> str | None:
        """Copy a scanned file to the upstream once; None when the spool copy changed since the scan."""
        async with self._sessions() as session:
            forward = await session.get(tables.FileForward, (file.id, upstream.name))
            if forward is not None:
                return forward.upstream_file_id
        # What leaves is what the scan approved: the upload, or its cleaned copy.
        path = Path(file.forward_path or file.spool_path)
        expected = file.forward_sha256 or file.sha256
        if (
            not await anyio.Path(path).is_file()
            or await anyio.to_thread.run_sync(sha256_of, path) != expected
        ):
            return None
        sent = await upstream.upload_file(path, filename=file.filename, purpose=file.purpose)
        async with self._sessions() as session:
            session.add(
                tables.FileForward(
                    file_id=file.id,
                    upstream=upstream.name,
                    upstream_file_id=sent.id,
                    sha256=expected,
                    created_at=int(time.time()),
                )
            )
            await session.commit()
        return sent.id


def _scan_summary(files: list[tuple[str, tables.File | None]]) -> dict[str, object]:
    """The job's view of its files' scans: verdict, rows, and what was dropped."""
    summary: dict[str, object] = {"status": "passed"}
    for param, file in files:
        report = (file.scan or {}) if file else {}
        summary[param] = {
            "file": file.id if file else None,
            "verdict": file.verdict if file else None,
            "rows_total": report.get("rows_total"),
            "dropped_lines": len(report.get("dropped_lines") or []),
        }
    return summary
