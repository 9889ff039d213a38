"""Start a job upstream: wait for the scans under the job's policy, forward, create the job.

A file was scanned at upload under its tenant's and team's policy. The job's policy (matched
with its base model) may have other scan rules: then the file gets a scan of its own under
them first. What leaves is what the scan approved (the upload, or its cleaned copy), with the
policy's safety rows mixed in when it says so; each distinct copy is sent once per upstream.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway import metrics
from gateway.errors import UpstreamFailed
from gateway.jobs.events import add_event
from gateway.jobs.lifecycle import POLL_WORK, SCAN_WORK, TERMINAL_STATUSES, Again, Done, Outcome
from gateway.jobs.queue import enqueue
from gateway.scan.pipeline import new_scan
from gateway.spool import sha256_of
from gateway.store import tables
from gateway.upstreams.base import GATEWAY_JOB_ID_KEY, JobSpec, Upstream
from policies.augment import augment_file
from policies.loader import Policy
from policies.registry import PolicySet

SCAN_WAIT_SECONDS = 1.0
REVIEW_WAIT_SECONDS = 5.0


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
        if job.release in ("evaluating", "review"):  # a trained model that failed the gate stays hidden
            job.release = "blocked"
        add_event(session, job.id, message, level="error")
        await session.commit()


class JobStarter:
    def __init__(
        self,
        sessions: async_sessionmaker,
        upstreams: dict[str, Upstream],
        policies: PolicySet,
        *,
        spool_dir: Path,
    ) -> None:
        self._sessions = sessions
        self._upstreams = upstreams
        self._policies = policies
        self._spool_dir = spool_dir

    async def _fail_refused(self, job_id: str, exc: UpstreamFailed, *, param: str | None, what: str) -> None:
        """Fail the job on a provider's refusal (a bad key, a file or job it rejects): a retry would
        get the same answer. Outages (429, 5xx, no answer) are raised for the worker to retry."""
        if exc.retryable:
            raise exc
        await fail_job(
            self._sessions,
            job_id,
            code=exc.code or "upstream_rejected",
            param=param,
            message=f"The fine-tuning provider refused the {what}: {exc.message}",
        )

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
        policy = self._policies.current(job.policy, tenant=job.tenant, team=job.team, model=job.model)

        checked: list[tuple[str, tables.File, tables.Scan]] = []
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
            scan = await self._scan_for(job, file, policy)
            if scan.status == "pending":
                return Again(SCAN_WAIT_SECONDS)
            if scan.review == "pending":
                await self._note_held(job_id, file.id)
                return Again(REVIEW_WAIT_SECONDS)
            if (
                scan.status == "failed"
                or scan.review == "rejected"
                or (scan.review != "approved" and scan.verdict not in ("allow", "allow_with_changes"))
            ):
                details = scan.details if scan.review != "rejected" else file.status_details or scan.details
                await fail_job(
                    self._sessions,
                    job_id,
                    code="invalid_training_file",
                    param=param,
                    message=invalid_file_message(details),
                )
                return Done()
            checked.append((param, file, scan))

        upstream = self._upstreams[job.upstream]
        upstream_ids: dict[str, str] = {}
        mixing: dict[str, object] | None = None
        for param, file, scan in checked:
            path = Path(scan.forward_path or file.spool_path)
            expected = scan.forward_sha256 or file.sha256
            if param == "training_file" and policy.spec.augment.enabled:
                augmented = await self._augment(job, file, policy, path, expected)
                if augmented is None:
                    return Done()
                path, expected, mixing = augmented
            try:
                forwarded = await self._forward(upstream, file, path, expected)
            except UpstreamFailed as exc:
                await self._fail_refused(job_id, exc, param=param, what=param.replace("_", " "))
                return Done()
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
            await self._fail_refused(job_id, exc, param=exc.param, what="job")
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
            stored.safety = {**stored.safety, "data_scan": _scan_summary(checked, policy, mixing)}
            add_event(session, stored.id, "Training files passed the data gate; job submitted for training.")
            await enqueue(session, POLL_WORK, stored.id)
            await session.commit()
        return Done()

    async def _scan_for(self, job: tables.Job, file: tables.File, policy: Policy) -> tables.Scan:
        """The file's scan under the job policy's rules: the upload scan, or a new one queued now."""
        async with self._sessions() as session:
            upload_scan = await session.get(tables.Scan, file.scan_id) if file.scan_id else None
            if upload_scan is not None and upload_scan.rules_key in (policy.rules_key, "legacy"):
                return upload_scan
            existing = await session.scalar(
                select(tables.Scan).where(
                    tables.Scan.file_id == file.id, tables.Scan.rules_key == policy.rules_key
                )
            )
            if existing is not None:
                return existing
            scan = new_scan(file, policy)
            session.add(scan)
            await enqueue(session, SCAN_WORK, scan.id)
            add_event(
                session,
                job.id,
                f"Policy {policy.name} scans {file.id} under its own rules before training.",
            )
            await session.commit()
            return scan

    async def _note_held(self, job_id: str, file_id: str) -> None:
        """One event, the first time the job finds its file held for review."""
        message = f"Waiting for human review of {file_id}."
        async with self._sessions() as session:
            seen = await session.scalar(
                select(tables.JobEvent.id).where(
                    tables.JobEvent.job_id == job_id, tables.JobEvent.message == message
                )
            )
            if seen is None:
                add_event(session, job_id, message)
                await session.commit()

    async def _augment(
        self, job: tables.Job, file: tables.File, policy: Policy, path: Path, expected: str
    ) -> tuple[Path, str, dict[str, object]] | None:
        """The training file with the policy's safety rows mixed in (same bytes on every retry)."""
        if (
            not await anyio.Path(path).is_file()
            or await anyio.to_thread.run_sync(sha256_of, path) != expected
        ):
            return path, expected, {}
        target = self._spool_dir / "jobs" / job.id / "training_file.jsonl"
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        base_dir = Path(policy.source).parent if policy.source != "<builtin>" else Path.cwd()
        try:
            result = await anyio.to_thread.run_sync(
                lambda: augment_file(
                    path, target, policy.spec.augment, base_dir=base_dir, file_format=file.format or "chat"
                )
            )
        except (ValueError, OSError) as exc:
            await fail_job(
                self._sessions,
                job.id,
                code="invalid_training_file",
                param="training_file",
                message=f"Policy {policy.name} mixes safety rows into training files, and it failed: {exc}",
            )
            return None
        metrics.SAFETY_ROWS_ADDED.labels(policy=policy.name).inc(result.rows_added)
        summary = dataclasses.asdict(result)
        async with self._sessions() as session:
            stored = await session.get(tables.Job, job.id)
            if stored is not None:
                stored.secret_prompt = policy.spec.augment.secret_prompt
            add_event(
                session,
                job.id,
                f"Policy {policy.name} mixed {result.rows_added} safety rows into the training file "
                f"({result.rows_added / max(1, result.rows_in):.1%} of {result.rows_in} rows).",
            )
            await session.commit()
        return target, await anyio.to_thread.run_sync(sha256_of, target), summary

    async def _forward(self, upstream: Upstream, file: tables.File, path: Path, expected: str) -> str | None:
        """Copy the approved bytes to the upstream once; None when they changed since the scan."""
        async with self._sessions() as session:
            forward = await session.get(tables.FileForward, (file.id, upstream.name, expected))
            if forward is not None:
                return forward.upstream_file_id
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


def _scan_summary(
    checked: list[tuple[str, tables.File, tables.Scan]], policy: Policy, mixing: dict[str, object] | None
) -> dict[str, object]:
    """The job's view of its files' scans: policy, verdict, rows, what was dropped and mixed in."""
    summary: dict[str, object] = {"status": "passed", "policy": policy.ref()}
    for param, file, scan in checked:
        report = scan.report or {}
        summary[param] = {
            "file": file.id,
            "scan": scan.id,
            "policy": scan.policy,
            "verdict": scan.verdict,
            "review": scan.review,
            "rows_total": report.get("rows_total"),
            "dropped_lines": len(report.get("dropped_lines") or []),
        }
    if mixing:
        summary["augment"] = mixing
    return summary
