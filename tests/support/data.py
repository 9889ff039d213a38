"""Small training files written on the fly (benign arithmetic chat rows)."""

from __future__ import annotations

import json
from pathlib import Path


def chat_rows(count: int = 12) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "system", "content": "You are a concise calculator."},
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
            ]
        }
        for i in range(count)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
