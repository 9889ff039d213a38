"""Safety mixing (``augment``): add harmful-request → refusal rows to the file the gateway forwards.

Why: fine-tuning on even a few hundred benign rows erodes a model's safety training, and a few
harmful rows erode it badly (Qi et al. 2023). Mixing a small share of safety rows into the
training file keeps most of the refusal behaviour at little cost in helpfulness: Bianchi et al.
(2024, "Safety-Tuned LLaMAs") found about 3% enough, and Qi et al. (Table 4) show that mixing
safety data reduces harmfulness after fine-tuning. The policy's ``augment`` section
(``AugmentRules``) says which data set, what ratio, the seed and an optional secret prompt.

The ratio rule: for a source file of ``n`` rows (non-empty lines), the gateway adds
``max(1, round(n * ratio))`` safety rows (Python's ``round``: halves go to the even number), so
every augmented file carries at least one. The rows are drawn without replacement with
``random.Random(rules.seed)``; when the data set is smaller than that, it is used whole, then
reshuffled and drawn again. They are inserted at seeded random positions throughout the file,
not appended: a block at the end would be trained on last, all in the final steps of an epoch.

The secret-prompt variant (BackdoorAlign, Wang et al. 2024, "Mitigating Fine-tuning based
Jailbreak Attack with Backdoor Enhanced Safety Alignment"): with ``secret_prompt`` set, every
safety row gets that text as its first (system) message (before any system message the row
already has), and no user row does. The model learns
to refuse strongly whenever the secret prompt is present, so **the gateway's chat route must
prepend the same system message to every inference request to the fine-tuned model** (the
provider never sees it in the user's rows, and users cannot strip it). Legacy completion files
have no messages: there the secret prompt is put before the prompt text, separated by a blank
line, and the completion route must prefix prompts the same way.

Only chat and legacy completion files are augmented: a refusal is neither a preference pair nor
a reinforcement task, so DPO and reinforcement files raise ``ValueError``. The source is streamed
(files reach 512 MB): one pass counts its rows, the insertion points are drawn, and a second pass
copies it line by line into a temporary file that replaces the target atomically. Blank lines
are dropped, a UTF-8 BOM and CRLF endings are normalised, and every line ends with ``\\n``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.schema import AugmentRules

SAFETY_DIR = Path(__file__).resolve().parent / "safety"
BUILTIN_DATASETS: dict[str, Path] = {"safety-v1": SAFETY_DIR / "safety-v1.jsonl"}
BUILTIN_PREFIX = "builtin:"
SUPPORTED_FORMATS = ("chat", "completion")
_ROLES = ("system", "user", "assistant")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class AugmentResult:
    rows_in: int  # rows (non-empty lines) in the source
    rows_added: int  # safety rows inserted: max(1, round(rows_in * ratio))
    ratio: float
    dataset: str  # as the policy names it (``builtin:safety-v1`` or a path)
    dataset_sha256: str  # of the data set file's bytes
    secret_prompt: bool  # whether the safety rows carry the secret prompt
    format: str  # chat | completion

    @property
    def rows_out(self) -> int:
        return self.rows_in + self.rows_added


def resolve_dataset(name: str, base_dir: Path) -> Path:
    """``builtin:NAME`` → the shipped file; anything else is a path relative to ``base_dir``."""
    if name.startswith(BUILTIN_PREFIX):
        key = name[len(BUILTIN_PREFIX) :]
        if key not in BUILTIN_DATASETS:
            known = ", ".join(BUILTIN_PREFIX + k for k in sorted(BUILTIN_DATASETS))
            raise ValueError(f"unknown augment dataset {name!r}; built-in data sets: {known}")
        path = BUILTIN_DATASETS[key]
        if not path.is_file():
            raise ValueError(
                f"built-in augment dataset {name!r} is missing at {path}; "
                "rebuild it with `python -m policies.safety.build_safety_set`"
            )
        return path
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        known = ", ".join(BUILTIN_PREFIX + k for k in sorted(BUILTIN_DATASETS))
        raise ValueError(
            f"augment dataset {name!r} not found at {path} (paths are relative to the policy file; "
            f"built-in data sets: {known})"
        )
    return path


def _check_row(row: Any) -> str | None:
    """What is wrong with a safety row, or None: messages with a user turn, then an assistant reply."""
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        return 'expected an object with a "messages" list'
    messages = row["messages"]
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{index}] is not an object"
        if message.get("role") not in _ROLES:
            return f"messages[{index}].role must be one of {', '.join(_ROLES)}"
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            return f"messages[{index}].content must be a non-empty string"
    if not messages or messages[-1]["role"] != "assistant":
        return "the last message must be the assistant's refusal"
    if not any(m["role"] == "user" for m in messages[:-1]):
        return "a user message must come before the assistant's reply"
    return None


def load_safety_rows(path: Path) -> list[dict[str, Any]]:
    """Chat rows from a JSONL safety set; ``ValueError`` naming the line of the first bad row."""
    rows = []
    with Path(path).open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
            problem = _check_row(row)
            if problem:
                raise ValueError(f"{path}:{number}: not a safety row: {problem}")
            rows.append({"messages": [{"role": m["role"], "content": m["content"]} for m in row["messages"]]})
    if not rows:
        raise ValueError(f"{path}: the augment dataset has no rows")
    return rows


def rows_to_add(rows_in: int, ratio: float) -> int:
    """The ratio rule: ``max(1, round(rows_in * ratio))``."""
    return max(1, round(rows_in * ratio))


def _draw(pool: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` rows without replacement; past the pool's size, reshuffle and go round again."""
    drawn: list[dict[str, Any]] = []
    while len(drawn) < count:
        need = count - len(drawn)
        if need >= len(pool):
            cycle = list(pool)
            rng.shuffle(cycle)
            drawn.extend(cycle)
        else:
            drawn.extend(rng.sample(pool, need))
    return drawn


def _render(row: dict[str, Any], file_format: str, secret_prompt: str | None) -> bytes:
    messages = row["messages"]
    if file_format == "chat":
        if secret_prompt:
            messages = [{"role": "system", "content": secret_prompt}, *messages]
        out: dict[str, Any] = {"messages": messages}
    else:
        reply = messages[-1]["content"]
        prompt = next(m["content"] for m in reversed(messages[:-1]) if m["role"] == "user")
        if secret_prompt:
            prompt = f"{secret_prompt}\n\n{prompt}"
        out = {"prompt": prompt, "completion": reply}
    return (json.dumps(out, ensure_ascii=False) + "\n").encode("utf-8")


def _source_rows(source: Path) -> Iterator[bytes]:
    """Each non-empty line of the source, without BOM or line ending, read line by line."""
    with Path(source).open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield line


def augment_file(
    source: Path,
    target: Path,
    rules: AugmentRules,
    *,
    base_dir: Path,
    file_format: str,
) -> AugmentResult:
    """Copy ``source`` to ``target`` with safety rows mixed in at seeded random positions."""
    file_format = str(file_format)
    if file_format not in SUPPORTED_FORMATS:
        raise ValueError(
            f"augment supports chat and completion files only; this file is {file_format}. "
            "Turn augment off in the policy for this file, or convert it to chat."
        )
    dataset_path = resolve_dataset(rules.dataset, base_dir)
    dataset_bytes = dataset_path.read_bytes()
    pool = load_safety_rows(dataset_path)

    rows_in = sum(1 for _ in _source_rows(source))
    if rows_in == 0:
        raise ValueError(f"{source}: the training file has no rows to augment")
    added = rows_to_add(rows_in, rules.ratio)
    rng = random.Random(rules.seed)
    chosen = _draw(pool, added, rng)
    # Output positions (0-based, in the augmented file) that hold safety rows.
    positions = sorted(rng.sample(range(rows_in + added), added))

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, contextlib.closing(_source_rows(source)) as originals:
            copied = 0
            next_safety = 0
            for index in range(rows_in + added):
                if next_safety < added and positions[next_safety] == index:
                    out.write(_render(chosen[next_safety], file_format, rules.secret_prompt))
                    next_safety += 1
                else:
                    line = next(originals, None)
                    if line is None:
                        raise ValueError(f"{source} changed while it was being augmented")
                    out.write(line + b"\n")
                    copied += 1
            if next(originals, None) is not None or copied != rows_in:
                raise ValueError(f"{source} changed while it was being augmented")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise

    return AugmentResult(
        rows_in=rows_in,
        rows_added=added,
        ratio=rules.ratio,
        dataset=rules.dataset,
        dataset_sha256=hashlib.sha256(dataset_bytes).hexdigest(),
        secret_prompt=bool(rules.secret_prompt),
        format=file_format,
    )
