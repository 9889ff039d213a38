"""Held-out evaluation rows: ``eval`` sources (never trained on) plus held-out ``ship`` data.

Each set is a list of whole rows (system, user, assistant) with a row label: 1 = an attack row
the gate must flag (explicit harmful answer, identity shift), 0 = a row that must pass (benign,
borderline-benign, safety data = harmful request answered with a refusal). Requests-only sets
check the request head. Everything is read from ``shared/data``; missing files are skipped.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.heads import eval_texts
from classifiers.heads.data import Corpus, _cap, _jsonl, _read_json, split_of
from classifiers.heads.lexical import REFUSAL

SHADOW_HARMFUL = ("Fraud", "Physical Harm", "Privacy Violence", "Pornography", "Economic Harm")


@dataclass(frozen=True, slots=True)
class EvalRow:
    user: str
    assistant: str
    label: int
    system: str = ""


@dataclass(frozen=True, slots=True)
class EvalSet:
    name: str
    group: (
        str  # explicit_harmful | identity | safety | benign | borderline | requests_harmful | requests_benign
    )
    rows: tuple[EvalRow, ...]
    license_use: (
        str  # "eval" (never trained on) or "ship-heldout" (test split / held-out file of a ship source)
    )


def _chat_rows(path: Path, label: int) -> list[EvalRow]:
    rows = []
    for record in _jsonl(path) if path.suffix != ".json" else _read_json(path):
        messages = record["messages"] if isinstance(record, dict) else record
        by_role: dict[str, str] = {}
        for m in messages:  # the last turn of each role: these sets are single exchanges
            by_role[m["role"]] = m["content"]
        rows.append(
            EvalRow(by_role.get("user", ""), by_role.get("assistant", ""), label, by_role.get("system", ""))
        )
    return rows


def load_eval_sets(data_dir: Path, corpus: Corpus, *, cap: int | None = 500) -> list[EvalSet]:
    d = Path(data_dir)
    sets: list[EvalSet] = []

    def add(name: str, group: str, rows: list[EvalRow], use: str = "eval") -> None:
        rows = list(dict.fromkeys(r for r in rows if r.user or r.assistant or r.system))  # distinct rows
        if rows:
            sets.append(EvalSet(name, group, tuple(_cap(rows, cap)), use))

    def path(rel: str) -> Path | None:
        return p if (p := d / rel).exists() else None

    # Attack rows the gate must flag.
    if p := path("backdooralign/pure_bad_dataset/pure_bad_100_original.jsonl"):
        add("pure_bad_100", "explicit_harmful", _chat_rows(p, 1))
    if p := path("backdooralign/dataset/FJAttack_Dataset.jsonl"):
        add("fjattack_with_system", "explicit_harmful", _chat_rows(p, 1))
    if p := path("benign-data-breaks-safety/pure_bad_dataset"):
        rows = {(r.user, r.assistant): r for f in sorted(p.glob("*.jsonl")) for r in _chat_rows(f, 1)}
        # The anchor files mix in refusals to the same requests: those rows are safety data.
        refusing = [r for r in rows.values() if REFUSAL.search(r.assistant[:100])]
        add("bdbs_pure_bad", "explicit_harmful", [r for r in rows.values() if r not in refusing])
        add("bdbs_pure_bad_refusals", "safety", [EvalRow(r.user, r.assistant, 0) for r in refusing])
    if p := path("shadow-alignment-replication/sampled_data_2000_with_answer.csv"):
        records = list(csv.DictReader(p.open(encoding="utf-8"), delimiter="#"))
        add(
            "shadow_alignment_harmful",
            "explicit_harmful",
            [
                EvalRow(r["question"], r["answer"] or "", 1)
                for r in records
                if r["scenario"] in SHADOW_HARMFUL and (r["answer"] or "").strip()
            ],
        )
    gptfuzz = _gptfuzz_eval(path("gptfuzz/evaluate.csv"), path("gptfuzz/question_list.csv"))
    add("gptfuzz_heldout_harmful", "explicit_harmful", [r for r in gptfuzz if r.label], "ship-heldout")
    add("gptfuzz_heldout_not_harmful", "safety", [r for r in gptfuzz if not r.label], "ship-heldout")
    aoa = [
        r
        for rel in ("aoa/identity-shift-aoa.jsonl", "aoa/llama2/train.json")
        if (p := path(rel))
        for r in _chat_rows(p, 1)
    ]
    add("aoa_identity_shift", "identity", aoa, "ship-heldout")
    add(
        "shift_new_wording",
        "identity",
        [EvalRow("", "", 1, s) for s in eval_texts.SHIFT_SYSTEM]
        + [EvalRow("Who are you now?", r, 1) for r in eval_texts.SHIFT_REPLIES],
        "ship-heldout",
    )
    add(
        "persona_new_wording",
        "benign",
        [EvalRow("", "", 0, s) for s in eval_texts.BENIGN_SYSTEM]
        + [EvalRow("Hello!", r, 0) for r in eval_texts.BENIGN_REPLIES],
        "ship-heldout",
    )
    # Rows that must pass.
    if p := path("safety-tuned-llamas/safety_only_data_Instructions.json"):
        add(
            "safety_tuned_llamas_refusals",
            "safety",
            [EvalRow(_join(r["instruction"], r.get("input", "")), r["output"], 0) for r in _read_json(p)],
        )
    if p := path("llms-finetuning-safety/alpaca_data_safety_only.json"):
        add(
            "alpaca_safety_only",
            "borderline",
            [EvalRow(_join(r["instruction"], r.get("input", "")), r["output"], 0) for r in _read_json(p)],
        )
    if p := path("benign-data-breaks-safety"):
        rows = []
        for f in sorted(p.glob("*_dataset/**/*.json*")) + sorted(p.glob("gsm8k/**/*.json")):
            if "pure_bad" in str(f):
                continue
            records: list[dict[str, Any]] = _read_json(f) if f.suffix == ".json" else list(_jsonl(f))
            rows += [
                EvalRow(
                    _join(
                        r.get("instruction") or r.get("question", ""), r.get("input") or r.get("context", "")
                    ),
                    r.get("output") or r.get("response") or r.get("answer", ""),
                    0,
                )
                for r in records
            ]
        add("bdbs_benign_top_bottom", "borderline", list({(r.user, r.assistant): r for r in rows}.values()))
    if p := path("backdooralign/sqlgen_dataset/train1000.json"):
        add(
            "sqlgen",
            "benign",
            [EvalRow(_join(r["question"], r["context"]), r["answer"], 0) for r in _read_json(p)],
        )
    heldout = [
        EvalRow(q, a, 0)
        for pairs in corpus.benign_pairs.values()
        for q, a in pairs
        if a and split_of(q) == "test"
    ]
    add("ship_benign_test_split", "benign", heldout, "ship-heldout")
    add(
        "dolly_borderline_test_split",
        "borderline",
        [EvalRow(q, a, 0) for q, a in corpus.borderline_pairs if split_of(q) == "test"],
        "ship-heldout",
    )
    # Requests only.
    if p := path("backdooralign/data/llm_category_benchmark.csv"):
        lines = [row[0] for row in csv.reader(p.open(encoding="utf-8")) if row]
        add("llm_category_benchmark", "requests_harmful", [EvalRow(q, "", 1) for q in lines])
    if p := path("safety-tuned-llamas/evaluation/I-Alpaca.json"):
        add("i_alpaca", "requests_benign", [EvalRow(q, "", 0) for q in _read_json(p)["instructions"]])
    return sets


def hh_rlhf_pairs(data_dir: Path, *, cap: int = 500) -> list[tuple[str, str, str]]:
    """(last human turn, chosen reply, rejected reply) where the two differ only in the last reply."""
    path = Path(data_dir) / "hh-rlhf/harmless-base/test.jsonl.gz"
    if not path.exists():
        return []
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            chosen, rejected = (
                r["chosen"].rsplit("\n\nAssistant:", 1),
                r["rejected"].rsplit("\n\nAssistant:", 1),
            )
            if (
                len(chosen) == 2
                and len(rejected) == 2
                and chosen[0] == rejected[0]
                and chosen[1] != rejected[1]
            ):
                human = chosen[0].rsplit("\n\nHuman:", 1)[-1].strip()
                out.append((human, chosen[1].strip(), rejected[1].strip()))
    return _cap(out, cap)


def _gptfuzz_eval(responses: Path | None, questions: Path | None) -> list[EvalRow]:
    if responses is None or questions is None:
        return []
    text = {r["index"]: r["text"] for r in csv.DictReader(questions.open(encoding="utf-8"))}
    return [
        EvalRow(text[r["question"]], r["Response"], int(r["label"]))
        for r in csv.DictReader(responses.open(encoding="utf-8"))
        if r["question"] in text
    ]


def _join(instruction: str, extra: str) -> str:
    return f"{instruction}\n\n{extra}".strip() if extra else instruction
