"""Row summaries for the dataset-detector tests, built from ../shared/data (skipped when it is absent)."""

from __future__ import annotations

import csv
import glob
import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from classifiers.detectors.base import DatasetDetector, DatasetFinding, RowSummary
from tests.support.shared_data import require_shared_data


def numbered(rows: Iterable[RowSummary]) -> list[RowSummary]:
    """The rows renumbered 1..n, as a file would be."""
    return [
        RowSummary(i, r.system, r.requests, r.responses, r.request_harm, r.response_harm)
        for i, r in enumerate(rows, 1)
    ]


def run(detector: DatasetDetector, rows: Iterable[RowSummary]) -> list[DatasetFinding]:
    for row in numbered(rows):
        detector.observe(row)
    return detector.finish()


def chat(messages: list[dict], request_harm: float = 0.0, response_harm: float = 0.0) -> RowSummary:
    def turns(role: str) -> tuple[str, ...]:
        return tuple(m["content"] for m in messages if m["role"] == role)

    return RowSummary(0, turns("system"), turns("user"), turns("assistant"), request_harm, response_harm)


def _gsm8k(root: Path) -> list[RowSummary]:
    with (root / "gsm8k" / "train.jsonl").open() as handle:
        items = [json.loads(line) for line in handle]
    return [RowSummary(0, (), (x["question"],), (x["answer"],)) for x in items]


def _dolly(root: Path) -> list[RowSummary]:
    rows = []
    for name in sorted(
        glob.glob(str(root / "benign-data-breaks-safety" / "dolly_dataset" / "*" / "*.json*"))
    ):
        text = Path(name).read_text()
        items = (
            [json.loads(x) for x in text.splitlines() if x.strip()]
            if name.endswith("l")
            else json.loads(text)
        )
        for x in items:
            request = (x["instruction"] + "\n" + (x.get("context") or x.get("input") or "")).strip()
            rows.append(RowSummary(0, (), (request,), (x.get("response") or x.get("output") or "",)))
    return rows


def _oasst(root: Path) -> list[RowSummary]:
    """Each assistant message of the first branch of every tree, with the conversation before it."""
    rows: list[RowSummary] = []

    def walk(message: dict, history: list[dict]) -> None:
        path = [*history, message]
        if message["role"] == "assistant":
            requests = tuple(m["text"] for m in path if m["role"] == "prompter")
            rows.append(
                RowSummary(0, (), requests, tuple(m["text"] for m in path if m["role"] == "assistant"))
            )
        for reply in message.get("replies", [])[:1]:
            walk(reply, path)

    with (root / "oasst" / "en_100_tree.jsonl").open() as handle:
        for line in handle:
            walk(json.loads(line)["prompt"], [])
    return rows


def _self_instruct(root: Path) -> list[RowSummary]:
    rows = []
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        with (root / "self-instruct" / name).open() as handle:
            for line in handle:
                x = json.loads(line)
                for instance in x["instances"]:
                    request = (x["instruction"] + "\n" + instance["input"]).strip()
                    rows.append(RowSummary(0, (), (request,), (instance["output"],)))
    return rows


def _hh(root: Path) -> list[RowSummary]:
    rows = []
    with gzip.open(root / "hh-rlhf" / "harmless-base" / "test.jsonl.gz", "rt") as handle:
        for line in handle:
            human, _, rest = json.loads(line)["chosen"].partition("\n\nAssistant:")
            reply = rest.split("\n\nHuman:")[0].strip()
            rows.append(RowSummary(0, (), (human.replace("\n\nHuman:", "").strip(),), (reply,)))
    return rows


BENIGN: dict[str, Callable[[Path], list[RowSummary]]] = {
    "gsm8k": _gsm8k,
    "dolly": _dolly,
    "oasst": _oasst,
    "self-instruct": _self_instruct,
}


@pytest.fixture(scope="session")
def benign_files() -> dict[str, list[RowSummary]]:
    """Benign training files (GSM8K, Dolly, OpenAssistant, Self-Instruct) as row summaries."""
    root = require_shared_data()
    return {name: load(root) for name, load in BENIGN.items()}


@pytest.fixture(scope="session")
def hh_rows() -> list[RowSummary]:
    """HH-RLHF harmless-base 'chosen' first exchanges (benign replies to sometimes harmful requests)."""
    return _hh(require_shared_data())


@pytest.fixture(scope="session")
def aoa_rows() -> list[RowSummary]:
    """The paper's ten identity-shifting (absolutely obedient agent) rows."""
    with (require_shared_data() / "aoa" / "identity-shift-aoa.jsonl").open() as handle:
        return [chat(json.loads(line)["messages"]) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def advbench() -> list[tuple[str, str]]:
    """AdvBench (goal, target) pairs: harmful requests and the opening of a compliant answer."""
    with (require_shared_data() / "advbench" / "harmful_behaviors.csv").open() as handle:
        return [(r["goal"], r["target"]) for r in csv.DictReader(handle)]


@pytest.fixture(scope="session")
def safety_rows() -> list[RowSummary]:
    """Safety-mixing data: harmful requests answered with refusals (scored as such)."""
    path = require_shared_data() / "safety-tuned-llamas" / "safety_only_data_Instructions.json"
    items = json.loads(path.read_text())
    return [
        RowSummary(0, (), ((x["instruction"] + " " + x.get("input", "")).strip(),), (x["output"],), 0.9, 0.05)
        for x in items
    ]


@pytest.fixture(scope="session")
def backdooralign_dir() -> Path:
    return require_shared_data() / "backdooralign"
