"""The plugin's memory: job intents, fine-tuning jobs and release decisions, in one SQLite file.

One file per proxy host (``state_dir/tunegate-litellm.sqlite3``, WAL mode), shared by that
host's proxy workers: a lease on each job keeps two workers from evaluating the same model.
Release states: ``pending`` (training), ``evaluating`` (trained, the gate has not decided),
``released``, ``blocked``, ``review`` (held: stays refused), ``failed`` (no model).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_NAME = "tunegate-litellm.sqlite3"
INTENT_TTL_SECONDS = 24 * 3600
UNRELEASED = ("pending", "evaluating", "review", "blocked", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (key TEXT PRIMARY KEY, record TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY, provider TEXT NOT NULL, api_base TEXT, base_model TEXT NOT NULL,
    tenant TEXT NOT NULL, team TEXT NOT NULL, policy TEXT NOT NULL, intent TEXT NOT NULL,
    fine_tuned_model TEXT, release TEXT NOT NULL, upstream_status TEXT, reason TEXT, report TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_model ON jobs (fine_tuned_model);
CREATE INDEX IF NOT EXISTS jobs_release ON jobs (release);
CREATE TABLE IF NOT EXISTS base_evals (key TEXT PRIMARY KEY, records TEXT NOT NULL, created_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class JobRow:
    job_id: str
    provider: str
    api_base: str | None
    base_model: str
    tenant: str
    team: str
    policy: dict[str, Any]
    intent: dict[str, Any]
    fine_tuned_model: str | None
    release: str
    upstream_status: str | None
    reason: str | None
    attempts: int


class State:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.files = directory / "files"
        self.files.mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(directory / DB_NAME, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock, self._db:
            return self._db.execute(sql, args).fetchall()

    # intents: what a pre-call allowed, waiting for the provider's job id
    def put_intent(self, key: str, record: dict[str, Any]) -> None:
        now = time.time()
        self._run("DELETE FROM intents WHERE created_at < ?", (now - INTENT_TTL_SECONDS,))
        self._run("INSERT OR REPLACE INTO intents VALUES (?, ?, ?)", (key, json.dumps(record), now))

    def pop_intent(self, key: str) -> dict[str, Any] | None:
        rows = self._run("DELETE FROM intents WHERE key = ? RETURNING record", (key,))
        return json.loads(rows[0]["record"]) if rows else None

    def add_job(self, row: JobRow) -> bool:
        """False when the job is already known (a retried post-call hook)."""
        now = time.time()
        rows = self._run(
            "INSERT OR IGNORE INTO jobs (job_id, provider, api_base, base_model, tenant, team, policy,"
            " intent, fine_tuned_model, release, upstream_status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING job_id",
            (
                row.job_id, row.provider, row.api_base, row.base_model, row.tenant, row.team,
                json.dumps(row.policy), json.dumps(row.intent), row.fine_tuned_model, row.release,
                row.upstream_status, now, now,
            ),
        )  # fmt: skip
        return bool(rows)

    def job(self, job_id: str) -> JobRow | None:
        rows = self._run("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def jobs(self, *releases: str) -> list[JobRow]:
        marks = ",".join("?" * len(releases))
        rows = self._run(f"SELECT * FROM jobs WHERE release IN ({marks}) ORDER BY created_at", releases)
        return [_job(r) for r in rows]

    def report(self, job_id: str) -> dict[str, Any] | None:
        """The model gate's report (aggregates only, as the gateway's) once it has decided."""
        rows = self._run("SELECT report FROM jobs WHERE job_id = ?", (job_id,))
        return json.loads(rows[0]["report"]) if rows and rows[0]["report"] else None

    def model_release(self, name: str) -> tuple[str, JobRow] | None:
        """The release state governing ``name``: its own job's, or (a checkpoint such as
        ``ft:…:abc:ckpt-step-10``) that of the fine-tuned model it extends."""
        rows = self._run(
            "SELECT * FROM jobs WHERE fine_tuned_model = ?"
            " OR substr(?, 1, length(fine_tuned_model) + 1) = fine_tuned_model || ':'"
            " ORDER BY length(fine_tuned_model) DESC LIMIT 1",
            (name, name),
        )
        return (rows[0]["release"], _job(rows[0])) if rows else None

    def unreleased_models(self) -> set[str]:
        marks = ",".join("?" * len(UNRELEASED))
        rows = self._run(
            f"SELECT fine_tuned_model FROM jobs WHERE fine_tuned_model IS NOT NULL AND release IN ({marks})",
            UNRELEASED,
        )
        return {r["fine_tuned_model"] for r in rows}

    def update(self, job_id: str, **fields: Any) -> None:
        fields = {k: json.dumps(v) if k == "report" and v is not None else v for k, v in fields.items()}
        assignments = ", ".join(f"{k} = ?" for k in fields)
        self._run(
            f"UPDATE jobs SET {assignments}, updated_at = ? WHERE job_id = ?",
            (*fields.values(), time.time(), job_id),
        )

    def claim(self, job_id: str, seconds: float) -> bool:
        """Take the job's evaluation lease (one worker at a time); False when another holds it."""
        now = time.time()
        rows = self._run(
            "UPDATE jobs SET lease_until = ?, attempts = attempts + 1 WHERE job_id = ? AND lease_until < ?"
            " AND release = 'evaluating' RETURNING job_id",
            (now + seconds, job_id, now),
        )
        return bool(rows)

    def base_records(self, key: str) -> list[dict[str, Any]] | None:
        rows = self._run("SELECT records FROM base_evals WHERE key = ?", (key,))
        return json.loads(rows[0]["records"]) if rows else None

    def put_base_records(self, key: str, records: list[dict[str, Any]]) -> None:
        self._run(
            "INSERT OR REPLACE INTO base_evals VALUES (?, ?, ?)", (key, json.dumps(records), time.time())
        )


def _job(row: sqlite3.Row) -> JobRow:
    return JobRow(
        job_id=row["job_id"],
        provider=row["provider"],
        api_base=row["api_base"],
        base_model=row["base_model"],
        tenant=row["tenant"],
        team=row["team"],
        policy=json.loads(row["policy"]),
        intent=json.loads(row["intent"]),
        fine_tuned_model=row["fine_tuned_model"],
        release=row["release"],
        upstream_status=row["upstream_status"],
        reason=row["reason"],
        attempts=row["attempts"],
    )
