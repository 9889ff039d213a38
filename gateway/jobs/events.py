"""Job events: the gateway's own and the upstream's, merged in one table.

Upstream event texts are stored as received and redacted when read: names the client must
not see yet (the upstream job id, upstream file ids, fine-tuned model and checkpoint names
before release) are replaced by the gateway's names or a placeholder.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.ids import new_id
from gateway.store import tables

WITHHELD = "[withheld until release]"
# Any OpenAI-style fine-tuned model name, known to us or not, is hidden unless released.
_FT_NAME = re.compile(r"\bft:[^\s,;\"']*[^\s,;\"'.)]")


def add_event(
    session: AsyncSession,
    job_id: str,
    message: str,
    *,
    level: str = "info",
    type: str = "message",
    data: dict[str, Any] | None = None,
    created_at: int | None = None,
    upstream_event_id: str | None = None,
) -> None:
    session.add(
        tables.JobEvent(
            id=new_id("ftevent-"),
            job_id=job_id,
            created_at=created_at or int(time.time()),
            level=level,
            message=message,
            type=type,
            data=data,
            upstream_event_id=upstream_event_id,
        )
    )


class Redactor:
    """Rewrites upstream names in texts for one job, according to its release state."""

    def __init__(self, replacements: dict[str, str], released_names: set[str]) -> None:
        # Longest first so a checkpoint name is replaced before the model name it contains.
        self._map = replacements
        self._pairs = sorted(replacements.items(), key=lambda item: len(item[0]), reverse=True)
        self._released = released_names

    def __call__(self, text: str) -> str:
        def fine_tuned_name(match: re.Match[str]) -> str:
            shown = self._map.get(match.group(0), match.group(0))
            return shown if shown in self._released else WITHHELD

        text = _FT_NAME.sub(fine_tuned_name, text)
        for secret, shown in self._pairs:
            if secret and not secret.startswith("ft:"):
                text = text.replace(secret, shown)
        return text

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value


async def redactor_for(session: AsyncSession, job: tables.Job) -> Redactor:
    released = job.release == "released"
    replacements: dict[str, str] = {}
    if job.upstream_job_id:
        replacements[job.upstream_job_id] = job.id
    if job.upstream_model:
        replacements[job.upstream_model] = (
            job.fine_tuned_model if released and job.fine_tuned_model else WITHHELD
        )
    checkpoints = (
        await session.scalars(select(tables.Checkpoint).where(tables.Checkpoint.job_id == job.id))
    ).all()
    for checkpoint in checkpoints:
        replacements[checkpoint.upstream_model] = checkpoint.model if released else WITHHELD
        replacements[checkpoint.upstream_checkpoint_id] = checkpoint.id
    file_ids = [f for f in (job.training_file, job.validation_file) if f]
    forwards = (
        await session.scalars(select(tables.FileForward).where(tables.FileForward.file_id.in_(file_ids)))
    ).all()
    for forward in forwards:
        replacements[forward.upstream_file_id] = forward.file_id
    shown = {name for name in replacements.values() if name.startswith("ft:")} if released else set()
    return Redactor(replacements, shown)
