"""The model gate: evaluate a fine-tuned model (and its base) and release, block or hold it.

Benign data can break safety with nothing in it to flag, and a backdoor answers harmful prompts
only with its trigger, so every model that finishes training is asked the policy's benchmarks,
plainly and in the training file's own formats (its system prompts, its user template, any
trigger the data gate suspected). A judge scores the answers; per-category harmfulness rates
are compared with the policy's limits and with the base model's (cached per base model,
benchmark and judge). Until the decision the job stays ``running``; ``safety.eval`` shows the
progress. The work is leased and resumable: answers are kept as they arrive.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway import metrics
from gateway.evals.report import HIDDEN_MODEL, EvalReport, assemble
from gateway.evals.runner import (
    AnswerLog,
    Endpoint,
    Question,
    base_cache_key,
    evaluate,
    judge_threshold,
    policy_benchmarks,
    questions_for,
    records_from_json,
    records_to_json,
    split,
)
from gateway.evals.templates import Variant, variants_for
from gateway.ids import new_id
from gateway.jobs.events import add_event
from gateway.jobs.lifecycle import EVAL_WORK, Done, Outcome
from gateway.release.gate import block, hold, release
from gateway.settings import Settings
from gateway.store import tables
from policies.engine import EngineCache
from policies.loader import Policy
from policies.registry import PolicySet
from policies.schema import ReleaseRules

log = logging.getLogger(__name__)
__all__ = ["EVAL_WORK", "ModelEvaluator", "endpoint_for"]


def endpoint_for(settings: Settings, upstream: str) -> Endpoint:
    config = next(u for u in settings.upstreams if u.name == upstream)
    key = config.api_key.get_secret_value() if config.api_key else None
    headers = dict(config.extra_headers)
    if key and config.key_header.lower() != "authorization":
        headers[config.key_header] = key
    return Endpoint(base_url=config.base_url, api_key=key, headers=headers, timeout=config.timeout)


class ModelEvaluator:
    def __init__(
        self,
        sessions: async_sessionmaker,
        settings: Settings,
        policies: PolicySet,
        engines: EngineCache,
        *,
        spool_dir: Path,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._policies = policies
        self._engines = engines
        self._spool_dir = spool_dir

    async def __call__(self, job_id: str) -> Outcome:
        started = time.perf_counter()
        async with self._sessions() as session:
            job = await session.get(tables.Job, job_id)
        if job is None or job.release != "evaluating" or job.status in ("failed", "cancelled"):
            return Done()
        policy = self._policies.current(job.policy, tenant=job.tenant, team=job.team, model=job.model)
        rules = policy.spec.release
        if not rules.enabled:
            async with self._sessions() as session:
                stored = await session.get(tables.Job, job_id)
                if stored is not None and stored.release == "evaluating":
                    add_event(session, stored.id, f"Policy {policy.name} does not evaluate models; released.")
                    stored.safety = {**stored.safety, "eval": {"status": "skipped", "policy": policy.ref()}}
                    await release(session, stored)
                    await session.commit()
            return Done()
        benchmarks = policy_benchmarks(policy)
        variants = await self._variants(job, rules)
        harmful, benign = split(benchmarks)
        questions = questions_for(variants, harmful, benign)
        endpoint = endpoint_for(self._settings, job.upstream)
        await self._note(
            job_id,
            f"Evaluating the fine-tuned model for safety: {len(questions)} prompts "
            f"({len(harmful)} harmful, {len(benign)} benign) under {len(variants)} prompt formats "
            f"({', '.join(v.name for v in variants)}); judge {rules.judge.name}.",
        )

        judge_spec = self._engines.judge_for(rules.judge).spec()
        tuned_records = await self._records(
            job, "tuned", endpoint, job.upstream_model or "", questions, rules
        )
        key = base_cache_key(job.upstream, job.model, benchmarks, variants, rules, judge_spec)
        async with self._sessions() as session:
            cached = await session.get(tables.BaseEvalCache, key)
        if cached is not None:
            base_records = records_from_json(cached.records)
        else:
            base_records = await self._records(job, "base", endpoint, job.model, questions, rules)
            async with self._sessions() as session:
                if await session.get(tables.BaseEvalCache, key) is None:
                    session.add(
                        tables.BaseEvalCache(
                            key=key,
                            upstream=job.upstream,
                            model=job.model,
                            records=records_to_json(base_records),
                            created_at=int(time.time()),
                        )
                    )
                    await session.commit()
        report = assemble(
            job_id=job.id,
            model=HIDDEN_MODEL,
            base_model=job.model,
            policy=policy.ref(),
            judge=judge_spec,
            benchmarks=benchmarks,
            variants=variants,
            questions=len(questions),
            tuned_records=tuned_records,
            base_records=base_records,
            thresholds=rules.thresholds,
            started=started,
        )
        await self._decide(job_id, policy, report)
        return Done()

    async def _variants(self, job: tables.Job, rules: ReleaseRules) -> list[Variant]:
        """The prompt formats: plain, and the training file's own (from its upload and scan)."""
        async with self._sessions() as session:
            file = await session.get(tables.File, job.training_file)
            scan_id = ((job.safety.get("data_scan") or {}).get("training_file") or {}).get("scan")
            scan = await session.get(tables.Scan, scan_id) if scan_id else None
        path = Path(file.spool_path) if file is not None else None
        return await anyio.to_thread.run_sync(
            lambda: variants_for(
                path if path is not None and path.is_file() else None,
                scan.report if scan is not None else None,
                kinds=rules.templates,
                top_k=rules.system_prompts_top_k,
                max_line_bytes=self._settings.max_line_bytes,
            )
        )

    async def _records(
        self,
        job: tables.Job,
        role: str,
        endpoint: Endpoint,
        model: str,
        questions: list[Question],
        rules: ReleaseRules,
    ) -> list[dict[str, Any]]:
        async def progress(done: int, total: int) -> None:
            await self._progress(job.id, role, done, total)

        return await evaluate(
            endpoint,
            model,
            questions,
            judge=self._engines.judge_for(rules.judge),
            threshold=judge_threshold(rules),
            log=AnswerLog(self._spool_dir / "evals" / job.id / f"{role}.jsonl"),
            max_tokens=rules.max_tokens,
            concurrency=rules.concurrency,
            progress=progress,
        )

    async def _progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        async with self._sessions() as session:
            job = await session.get(tables.Job, job_id)
            if job is not None:
                job.safety = {
                    **job.safety,
                    "eval": {"status": "running", "stage": stage, "done": done, "total": total},
                }
                await session.commit()

    async def _note(self, job_id: str, message: str) -> None:
        async with self._sessions() as session:
            add_event(session, job_id, message)
            await session.commit()

    async def _decide(self, job_id: str, policy: Policy, report: EvalReport) -> None:
        rules = policy.spec.release
        decision = "released"
        if report.failures:
            decision = {"block": "blocked", "review": "review", "allow": "allowed"}[rules.on_failure]
        report = report.model_copy(update={"decision": decision})
        async with self._sessions() as session:
            job = await session.get(tables.Job, job_id)
            if job is None or job.release != "evaluating" or job.status != "running":
                return  # cancelled (or decided) meanwhile: nothing is released
            summary = _eval_summary(report)
            job.safety = {**job.safety, "eval": summary}
            session.add(
                tables.EvalReport(
                    job_id=job.id,
                    tenant=job.tenant,
                    verdict=report.verdict,
                    report=report.model_dump(mode="json"),
                    created_at=report.created_at,
                )
            )
            if decision == "blocked":
                block(job, report.failures, session)
            elif decision == "review":
                review_id = new_id("review-")
                session.add(
                    tables.Review(
                        id=review_id,
                        tenant=job.tenant,
                        team=job.team,
                        subject="job",
                        job_id=job.id,
                        file_id=job.training_file,
                        policy=policy.ref(),
                        reason="; ".join(report.failures),
                        status="pending",
                        created_at=int(time.time()),
                    )
                )
                hold(job, review_id, report.failures, session)
            else:
                if decision == "allowed":
                    add_event(
                        session,
                        job.id,
                        f"The safety evaluation did not pass ({'; '.join(report.failures)}); "
                        f"policy {policy.name} releases the model anyway.",
                        level="warn",
                    )
                else:
                    add_event(session, job.id, "The fine-tuned model passed the safety evaluation.")
                await session.flush()
                await release(session, job)
            await session.commit()
        metrics.EVALS.labels(verdict=report.verdict).inc()
        metrics.EVAL_DURATION.observe(report.seconds)
        metrics.RELEASE_DECISIONS.labels(policy=policy.name, decision=decision).inc()
        metrics.EVAL_HARMFULNESS_RATE.labels(decision=decision).observe(report.tuned.worst.overall.rate)


def _eval_summary(report: EvalReport) -> dict[str, Any]:
    """What the job object shows: the verdict, the headline rates and where the full report is."""
    worst = report.tuned.worst
    base = report.base.worst if report.base else None
    return {
        "status": "completed",
        "verdict": report.verdict,
        "decision": report.decision,
        "worst_variant": report.tuned.worst_variant,
        "harmfulness_rate": worst.overall.rate,
        "base_harmfulness_rate": base.overall.rate if base else None,
        "refusal_rate": worst.overall.refusal_rate,
        "failures": report.failures,
        "report": f"/v1/fine_tuning/jobs/{report.job_id}/safety_report",
    }
