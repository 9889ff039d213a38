"""Moves jobs through their states and owns the training processes.

validating_files → queued → running (↔ paused) → succeeded | failed | cancelled. ``tick`` is
called every half second by the server: it checks new jobs' files, starts queued jobs while
fewer than ``max_running_jobs`` train, and folds finished processes' results into the record.
A job that was training when the server stopped is marked failed (see ``recover``): training
restarts are left to the client, which can create the job again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from trainer.config import TrainerConfig
from trainer.data import DataError, read_examples
from trainer.errors import APIError, bad_request
from trainer.files import FileStore
from trainer.jobdir import JobDir
from trainer.jobs import TERMINAL, JobStore

_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class Runner:
    def __init__(self, config: TrainerConfig, jobs: JobStore, files: FileStore) -> None:
        self.config = config
        self.jobs = jobs
        self.files = files
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # -- the loop -----------------------------------------------------------------------

    def tick(self) -> None:
        for job in self.jobs.all():
            if job["status"] == "validating_files":
                self._validate(job)
        with self.jobs.lock:
            for job_id, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self._reap(job_id, proc.returncode)
            queued = [j for j in reversed(self.jobs.all()) if j["status"] == "queued"]
            for job in queued[: max(0, self.config.max_running_jobs - len(self.procs))]:
                self._start(job)

    def _validate(self, job: dict[str, Any]) -> None:
        """Copy the job's files into its directory and check every line (outside the lock)."""
        job_dir = self.jobs.dir(job["id"])
        error = None
        for param, target in (
            ("training_file", job_dir.training_data),
            ("validation_file", job_dir.validation_data),
        ):
            if not job[param] or error:
                continue
            try:
                shutil.copyfile(self.files.content_path(job[param]), target)
                read_examples(target)
            except APIError:
                error = ("file_not_found", f"File {job[param]} no longer exists.", param)
            except DataError as exc:
                code = "invalid_training_file" if param == "training_file" else "invalid_validation_file"
                error = (code, f"Invalid file format in {job[param]}. {exc}", param)
        with self.jobs.lock:
            job = self.jobs.get(job["id"])
            if job["status"] != "validating_files":
                return
            if error:
                self._fail(job, *error)
                return
            job["status"] = "queued"
            self.jobs.save(job)
            job_dir.add_event("Files validated, moving job to queued state")

    def _start(self, job: dict[str, Any]) -> None:
        job_dir = self.jobs.dir(job["id"])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])),
        }
        with job_dir.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "trainer.train", str(job_dir.path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group, so signals reach only it
            )
        self.procs[job["id"]] = proc
        job_dir.pid_file.write_text(str(proc.pid))
        job["status"] = "running"
        self.jobs.save(job)
        job_dir.add_event("Fine-tuning job started")

    def _reap(self, job_id: str, returncode: int) -> None:
        self.procs.pop(job_id, None)
        job = self.jobs.get(job_id)
        if job["status"] not in ("running", "paused"):
            return
        job_dir = self.jobs.dir(job_id)
        result = job_dir.result()
        if result is None:
            tail = (
                job_dir.log_file.read_text(errors="replace").strip().splitlines()[-1:]
                if job_dir.log_file.exists()
                else []
            )
            detail = f": {tail[0]}" if tail else ""
            self._fail(
                job, "training_error", f"The training process exited with code {returncode}{detail}", None
            )
            return
        self._fold(job, job_dir, result)

    def _fold(self, job: dict[str, Any], job_dir: JobDir, result: dict[str, Any]) -> None:
        """Copy a finished process's result into the job record."""
        job.update(status=result["status"], finished_at=result.get("finished_at"), estimated_finish=None)
        job["trained_tokens"] = result.get("trained_tokens", job_dir.progress().get("trained_tokens"))
        if result["status"] == "succeeded":
            job["fine_tuned_model"] = job_dir.spec()["fine_tuned_model"]
            if job_dir.results_csv.exists():
                record = self.files.add_bytes(
                    job_dir.results_csv.read_bytes(), "step_metrics.csv", "fine-tune-results"
                )
                job["result_files"] = [record["id"]]
        else:
            job["error"] = result.get("error")
        self.jobs.save(job)

    def _fail(self, job: dict[str, Any], code: str, message: str, param: str | None) -> None:
        job.update(status="failed", finished_at=int(time.time()), estimated_finish=None)
        job["error"] = {"code": code, "message": message, "param": param}
        self.jobs.save(job)
        self.jobs.dir(job["id"]).add_event(message, level="error")

    # -- client actions -----------------------------------------------------------------

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self.jobs.lock:
            job = self.jobs.get(job_id)
            if job["status"] == "cancelled":
                return job
            if job["status"] in TERMINAL:
                raise bad_request(
                    f"Job {job_id} has already {job['status']}.",
                    param="fine_tuning_job_id",
                    code="invalid_state",
                )
            self._kill(job_id)
            job.update(status="cancelled", finished_at=int(time.time()), estimated_finish=None)
            self.jobs.save(job)
            self.jobs.dir(job_id).add_event("Fine-tuning job cancelled")
            return job

    def pause(self, job_id: str) -> dict[str, Any]:
        with self.jobs.lock:
            job = self.jobs.get(job_id)
            if job["status"] not in ("running", "queued"):
                raise bad_request(
                    f"Only a running or queued job can be paused; this one is {job['status']}.",
                    code="invalid_state",
                )
            if job_id in self.procs:
                _signal(self.procs[job_id].pid, signal.SIGSTOP)
            job["status"] = "paused"
            self.jobs.save(job)
            self.jobs.dir(job_id).add_event("Fine-tuning job paused")
            return job

    def resume(self, job_id: str) -> dict[str, Any]:
        with self.jobs.lock:
            job = self.jobs.get(job_id)
            if job["status"] != "paused":
                raise bad_request(
                    f"Only a paused job can be resumed; this one is {job['status']}.", code="invalid_state"
                )
            if job_id in self.procs:
                _signal(self.procs[job_id].pid, signal.SIGCONT)
            job["status"] = "running" if job_id in self.procs else "queued"
            self.jobs.save(job)
            self.jobs.dir(job_id).add_event("Fine-tuning job resumed")
            return job

    # -- start and stop -----------------------------------------------------------------

    def recover(self) -> None:
        """At startup: settle jobs whose training process belonged to an earlier server."""
        with self.jobs.lock:
            for job in self.jobs.all():
                if job["status"] not in ("running", "paused"):
                    continue
                job_dir = self.jobs.dir(job["id"])
                _kill_stale(job_dir)
                result = job_dir.result()
                if result is not None:
                    self._fold(job, job_dir, result)
                else:
                    message = (
                        "Training was interrupted because the trainer server restarted; create the job again."
                    )
                    self._fail(job, "training_interrupted", message, None)

    def shutdown(self) -> None:
        with self.jobs.lock:
            for job_id in list(self.procs):
                self._kill(job_id)
                message = "Training was interrupted because the trainer server stopped; create the job again."
                self._fail(self.jobs.get(job_id), "training_interrupted", message, None)

    def _kill(self, job_id: str) -> None:
        proc = self.procs.pop(job_id, None)
        if proc is not None:
            _signal(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _kill_stale(job_dir: JobDir) -> None:
    """Kill a leftover training process of this job, if its pid still runs our command."""
    try:
        pid = int(job_dir.pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"trainer.train" in cmdline and str(job_dir.path).encode() in cmdline:
        _signal(pid, signal.SIGKILL)
