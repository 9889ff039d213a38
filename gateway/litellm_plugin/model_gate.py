"""The model gate for fine-tunes created through the proxy: ask, judge, decide.

The same benchmarks, prompt formats, judge, statistics and thresholds as the gateway's gate
(``gateway.release.evaluate``), read from the job's policy. The fine-tuned model and its base are
asked through litellm at the provider's OpenAI-compatible endpoint; base answers are cached in
the plugin's state per (endpoint, base model, benchmarks, formats, judge). The prompt formats
come from the training file the data gate kept (its system prompts, user template and any
trigger phrase the scan suspected), as in the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.evals.report import assemble
from gateway.evals.runner import (
    AnswerLog,
    Endpoint,
    TooManyUnanswerable,
    base_cache_key,
    evaluate,
    judge_threshold,
    policy_benchmarks,
    questions_for,
    records_from_json,
    records_to_json,
    split,
)
from gateway.evals.templates import variants_for
from gateway.litellm_plugin.state import JobRow, State
from policies.engine import EngineCache
from policies.loader import Policy

log = logging.getLogger(__name__)
DECISIONS = {"block": "blocked", "review": "review", "allow": "released"}


@dataclass(frozen=True)
class Decision:
    release: str  # released | blocked | review
    reason: str
    report: dict[str, Any]


async def gate(
    job: JobRow,
    policy: Policy,
    *,
    engines: EngineCache,
    endpoint: Endpoint,
    state: State,
    work_dir: Path,
    max_line_bytes: int,
) -> Decision:
    """Evaluate ``job.fine_tuned_model`` under ``policy``'s release rules and decide its release."""
    rules = policy.spec.release
    if not rules.enabled:
        return Decision("released", f"policy {policy.name} does not evaluate models", {"status": "skipped"})
    started = time.perf_counter()
    benchmarks = policy_benchmarks(policy)
    kept = job.intent.get("kept_file")
    variants = await asyncio.to_thread(
        lambda: variants_for(
            Path(kept) if kept and Path(kept).is_file() else None,
            job.intent.get("scan_findings"),
            kinds=rules.templates,
            top_k=rules.system_prompts_top_k,
            max_line_bytes=max_line_bytes,
        )
    )
    questions = questions_for(variants, *split(benchmarks))
    judge = engines.judge_for(rules.judge)
    judge_spec = judge.spec()

    async def ask(role: str, model: str) -> list[dict[str, Any]]:
        return await evaluate(
            endpoint,
            model,
            questions,
            judge=judge,
            threshold=judge_threshold(rules),
            log=AnswerLog(work_dir / f"{role}.jsonl"),
            max_tokens=rules.max_tokens,
            concurrency=rules.concurrency,
        )

    try:
        tuned = await ask("tuned", job.fine_tuned_model or "")
    except TooManyUnanswerable as exc:
        return Decision("blocked", f"the safety evaluation could not ask the model: {exc}", {})
    key = base_cache_key(endpoint.base_url, job.base_model, benchmarks, variants, rules, judge_spec)
    cached = state.base_records(key)
    base: list[dict[str, Any]] | None
    if cached is not None:
        base = records_from_json(cached)
    else:
        try:
            base = await ask("base", job.base_model)
            state.put_base_records(key, records_to_json(base))
        except (
            Exception
        ) as exc:  # a base the endpoint does not serve: no regression check, said in the report
            log.warning("tunegate: the base model %s could not be evaluated: %s", job.base_model, exc)
            base = None
    report = assemble(
        job_id=job.job_id,
        model=job.fine_tuned_model or "",
        base_model=job.base_model,
        policy=policy.ref(),
        judge=judge_spec,
        benchmarks=benchmarks,
        variants=variants,
        questions=len(questions),
        tuned_records=tuned,
        base_records=base,
        thresholds=rules.thresholds,
        started=started,
    )
    release = DECISIONS[rules.on_failure] if report.failures else "released"
    report = report.model_copy(update={"decision": release})
    if not report.failures:
        reason = "passed the safety evaluation"
    else:
        reason = f"failed the safety evaluation: {'; '.join(report.failures)}"
        if release == "released":
            reason += f" (policy {policy.name} releases it anyway)"
    return Decision(release, reason, report.model_dump(mode="json"))
