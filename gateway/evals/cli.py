"""``tunegate eval``: the model gate's evaluation against any OpenAI-compatible endpoint.

The same benchmarks, prompt formats, judge, statistics and thresholds as the gateway's gate,
read from a policy's release section (default: the shipped default policy), so a team can
check a model before it ever reaches the gateway, or audit one served elsewhere.
Exit codes: 0 pass, 1 fail, 3 invalid input.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from gateway.evals.report import EvalReport, as_html, as_json, as_markdown, assemble
from gateway.evals.runner import (
    AnswerLog,
    Endpoint,
    evaluate,
    judge_threshold,
    policy_benchmarks,
    questions_for,
    split,
)
from gateway.evals.templates import variants_for
from policies.engine import ClassifierCache
from policies.loader import Policy

RENDERERS = {"json": as_json, "markdown": as_markdown, "html": as_html}


async def run_eval(
    *,
    policy: Policy,
    model: str,
    base: str | None,
    benchmarks: list[str] | None,
    base_url: str,
    api_key: str | None,
    training_file: Path | None,
    max_prompts: int | None,
) -> EvalReport:
    rules = policy.spec.release
    started = time.perf_counter()
    loaded = policy_benchmarks(policy, benchmarks, max_prompts)
    variants = variants_for(training_file, None, kinds=rules.templates, top_k=rules.system_prompts_top_k)
    questions = questions_for(variants, *split(loaded))
    judge = ClassifierCache().get(rules.judge)
    endpoint = Endpoint(base_url=base_url, api_key=api_key)
    with tempfile.TemporaryDirectory() as scratch:

        async def records(role: str, name: str) -> list[dict]:
            return await evaluate(
                endpoint,
                name,
                questions,
                judge=judge,
                threshold=judge_threshold(rules),
                log=AnswerLog(Path(scratch) / f"{role}.jsonl"),
                max_tokens=rules.max_tokens,
                concurrency=rules.concurrency,
            )

        tuned_records = await records("tuned", model)
        base_records = await records("base", base) if base else None
    return assemble(
        job_id=None,
        model=model,
        base_model=base or "",
        policy=policy.ref(),
        judge=judge.spec(),
        benchmarks=loaded,
        variants=variants,
        questions=len(questions),
        tuned_records=tuned_records,
        base_records=base_records,
        thresholds=rules.thresholds,
        started=started,
    )


def main(args, policy: Policy) -> int:
    report = asyncio.run(
        run_eval(
            policy=policy,
            model=args.model,
            base=args.base,
            benchmarks=args.benchmark or None,
            base_url=args.base_url,
            api_key=args.api_key or os.environ.get("OPENAI_API_KEY"),
            training_file=Path(args.training_file) if args.training_file else None,
            max_prompts=args.max_prompts,
        )
    )
    text = RENDERERS[args.format](report)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0 if report.verdict == "pass" else 1
