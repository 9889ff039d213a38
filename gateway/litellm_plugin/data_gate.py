"""The data gate at job creation: fetch each file the job names, scan it, check hyperparameters.

LiteLLM has no hook on file upload, so the file is read back from the provider (the same file
the job will train on) when the job is requested, and scanned under the job's policy. The
plugin cannot change what the proxy forwards: a file the policy would clean (drop rows from)
is refused with the lines to remove, like a rejected one.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import litellm
from fastapi import HTTPException
from litellm.types.utils import SpecialEnums

from gateway.scan.parse import TrainingFileError
from gateway.scan.pipeline import FileScanner, rejection_details
from gateway.scan.report import ScanReport
from policies import hyperparameters as guard
from policies.engine import EngineCache
from policies.loader import Policy
from policies.registry import PolicySet

FILE_PARAMS = ("training_file", "validation_file")
MAX_LINES_IN_MESSAGE = 20


def refusal(status: int, message: str, *, code: str, param: str | None) -> HTTPException:
    """How LiteLLM's own guardrails refuse: an HTTPException whose detail holds OpenAI's error body."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return HTTPException(status_code=status, detail={"error": error})


def is_managed_file(file_id: str) -> bool:
    """A LiteLLM managed (unified) file id: base64 of ``litellm_proxy…``, resolved by the proxy's
    router to a file per deployment; the plugin cannot read it back from one provider."""
    try:
        decoded = base64.urlsafe_b64decode(file_id + "=" * (-len(file_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.startswith(SpecialEnums.LITELM_MANAGED_FILE_ID_PREFIX.value)


async def fetch(
    file_id: str, target: Path, *, provider: str, credentials: dict[str, Any], param: str
) -> None:
    """The file's content from the provider, through litellm, written to ``target``."""
    if is_managed_file(file_id):
        raise refusal(
            400,
            f"{file_id} is a LiteLLM managed file id; the tunegate guardrail scans provider files only. "
            "Upload the file with custom_llm_provider set and use the provider's file id.",
            code="invalid_training_file",
            param=param,
        )
    try:
        content = await litellm.afile_content(file_id=file_id, custom_llm_provider=provider, **credentials)
    except Exception as exc:  # litellm passes the provider SDK's own errors through here
        if getattr(exc, "status_code", None) == 404:
            raise refusal(
                400, f"No such file: {file_id}.", code="invalid_training_file", param=param
            ) from None
        raise
    await asyncio.to_thread(content.write_to_file, target)


async def scan(
    path: Path, policy: Policy, engines: EngineCache, policies: PolicySet, *, param: str, max_line_bytes: int
) -> ScanReport:
    """The policy's scan (and sampling audit, when it asks for one); a malformed file is a 400."""
    try:
        report = await engines.engine_for(policy).scan(path, max_line_bytes=max_line_bytes)
    except TrainingFileError as exc:
        raise refusal(400, exc.message, code="invalid_training_file", param=param) from None
    if policy.spec.audit.enabled:  # the gateway's own audit step (it reads only the engines and limits)
        scanner = FileScanner(None, policies, engines, max_line_bytes=max_line_bytes)  # type: ignore[arg-type]
        report = await scanner._audit(path, policy, report)
    return report


def verdict_refusal(report: ScanReport, param: str) -> HTTPException | None:
    """None when the file may be used as it is; else the 400 that names lines, categories and policy."""
    policy = f"Policy: {report.policy.get('name')} (version {report.policy.get('version')})."
    if report.verdict == "allow":
        return None
    if report.verdict == "allow_with_changes":
        lines = report.dropped_lines
        shown = ", ".join(str(n) for n in lines[:MAX_LINES_IN_MESSAGE])
        more = f" and {len(lines) - MAX_LINES_IN_MESSAGE} more" if len(lines) > MAX_LINES_IN_MESSAGE else ""
        counts = dict(report.summary)
        for dropped in report.dropped:
            if dropped.reason not in ("flagged", "borderline"):  # a dataset finding named the line
                counts[dropped.reason] = counts.get(dropped.reason, 0) + 1
        categories = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items())) or "borderline"
        message = (
            f"The {param.replace('_', ' ')} has rows the safety policy removes ({report.reason}). "
            f"Flagged lines: {shown}{more}. Categories: {categories}. This proxy cannot replace the file "
            f"it forwards, so the job is refused: remove those lines, upload the file again and retry. "
            f"{policy}"
        )
    elif report.verdict == "review":
        message = (
            f"{rejection_details(report)} This proxy has no review queue, so the job is refused; ask the "
            "platform team to review the file."
        )
    else:
        message = rejection_details(report)
    return refusal(400, message, code="invalid_training_file", param=param)


def hyperparameter_slots(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Where a job request carries hyperparameters: the top level (deprecated) and ``method.<type>``."""
    slots = []
    if isinstance(data.get("hyperparameters"), dict):
        slots.append(("hyperparameters", data["hyperparameters"]))
    method = data.get("method")
    if isinstance(method, dict):
        kind = method.get("type")
        inner = method.get(kind) if isinstance(kind, str) else None
        if isinstance(inner, dict) and isinstance(inner.get("hyperparameters"), dict):
            slots.append((f"method.{kind}.hyperparameters", inner["hyperparameters"]))
    return slots


def guard_hyperparameters(policy: Policy, data: dict[str, Any]) -> list[str]:
    """Apply the policy's caps to the request in place: refuse (400) or clamp; returns what was clamped."""
    model = str(data.get("model") or "")
    clamped = []
    for where, values in hyperparameter_slots(data):
        result = guard.check(policy.spec.hyperparameters, model, values)
        if result.rejected:
            first = result.violations[0]
            listed = "; ".join(v.describe() for v in result.violations)
            raise refusal(
                400,
                f"{listed} for {model} under policy {policy.name!r}. Lower the value or ask the platform "
                "team to change the policy.",
                code="hyperparameter_not_allowed",
                param=f"{where}.{first.param}",
            )
        if result.clamped:
            values.clear()
            values.update(result.hyperparameters)
            clamped += [f"{where}.{v.param}: {v.value:g} -> {v.limit:g}" for v in result.violations]
    return clamped
