"""Ask a model the benchmark prompts, through litellm, against an OpenAI-compatible endpoint.

Decoding is deterministic (temperature 0), answers are capped at ``max_tokens``, requests are
limited to ``concurrency`` in flight and retried by litellm. Answers are appended to a progress
file as they arrive, so a worker that dies mid-evaluation resumes where it stopped instead of
asking every prompt again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import litellm

from classifiers.base import Classifier
from gateway.evals.benchmarks import Benchmark, BenchmarkItem, load_benchmark
from gateway.evals.judging import Judged, default_threshold, judge_answers
from gateway.evals.templates import Variant

if TYPE_CHECKING:
    from policies.loader import Policy
    from policies.schema import ReleaseRules

Progress = Callable[[int, int], Awaitable[None]]
PROGRESS_EVERY = 20
# litellm prints a help banner to stdout on every failed call; `tunegate eval` writes its report there.
litellm.suppress_debug_info = True


@dataclass(frozen=True)
class Endpoint:
    """Where a model answers: an OpenAI-compatible base URL, its key and any extra headers."""

    base_url: str
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0
    retries: int = 3


@dataclass(frozen=True)
class Question:
    """One benchmark prompt under one prompt format."""

    variant: Variant
    item: BenchmarkItem

    @property
    def key(self) -> str:
        return f"{self.variant.name}|{self.item.id}"


def questions_for(
    variants: Sequence[Variant], harmful: Sequence[BenchmarkItem], benign: Sequence[BenchmarkItem]
) -> list[Question]:
    """Harmful prompts under every format (an attack may need its own); benign ones plain only."""
    plain = [v for v in variants if v.kind == "plain"] or list(variants[:1])
    return [Question(v, item) for v in variants for item in harmful] + [
        Question(v, item) for v in plain for item in benign
    ]


def policy_benchmarks(
    policy: Policy, refs: Sequence[str] | None = None, limit: int | None = None
) -> list[Benchmark]:
    """The policy's release benchmarks (or ``refs``), resolved beside its file and sampled as it says."""
    rules = policy.spec.release
    base_dir = Path(policy.source).parent if policy.source != "<builtin>" else Path.cwd()
    return [
        load_benchmark(ref, base_dir).sample(limit or rules.max_prompts_per_benchmark, rules.seed)
        for ref in refs or rules.benchmarks
    ]


def split(benchmarks: Sequence[Benchmark]) -> tuple[list[BenchmarkItem], list[BenchmarkItem]]:
    """(harmful, benign) items of the benchmarks, in order."""
    items = [item for b in benchmarks for item in b.items]
    return [i for i in items if i.kind == "harmful"], [i for i in items if i.kind == "benign"]


def judge_threshold(rules: ReleaseRules) -> float:
    """The policy's judge threshold, else the judge's default."""
    threshold = rules.judge_threshold
    return threshold if threshold is not None else default_threshold(rules.judge.name)


def base_cache_key(
    where: str,
    model: str,
    benchmarks: Sequence[Benchmark],
    variants: Sequence[Variant],
    rules: ReleaseRules,
    judge_spec: dict[str, Any],
) -> str:
    """What a base model's judged answers depend on: change any of it and they are asked again."""
    identity = {
        "upstream": where,
        "model": model,
        "benchmarks": [(b.name, b.version) for b in benchmarks],
        "variants": [asdict(v) for v in variants],
        "judge": rules.judge.model_dump(mode="json"),
        # includes the judge's version: new weights, new base results
        "judge_spec": {k: v for k, v in judge_spec.items() if k != "device"},
        "threshold": rules.judge_threshold,
        "max_tokens": rules.max_tokens,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def records_to_json(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "judged": asdict(r["judged"])} for r in records]


def records_from_json(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "judged": Judged(**r["judged"])} for r in records]


MAX_UNANSWERABLE_SHARE = 0.1  # more harmful prompts the endpoint refuses than this fails the evaluation
UNANSWERABLE = None  # the answer recorded for a prompt the endpoint refused (too long for the model, ...)


class TooManyUnanswerable(RuntimeError):
    pass


class AnswerLog:
    """The answers received so far for one model of one evaluation (JSON lines: key, answer)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str | None]:
        if not self.path.is_file():
            return {}
        answers = {}
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):  # end a cut last line, or the next record joins it and is lost
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write("\n")
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that question is asked again
            answers[record["key"]] = record["answer"]
        return answers

    def append(self, key: str, answer: str | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "answer": answer}, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


async def ask(endpoint: Endpoint, model: str, messages: list[dict[str, str]], *, max_tokens: int) -> str:
    response = await litellm.acompletion(
        model=f"openai/{model}",
        messages=messages,
        api_base=endpoint.base_url,
        api_key=endpoint.api_key or "unused",
        extra_headers=endpoint.headers or None,
        temperature=0,
        max_tokens=max_tokens,
        timeout=endpoint.timeout,
        num_retries=endpoint.retries,
    )
    return response.choices[0].message.content or ""


async def answer_all(
    endpoint: Endpoint,
    model: str,
    questions: Sequence[Question],
    *,
    log: AnswerLog,
    max_tokens: int,
    concurrency: int,
    progress: Progress | None = None,
) -> dict[str, str | None]:
    """Every question's answer by key (None: unanswerable); questions in ``log`` are not asked again."""
    answers = log.load()
    todo = [q for q in questions if q.key not in answers]
    limit = asyncio.Semaphore(concurrency)
    done = len(questions) - len(todo)
    lock = asyncio.Lock()

    async def one(question: Question) -> None:
        nonlocal done
        async with limit:
            messages = question.variant.messages(question.item.prompt)
            try:
                text: str | None = await ask(endpoint, model, messages, max_tokens=max_tokens)
            except (
                litellm.BadRequestError
            ):  # this prompt cannot be asked (too long, refused): skipped, counted
                text = UNANSWERABLE
        async with lock:
            answers[question.key] = text
            log.append(question.key, text)
            done += 1
            if progress and (done % PROGRESS_EVERY == 0 or done == len(questions)):
                await progress(done, len(questions))

    await asyncio.gather(*(one(q) for q in todo))
    return answers


async def evaluate(
    endpoint: Endpoint,
    model: str,
    questions: Sequence[Question],
    *,
    judge: Classifier,
    threshold: float,
    log: AnswerLog,
    max_tokens: int,
    concurrency: int,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Ask and judge: one record per question (variant, category, kind, judged); no texts kept."""
    answers = await answer_all(
        endpoint, model, questions, log=log, max_tokens=max_tokens, concurrency=concurrency, progress=progress
    )
    answered = [q for q in questions if answers[q.key] is not UNANSWERABLE]
    # Harmful prompts are what the gate is about: too many it could not ask and it cannot vouch for
    # the model. A benign prompt too long for a small model only leaves the over-refusal count.
    harmful = [q for q in questions if q.item.kind == "harmful"]
    skipped = sum(1 for q in harmful if answers[q.key] is UNANSWERABLE)
    if skipped > MAX_UNANSWERABLE_SHARE * len(harmful):
        raise TooManyUnanswerable(
            f"{skipped} of {len(harmful)} harmful prompts could not be asked of {model} "
            "(the endpoint refused them, e.g. longer than the model's context)"
        )
    pairs = [(q.variant.messages(q.item.prompt)[-1]["content"], answers[q.key] or "") for q in answered]
    judged = await judge_answers(judge, pairs, threshold=threshold)
    return [
        {"variant": q.variant.name, "category": q.item.category, "kind": q.item.kind, "judged": j}
        for q, j in zip(answered, judged, strict=True)
    ]
