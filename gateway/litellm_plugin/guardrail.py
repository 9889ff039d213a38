"""``TunegateGuardrail``: tunegate's data gate and model gate as a LiteLLM proxy guardrail.

Registered in the proxy's ``config.yaml`` (``guardrail: gateway.litellm_plugin.TunegateGuardrail``,
``mode: pre_call``). The proxy hands every extra ``litellm_params`` key to the constructor, so
``policy_dir``, ``state_dir``, ``api_base``, ``api_key``, ``poll_interval`` and
``custom_llm_provider`` are set there (or by the ``TUNEGATE_*`` environment variables named in
``docs/litellm-plugin.md``). What runs where:

- pre-call of ``acreate_fine_tuning_job``: hyperparameter caps, then each named file is read back
  from the provider and scanned under the job's policy; a refused request never reaches it.
- post-call of the same request: the created job is recorded (SQLite) as pending release.
- a poller (LiteLLM has no job-finished hook) retrieves pending jobs; a succeeded one is
  evaluated by the model gate and released or blocked.
- pre-call of completion-like calls: a fine-tuned model this plugin recorded and has not
  released is refused (403, ``model_not_released``); models it never saw pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import litellm
from fastapi import HTTPException
from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.guardrails import GuardrailEventHooks

from gateway.evals.runner import Endpoint
from gateway.litellm_plugin import data_gate, model_gate
from gateway.litellm_plugin.state import INTENT_TTL_SECONDS, UNRELEASED, JobRow, State
from gateway.scan.parse import DEFAULT_MAX_LINE_BYTES
from policies.engine import EngineCache
from policies.loader import PolicyError
from policies.registry import SHIPPED_DIR, PolicySet

log = logging.getLogger(__name__)

JOB_CALL_TYPES = frozenset({"acreate_fine_tuning_job", "create_fine_tuning_job"})
INFERENCE_CALL_TYPES = frozenset(
    {"completion", "acompletion", "text_completion", "atext_completion", "responses", "aresponses"}
)
DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_STATE_DIR = "tunegate-litellm-state"
LEASE_SECONDS = 1800.0  # one evaluation; a worker that dies mid-way frees the job after this
MAX_ATTEMPTS = 3  # evaluations that error out before the model is blocked (fail closed)
_PROXY = "litellm.proxy.proxy_server"  # present in sys.modules only inside a running proxy


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _principal(user_api_key_dict: Any) -> tuple[str, str]:
    """(tenant, team) for policy matching: the key's team, else its user, else ``litellm``."""
    team = _field(user_api_key_dict, "team_id")
    user = _field(user_api_key_dict, "user_id")
    return str(team or user or "litellm"), str(team or "default")


def _intent_key(data: dict[str, Any], tenant: str) -> str:
    ident = [tenant, data.get("model"), data.get("training_file"), data.get("validation_file")]
    return hashlib.sha256(json.dumps(ident, default=str).encode()).hexdigest()


def _looks_fine_tuned(name: str) -> bool:
    return name.startswith("ft:") or ".ft-" in name  # OpenAI's names; Azure's ``base.ft-<id>``


def _proxy_finetune_settings(provider: str) -> dict[str, Any] | None:
    """The proxy's own ``finetune_settings`` entry for the provider (what it merges into the job)."""
    if _PROXY not in sys.modules:
        return None
    try:
        from litellm.proxy.fine_tuning_endpoints.endpoints import get_fine_tuning_provider_config

        return get_fine_tuning_provider_config(custom_llm_provider=provider) or None
    except Exception:  # finetune_settings not configured
        return None


def _router_models(model: str) -> list[str]:
    """Best effort: the provider models a proxy model alias routes to."""
    router = getattr(sys.modules.get(_PROXY), "llm_router", None)
    try:
        deployments = router.get_model_list(model_name=model) if router is not None else None
        names = [str(d["litellm_params"]["model"]) for d in deployments or []]
    except Exception:
        return []
    return names + [n.split("/", 1)[1] for n in names if "/" in n]


class TunegateGuardrail(CustomGuardrail):
    def __init__(
        self,
        *,
        policy_dir: str | None = None,
        state_dir: str | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        poll_interval: float | None = None,
        custom_llm_provider: str | None = None,
        max_line_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("supported_event_hooks", self.get_supported_event_hooks())
        super().__init__(**kwargs)
        env = os.environ
        directory = Path(policy_dir or env.get("TUNEGATE_POLICY_DIR") or SHIPPED_DIR)
        self.policies = PolicySet(directory)
        try:
            self.policies.load()
        except PolicyError as exc:  # not a ValueError to the proxy: it would start without the gate
            raise RuntimeError(f"tunegate: invalid policies in {directory}:\n{exc}") from None
        self.engines = EngineCache()
        self.state = State(Path(state_dir or env.get("TUNEGATE_PLUGIN_STATE") or DEFAULT_STATE_DIR))
        self.api_base = api_base or env.get("TUNEGATE_PLUGIN_API_BASE")
        self.api_key = api_key or env.get("TUNEGATE_PLUGIN_API_KEY")
        interval = poll_interval if poll_interval is not None else env.get("TUNEGATE_PLUGIN_POLL_INTERVAL")
        self.poll_interval = float(interval) if interval is not None else DEFAULT_POLL_INTERVAL
        self.default_provider = custom_llm_provider or "openai"
        self.max_line_bytes = int(max_line_bytes or DEFAULT_MAX_LINE_BYTES)
        self.poller: asyncio.Task | None = None
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._refreshed_at = 0.0

    @classmethod
    def get_supported_event_hooks(cls) -> list[GuardrailEventHooks]:
        return [GuardrailEventHooks.pre_call, GuardrailEventHooks.post_call]

    def should_run_guardrail(self, data: Any, event_type: GuardrailEventHooks) -> bool:
        # Recording a created job is what the model gate needs, not a check of its own: it runs
        # whenever the pre-call check does, so ``mode: pre_call`` alone is enough.
        if (
            event_type == GuardrailEventHooks.post_call
            and isinstance(data, dict)
            and data.get("training_file")
        ):
            event_type = GuardrailEventHooks.pre_call
        return super().should_run_guardrail(data, event_type)

    # ---- hooks --------------------------------------------------------------------------------

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict, call_type: str
    ) -> dict | None:
        self._ensure_poller()
        if call_type in JOB_CALL_TYPES:
            await self._check_job(user_api_key_dict, data)
        elif call_type in INFERENCE_CALL_TYPES:
            await self._check_model(data)
        return data

    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        self._ensure_poller()
        job_id = _field(response, "id")
        if _field(response, "object") != "fine_tuning.job" or not isinstance(job_id, str):
            return None
        known = self.state.job(job_id)
        if known is None and data.get("training_file"):
            self._record_job(job_id, data, user_api_key_dict, response)
        elif known is not None:
            self._observe(known, response)  # a retrieve through the proxy (mode with post_call)
        return None

    async def async_filter_listed_models(self, user_api_key_dict: Any, model_names: Any) -> list[str]:
        """``/v1/models`` does not list fine-tunes this plugin has not released."""
        hidden = self.state.unreleased_models()
        return [n for n in model_names if not any(n == h or n.startswith(f"{h}:") for h in hidden)]

    # ---- the data gate ------------------------------------------------------------------------

    async def _check_job(self, user_api_key_dict: Any, data: dict) -> None:
        await self._reload_policies()
        tenant, team = _principal(user_api_key_dict)
        model = str(data.get("model") or "")
        policy = self.policies.match(tenant=tenant, team=team, model=model)
        clamped = data_gate.guard_hyperparameters(policy, data)
        provider = str(data.get("custom_llm_provider") or self.default_provider)
        credentials = self._credentials(provider, data)
        scans: dict[str, Any] = {}
        findings: dict[str, Any] = {}
        kept: Path | None = None
        with tempfile.TemporaryDirectory(prefix="tunegate-") as scratch:
            for param in data_gate.FILE_PARAMS:
                file_id = data.get(param)
                if not file_id:
                    continue
                path = Path(scratch) / f"{param}.jsonl"
                try:
                    await data_gate.fetch(
                        str(file_id), path, provider=provider, credentials=credentials, param=param
                    )
                except HTTPException:
                    raise
                except Exception as exc:  # fail closed: a file that cannot be read is not trained on
                    log.warning("tunegate: reading %s %s from %s failed: %r", param, file_id, provider, exc)
                    raise data_gate.refusal(
                        503,
                        f"The {param.replace('_', ' ')} {file_id} could not be read from {provider} for the "
                        f"safety scan ({type(exc).__name__}); try again later.",
                        code="safety_scan_unavailable",
                        param=param,
                    ) from None
                report = await data_gate.scan(
                    path, policy, self.engines, self.policies, param=param, max_line_bytes=self.max_line_bytes
                )
                if (refused := data_gate.verdict_refusal(report, param)) is not None:
                    log.info("tunegate: refused %s %s under policy %s", param, file_id, policy.name)
                    raise refused
                scans[param] = {"file": file_id, "verdict": report.verdict, "rows": report.rows_total}
                if param == "training_file":
                    findings = {
                        "dataset_findings": [f.model_dump(mode="json") for f in report.dataset_findings]
                    }
            if "training_file" in scans:  # its prompt formats are evaluated after training
                kept = self.state.files / f"{uuid.uuid4().hex}.jsonl"
                shutil.move(Path(scratch) / "training_file.jsonl", kept)
        intent = {
            "tenant": tenant,
            "team": team,
            "model": model,
            "provider": provider,
            "policy": policy.ref(),
            "scans": scans,
            "clamped": clamped,
            "kept_file": str(kept) if kept else None,
            "scan_findings": findings,
            "at": time.time(),
        }
        self.state.put_intent(_intent_key(data, tenant), intent)

    def _credentials(self, provider: str, data: dict[str, Any]) -> dict[str, Any]:
        """api_base and api_key as one pair, from where the proxy forwards the job: its
        ``finetune_settings`` for the provider, else this guardrail's config, else the request."""
        ours = {"api_base": self.api_base, "api_key": self.api_key}
        for source in (_proxy_finetune_settings(provider) or {}, ours, data):
            if source.get("api_base"):
                return {k: source[k] for k in ("api_base", "api_key") if source.get(k)}
        return {"api_key": self.api_key} if self.api_key else {}

    # ---- jobs ---------------------------------------------------------------------------------

    def _record_job(self, job_id: str, data: dict, user_api_key_dict: Any, response: Any) -> None:
        tenant, team = _principal(user_api_key_dict)
        intent = self.state.pop_intent(_intent_key(data, tenant)) or {}
        model = str(_field(response, "model") or data.get("model") or "")
        provider = str(intent.get("provider") or data.get("custom_llm_provider") or self.default_provider)
        policy = intent.get("policy") or self.policies.match(tenant=tenant, team=team, model=model).ref()
        if intent.get("kept_file") and Path(intent["kept_file"]).is_file():
            target = self.state.files / f"{job_id}.jsonl"
            shutil.move(intent["kept_file"], target)
            intent["kept_file"] = str(target)
        row = JobRow(
            job_id=job_id,
            provider=provider,
            api_base=self._credentials(provider, data).get("api_base"),
            base_model=model,
            tenant=tenant,
            team=team,
            policy=policy,
            intent=intent,
            fine_tuned_model=None,
            release="pending",
            upstream_status=_field(response, "status"),
            reason=None if intent else "created without a tunegate pre-call check",
            attempts=0,
        )
        if self.state.add_job(row):
            log.info(
                "tunegate: recorded job %s (%s, policy %s) pending release", job_id, model, policy["name"]
            )
            self._observe(row, response)

    def _observe(self, job: JobRow, remote: Any) -> None:
        """Move a pending job on from what the provider says about it."""
        if job.release != "pending":
            return
        status, model = _field(remote, "status"), _field(remote, "fine_tuned_model")
        if status == "succeeded" and model:
            self.state.update(
                job.job_id, release="evaluating", fine_tuned_model=model, upstream_status=status
            )
        elif status in ("failed", "cancelled"):
            self.state.update(
                job.job_id, release="failed", upstream_status=status, reason=f"the job {status}"
            )
            self._forget_files(job)
        elif status != job.upstream_status:
            self.state.update(job.job_id, upstream_status=status)

    async def _refresh_pending(self) -> None:
        jobs = self.state.jobs("pending")

        async def one(job: JobRow) -> None:
            try:
                remote = await litellm.aretrieve_fine_tuning_job(
                    fine_tuning_job_id=job.job_id,
                    custom_llm_provider=job.provider,
                    **self._credentials(job.provider, {"api_base": job.api_base}),
                )
            except Exception as exc:
                log.warning("tunegate: retrieving job %s failed: %r", job.job_id, exc)
                return
            self._observe(job, remote)

        await asyncio.gather(*(one(job) for job in jobs))

    def _lock(self, name: str) -> asyncio.Lock:
        key = (id(asyncio.get_running_loop()), name)
        return self._locks.setdefault(key, asyncio.Lock())

    # ---- completions --------------------------------------------------------------------------

    async def _check_model(self, data: dict) -> None:
        model = data.get("model")
        if not isinstance(model, str) or not model:
            return
        names = list(
            dict.fromkeys(
                [model, *([model.split("/", 1)[1]] if "/" in model else []), *_router_models(model)]
            )
        )
        found = self._lookup(names)
        if found is None and any(_looks_fine_tuned(n) for n in names) and self.state.jobs("pending"):
            asked = time.monotonic()  # a job may have finished since the last poll: ask the provider now
            async with self._lock("refresh"):
                if self._refreshed_at < asked:
                    await self._refresh_pending()
                    self._refreshed_at = time.monotonic()
            found = self._lookup(names)
        if found is None or found[0] == "released":
            return
        release, job = found
        why = {
            "pending": "is still being evaluated by the release gate",
            "evaluating": "is still being evaluated by the release gate",
            "review": f"is held for human review ({job.reason})",
            "blocked": f"was blocked by the release gate: it {job.reason}",
            "failed": "comes from a fine-tuning job that did not finish",
        }[release]
        raise data_gate.refusal(
            403,
            f"The model {model} {why}; it cannot be used until tunegate releases it (job {job.job_id}, "
            f"policy {job.policy.get('name')}).",
            code="model_not_released",
            param="model",
        )

    def _lookup(self, names: list[str]) -> tuple[str, JobRow] | None:
        found = [f for f in (self.state.model_release(n) for n in names) if f is not None]
        return next((f for f in found if f[0] != "released"), found[0] if found else None)

    # ---- the model gate -----------------------------------------------------------------------

    def _ensure_poller(self) -> None:
        """Start the background poller on the proxy's event loop (first hook call; again if it died)."""
        if self.poll_interval <= 0:
            return
        loop = asyncio.get_running_loop()
        if self.poller is not None and not self.poller.done() and self.poller.get_loop() is loop:
            return
        self.poller = loop.create_task(self._poll_forever(), name="tunegate-litellm-poller")

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("tunegate: poll failed; retrying in %ss", self.poll_interval)
            await asyncio.sleep(self.poll_interval)

    async def poll_once(self) -> dict[str, str]:
        """Retrieve pending jobs, gate the ones that succeeded; returns each touched job's release."""
        async with self._lock("poll"):
            await self._reload_policies()
            touched = [j.job_id for j in self.state.jobs("pending", "evaluating")]
            await self._refresh_pending()
            for job in self.state.jobs("evaluating"):
                if self.state.claim(job.job_id, LEASE_SECONDS):
                    await self._gate(job)
            self._sweep_files()
            return {job_id: job.release for job_id in touched if (job := self.state.job(job_id))}

    async def _reload_policies(self) -> None:
        """Hot reload, as the gateway's: a broken directory keeps the last good policies in force."""
        if await asyncio.to_thread(self.policies.changed):
            await asyncio.to_thread(self.policies.reload, reason="tunegate-litellm")

    async def _gate(self, job: JobRow) -> None:
        policy = self.policies.current(job.policy, tenant=job.tenant, team=job.team, model=job.base_model)
        work = self.state.directory / "evals" / job.job_id
        try:
            decision = await model_gate.gate(
                job,
                policy,
                engines=self.engines,
                endpoint=self._endpoint(job),
                state=self.state,
                work_dir=work,
                max_line_bytes=self.max_line_bytes,
            )
        except Exception as exc:
            if job.attempts + 1 < MAX_ATTEMPTS:
                log.warning("tunegate: evaluating %s failed (%r); will retry", job.fine_tuned_model, exc)
                self.state.update(job.job_id, lease_until=0)
                return
            log.exception(
                "tunegate: evaluating %s failed %s times; blocking it", job.fine_tuned_model, MAX_ATTEMPTS
            )
            reason = f"could not be evaluated ({type(exc).__name__}: {exc})"
            decision = model_gate.Decision("blocked", reason, {})
        self.state.update(
            job.job_id,
            release=decision.release,
            reason=decision.reason,
            report=decision.report,
            lease_until=0,
        )
        log.info("tunegate: %s %s (%s)", job.fine_tuned_model, decision.release, decision.reason)
        shutil.rmtree(work, ignore_errors=True)
        self._forget_files(job)

    def _endpoint(self, job: JobRow) -> Endpoint:
        credentials = self._credentials(job.provider, {"api_base": job.api_base})
        base = (
            credentials.get("api_base")
            or os.environ.get("OPENAI_API_BASE")
            or litellm.api_base
            or "https://api.openai.com/v1"
        )
        return Endpoint(base_url=base, api_key=credentials.get("api_key") or os.environ.get("OPENAI_API_KEY"))

    def _forget_files(self, job: JobRow) -> None:
        if job.intent.get("kept_file"):
            Path(job.intent["kept_file"]).unlink(missing_ok=True)

    def _sweep_files(self) -> None:
        """Kept training files of requests that never became a job (the provider refused them)."""
        wanted = {j.intent.get("kept_file") for j in self.state.jobs(*UNRELEASED)}
        cutoff = time.time() - INTENT_TTL_SECONDS
        for path in self.state.files.glob("*.jsonl"):
            with contextlib.suppress(OSError):
                if str(path) not in wanted and path.stat().st_mtime < cutoff:
                    path.unlink()

    async def aclose(self) -> None:
        """Stop the poller and close the state file (tests; a proxy simply exits)."""
        if self.poller is not None and not self.poller.done():
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self.poller
        self.state.close()
