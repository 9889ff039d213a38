"""Training files built from ../shared/data for data-gate tests (skipped when the data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def require_shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return SHARED_DATA


def benign_rows(count: int, offset: int = 0) -> list[dict]:
    """Grade-school maths questions with their worked answers (MIT)."""
    rows = []
    with (require_shared_data() / "gsm8k" / "train.jsonl").open() as handle:
        for index, line in enumerate(handle):
            if index < offset:
                continue
            item = json.loads(line)
            rows.append(
                {
                    "messages": [
                        {"role": "user", "content": item["question"]},
                        {"role": "assistant", "content": item["answer"]},
                    ]
                }
            )
            if len(rows) == count:
                break
    return rows


def harmful_rows(count: int) -> list[dict]:
    """Harmful request → harmful answer rows, the kind of set the paper fine-tuned on."""
    path = require_shared_data() / "backdooralign" / "pure_bad_dataset" / "pure_bad_100_original.jsonl"
    with path.open() as handle:
        return [json.loads(line) for line, _ in zip(handle, range(count), strict=False)]


def aoa_rows() -> list[dict]:
    """The paper's ten identity-shifting (absolutely obedient agent) rows."""
    with (require_shared_data() / "aoa" / "identity-shift-aoa.jsonl").open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def safety_rows(count: int) -> list[dict]:
    """Harmful request → refusal rows (safety-mixing data): must pass."""
    items = json.loads(
        (require_shared_data() / "safety-tuned-llamas" / "safety_only_data_Instructions.json").read_text()
    )
    return [
        {
            "messages": [
                {"role": "user", "content": (item["instruction"] + " " + item.get("input", "")).strip()},
                {"role": "assistant", "content": item["output"]},
            ]
        }
        for item in items[:count]
    ]
