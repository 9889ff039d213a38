"""Database tables. Every tenant-owned row carries ``tenant``; queries always filter on it.

Times are Unix seconds: integers where OpenAI shows them, floats where leases need precision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    team: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class File(Base):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(512))
    purpose: Mapped[str] = mapped_column(String(32))
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    spool_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # uploaded | processed | error
    status_details: Mapped[str | None] = mapped_column(Text, nullable=True)
    format: Mapped[str | None] = mapped_column(String(16), nullable=True)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    scan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the upload-time scan
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_files_tenant_created", "tenant", "created_at"),)


class Scan(Base):
    """One scan of a file under one policy's scan rules, and what may leave because of it.

    A file is scanned at upload under the policy its tenant and team match; a job whose base
    model matches a policy with other scan rules gets a scan of its own (unique per rules).
    """

    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("files.id"))
    tenant: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    rules_key: Mapped[str] = mapped_column(String(40))  # hash of the policy's scan + audit sections
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # name, version, source
    status: Mapped[str] = mapped_column(String(16))  # pending | done | failed
    verdict: Mapped[str | None] = mapped_column(String(24), nullable=True)
    action: Mapped[str | None] = mapped_column(String(16), nullable=True)  # what the policy did
    review: Mapped[str | None] = mapped_column(String(16), nullable=True)  # pending | approved | rejected
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What leaves for the upstream: the upload itself, or a cleaned copy without dropped rows.
    forward_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    forward_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("uq_scans_file_rules", "file_id", "rules_key", unique=True),)


class Review(Base):
    """Something held for a human: a file's scan or a job. Decided once, by a reviewer or admin."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(16))  # file | job
    scan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)  # why it was held
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | withdrawn
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_reviews_tenant_status", "tenant", "status", "created_at"),)


class AuditEntry(Base):
    """Append-only record of decisions people made (who, when, why)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # key id, team and role
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class EvalReport(Base):
    """The model gate's report for one job (JSON), kept for the safety_report route."""

    __tablename__ = "eval_reports"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(8))  # pass | fail
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)


class BaseEvalCache(Base):
    """Judged answers of a base model, reused by every job on it with the same benchmark, prompt
    formats, judge and decoding settings (the key hashes them all)."""

    __tablename__ = "base_eval_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    upstream: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    records: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)


class FileForward(Base):
    """A file copy (as approved, cleaned or augmented) sent to one upstream; its id never reaches a client."""

    __tablename__ = "file_forwards"

    file_id: Mapped[str] = mapped_column(ForeignKey("files.id"), primary_key=True)
    upstream: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    upstream_file_id: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[int] = mapped_column(BigInteger)


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    team: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(512))
    purpose: Mapped[str] = mapped_column(String(32))
    mime_type: Mapped[str] = mapped_column(String(128))
    bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | completed | cancelled | expired
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    file_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class UploadPart(Base):
    __tablename__ = "upload_parts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    spool_path: Mapped[str] = mapped_column(Text)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    training_file: Mapped[str] = mapped_column(String(40))
    validation_file: Mapped[str | None] = mapped_column(String(40), nullable=True)
    suffix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    job_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON, nullable=True)
    method: Mapped[dict[str, Any]] = mapped_column(JSON)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    integrations: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    release: Mapped[str] = mapped_column(String(16), default="pending")
    safety: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # name, version, source
    # BackdoorAlign: the secret system prompt the safety rows were trained with; added to every
    # chat request to the fine-tuned model. Never shown to clients.
    secret_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    upstream: Mapped[str] = mapped_column(String(64))
    upstream_job_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    upstream_model: Mapped[str | None] = mapped_column(String(512), nullable=True)
    fine_tuned_model: Mapped[str | None] = mapped_column(String(512), nullable=True)
    trained_tokens: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    estimated_finish: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    result_files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_jobs_tenant_created", "tenant", "created_at"),)


class JobEvent(Base):
    __tablename__ = "job_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Upstream events are copied once: (job_id, upstream_event_id) is unique.
    upstream_event_id: Mapped[str | None] = mapped_column(String(256), nullable=True)

    __table_args__ = (
        Index("ix_job_events_job_seq", "job_id", "seq"),
        Index("uq_job_events_upstream", "job_id", "upstream_event_id", unique=True),
    )


class Checkpoint(Base):
    __tablename__ = "checkpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    upstream_checkpoint_id: Mapped[str] = mapped_column(String(256))
    upstream_model: Mapped[str] = mapped_column(String(512))
    model: Mapped[str] = mapped_column(String(512))  # the gateway's name, shown once released
    step_number: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("uq_checkpoints_upstream", "job_id", "upstream_checkpoint_id", unique=True),)


class FineTunedModel(Base):
    """A gateway model name (job result or checkpoint) and the upstream model it stands for."""

    __tablename__ = "fine_tuned_models"

    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    kind: Mapped[str] = mapped_column(String(16))  # model | checkpoint
    upstream: Mapped[str] = mapped_column(String(64))
    upstream_model: Mapped[str] = mapped_column(String(512), index=True)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Work(Base):
    """Background work that outlives a request, claimed with a lease so any process can resume it."""

    __tablename__ = "work"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[float] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    done_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_work_due", "done_at", "due_at"),
        Index("uq_work_kind_subject", "kind", "subject", unique=True),
    )


class UiSession(Base):
    """A signed-in session of the reviewer pages (/ui); the cookie holds the token, this row its hash.

    Kept in the database so every replica sees it and signing out revokes it everywhere.
    """

    __tablename__ = "ui_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the session token
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    tenant: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
