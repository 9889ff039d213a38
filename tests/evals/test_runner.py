"""The evaluation runner against the real reference trainer (tiny-llama, a 512-token context).

Every question is really asked of the trainer over HTTP through litellm. To count how many
requests ``answer_all`` makes, ``gateway.evals.runner.ask`` is wrapped by a local counter that
still calls the real function: nothing is faked, the counter only observes real calls.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from classifiers.refusal_keywords import RefusalKeywordsClassifier
from gateway.evals import runner
from gateway.evals.benchmarks import BenchmarkItem
from gateway.evals.judging import Judged
from gateway.evals.runner import (
    UNANSWERABLE,
    AnswerLog,
    Endpoint,
    Question,
    TooManyUnanswerable,
    answer_all,
    evaluate,
    questions_for,
)
from gateway.evals.templates import Variant

MODEL = "tiny-llama"
PLAIN = Variant("plain", "plain")
SYSTEM = Variant("system:1", "system_prompts", system="You are a concise calculator.")
# Far beyond 512 tokens whatever the tokenizer does with it: the trainer answers 400.
TOO_LONG = " ".join(f"word{i} and more words" for i in range(1500))


def _items(kind: str, count: int) -> list[BenchmarkItem]:
    category = "Malware" if kind == "harmful" else "benign"
    return [
        BenchmarkItem(f"{kind}-{i}", f"{kind} question {i}: what is {i} plus {i}?", category, kind)  # type: ignore[arg-type]
        for i in range(count)
    ]


@pytest.fixture
def endpoint(trainer) -> Endpoint:  # type: ignore[no-untyped-def]
    return Endpoint(base_url=trainer.url, retries=0, timeout=60)


@pytest.fixture
def asked(monkeypatch) -> Counter:  # type: ignore[no-untyped-def]
    """Count the real requests by the last message's text (the wrapped ``ask`` still sends them)."""
    counts: Counter = Counter()
    real_ask = runner.ask

    async def counting_ask(endpoint, model, messages, *, max_tokens):  # type: ignore[no-untyped-def]
        counts[messages[-1]["content"]] += 1
        return await real_ask(endpoint, model, messages, max_tokens=max_tokens)

    monkeypatch.setattr(runner, "ask", counting_ask)
    return counts


def test_questions_for_puts_benign_prompts_under_plain_only():
    harmful, benign = _items("harmful", 2), _items("benign", 2)
    questions = questions_for([PLAIN, SYSTEM], harmful, benign)
    keys = [q.key for q in questions]
    assert keys == [
        "plain|harmful-0",
        "plain|harmful-1",
        "system:1|harmful-0",
        "system:1|harmful-1",
        "plain|benign-0",
        "plain|benign-1",
    ]
    assert len(set(keys)) == len(keys)
    # Without a plain variant the benign prompts go under the first one, still only once each.
    only_system = questions_for([SYSTEM], harmful, benign)
    assert [q.key for q in only_system if q.item.kind == "benign"] == [
        "system:1|benign-0",
        "system:1|benign-1",
    ]


async def test_answer_all_asks_every_question_once_and_logs_it(endpoint, asked, tmp_path):
    questions = questions_for([PLAIN, SYSTEM], _items("harmful", 3), _items("benign", 2))
    log = AnswerLog(tmp_path / "tuned.jsonl")
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    answers = await answer_all(
        endpoint, MODEL, questions, log=log, max_tokens=4, concurrency=4, progress=progress
    )
    assert set(answers) == {q.key for q in questions}
    assert all(isinstance(a, str) for a in answers.values())
    # Harmful prompts are asked under both formats (same user text), benign ones once.
    expected = Counter(q.variant.messages(q.item.prompt)[-1]["content"] for q in questions)
    assert asked == expected and sum(asked.values()) == len(questions) == 8
    assert seen[-1] == (8, 8)
    assert log.load() == answers
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert sorted(r["key"] for r in lines) == sorted(answers)


async def test_answer_log_resumes_where_it_stopped(endpoint, asked, tmp_path):
    questions = questions_for([PLAIN], _items("harmful", 4), _items("benign", 2))
    log = AnswerLog(tmp_path / "resume" / "tuned.jsonl")
    done_before = questions[::2]  # half the keys, as if a worker died after answering them
    for question in done_before:
        log.append(question.key, f"earlier answer to {question.key}")
    with log.path.open("a") as handle:
        handle.write('{"key": "plain|cut-by-a-cra')  # a line cut by a crash: ignored, and not joined

    answers = await answer_all(endpoint, MODEL, questions, log=log, max_tokens=4, concurrency=2)
    rest = [q for q in questions if q not in done_before]
    assert sum(asked.values()) == len(rest) == 3
    assert set(asked) == {q.item.prompt for q in rest}
    for question in done_before:
        assert answers[question.key] == f"earlier answer to {question.key}"
    assert set(log.load()) == {q.key for q in questions}

    asked.clear()
    again = await answer_all(endpoint, MODEL, questions, log=log, max_tokens=4, concurrency=2)
    assert asked == Counter() and again == answers  # all logged: nothing is asked again


async def test_a_prompt_beyond_the_context_is_unanswerable_and_left_out(endpoint, tmp_path):
    harmful = [*_items("harmful", 9), BenchmarkItem("harmful-long", TOO_LONG, "Malware", "harmful")]
    benign = [BenchmarkItem("benign-long", TOO_LONG, "benign", "benign"), *_items("benign", 1)]
    questions = questions_for([PLAIN], harmful, benign)
    log = AnswerLog(tmp_path / "long.jsonl")

    records = await evaluate(
        endpoint,
        MODEL,
        questions,
        judge=RefusalKeywordsClassifier(),
        threshold=0.5,
        log=log,
        max_tokens=4,
        concurrency=4,
    )
    logged = log.load()
    assert logged["plain|harmful-long"] is UNANSWERABLE and logged["plain|benign-long"] is UNANSWERABLE
    assert sum(a is UNANSWERABLE for a in logged.values()) == 2
    # 1 of 10 harmful prompts skipped is within the 10% allowed; both long prompts are left out.
    assert len(records) == len(questions) - 2 == 10
    assert [r["kind"] for r in records].count("harmful") == 9
    assert all(isinstance(r["judged"], Judged) for r in records)
    assert all(set(r) == {"variant", "category", "kind", "judged"} for r in records)  # no texts kept


async def test_too_many_unanswerable_harmful_prompts_fail_the_evaluation(endpoint, tmp_path):
    harmful = _items("harmful", 8) + [
        BenchmarkItem(f"harmful-long-{i}", f"{i} {TOO_LONG}", "Malware", "harmful") for i in range(2)
    ]
    questions = questions_for([PLAIN], harmful, _items("benign", 1))
    with pytest.raises(
        TooManyUnanswerable, match=r"2 of 10 harmful prompts could not be asked of tiny-llama"
    ):
        await evaluate(
            endpoint,
            MODEL,
            questions,
            judge=RefusalKeywordsClassifier(),
            threshold=0.5,
            log=AnswerLog(tmp_path / "too-many.jsonl"),
            max_tokens=4,
            concurrency=4,
        )


def test_question_keys_name_the_variant_and_the_item():
    question = Question(SYSTEM, _items("harmful", 1)[0])
    assert question.key == "system:1|harmful-0"
    assert question.variant.messages(question.item.prompt)[0] == {
        "role": "system",
        "content": "You are a concise calculator.",
    }
