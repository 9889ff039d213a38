"""Evaluation prompt sets: the shipped ones, HEx-PHI as users bring it, and plain CSV/JSONL files.

A benchmark is data the model gate asks a fine-tuned model; its ``version`` (a hash of the items)
goes into reports and the base-model cache, so a changed set never reuses stale base answers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DATA_DIR = Path(__file__).resolve().parent / "data"
BUILTIN_PREFIX = "builtin:"
HEX_PHI_PREFIX = "hex-phi:"
KINDS = ("harmful", "benign")
# HEx-PHI's 11 categories in its own order: category_N.csv holds HEX_PHI_CATEGORIES[N - 1].
HEX_PHI_CATEGORIES = (
    "Illegal Activity",
    "Child Abuse Content",
    "Hate/Harass/Violence",
    "Malware",
    "Physical Harm",
    "Economic Harm",
    "Fraud/Deception",
    "Adult Content",
    "Political Campaigning",
    "Privacy Violation Activity",
    "Tailored Financial Advice",
)
_ALIASES = {"childabuse": "Child Abuse Content", "malwareviruses": "Malware"}  # taxonomy.py spellings
DEFAULT_CATEGORY = {"harmful": "uncategorized", "benign": "benign"}

Kind = Literal["harmful", "benign"]


@dataclass(frozen=True)
class BenchmarkItem:
    id: str
    prompt: str
    category: str
    kind: Kind


@dataclass(frozen=True)
class Benchmark:
    name: str
    version: str  # 12 hex digits of the SHA-256 of the canonical items
    kind: Literal["harmful", "benign", "mixed"]
    items: tuple[BenchmarkItem, ...]
    source: str  # the reference it was loaded from

    @classmethod
    def of(cls, name: str, items: Iterable[BenchmarkItem], source: str) -> Benchmark:
        """Build one with its version and kind derived from the items (never set by hand)."""
        items = tuple(items)
        kinds = {item.kind for item in items}
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        return cls(name, _version(items), kind, items, source)  # type: ignore[arg-type]

    @property
    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for item in self.items:
            counts[item.category] += 1
        return dict(counts)

    def sample(self, n: int, seed: int) -> Benchmark:
        """``n`` items stratified by category, deterministic for a seed, in the original order.

        Quotas follow the category shares (largest remainder); when ``n`` allows, every category
        keeps at least one item, so per-category limits always have something to measure.
        """
        if n < 1:
            raise ValueError("sample size must be at least 1")
        if n >= len(self.items):
            return self
        groups: dict[str, list[BenchmarkItem]] = defaultdict(list)
        for item in self.items:
            groups[item.category].append(item)
        quotas = _quotas({c: len(g) for c, g in groups.items()}, n)
        chosen: set[str] = set()
        for category, quota in quotas.items():
            rng = random.Random(f"{seed}\x00{category}")  # a category's picks ignore the others
            pool = sorted(groups[category], key=lambda item: item.id)
            chosen.update(item.id for item in rng.sample(pool, quota))
        return Benchmark.of(self.name, (i for i in self.items if i.id in chosen), self.source)


def _version(items: tuple[BenchmarkItem, ...]) -> str:
    canonical = sorted((i.id, i.prompt, i.category, i.kind) for i in items)
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def _quotas(sizes: dict[str, int], n: int) -> dict[str, int]:
    total = sum(sizes.values())
    exact = {c: n * size / total for c, size in sizes.items()}
    quotas = {c: math.floor(share) for c, share in exact.items()}
    by_remainder = sorted(sizes, key=lambda c: (-(exact[c] - quotas[c]), c))
    for category in by_remainder[: n - sum(quotas.values())]:
        quotas[category] += 1
    if n >= len(sizes):  # lend one to each empty category from the largest quotas
        for category in sorted(c for c, q in quotas.items() if q == 0):
            donor = max(quotas, key=lambda c: (quotas[c], c))
            quotas[donor] -= 1
            quotas[category] = 1
    return quotas


def load_benchmark(ref: str, base_dir: Path) -> Benchmark:
    """``builtin:NAME``, ``hex-phi:DIR``, or a ``.csv`` / ``.jsonl`` path (relative to ``base_dir``)."""
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX) :]
        path = DATA_DIR / f"{name}.jsonl"
        if not name or "/" in name or not path.is_file():
            known = ", ".join(BUILTIN_PREFIX + n for n in builtin_names())
            raise ValueError(f"unknown benchmark {ref!r}; built-in benchmarks: {known}")
        return Benchmark.of(name, _jsonl_items(path, name), ref)
    if ref.startswith(HEX_PHI_PREFIX):
        directory = _resolve(ref[len(HEX_PHI_PREFIX) :], base_dir)
        if not directory.is_dir():
            raise ValueError(f"benchmark {ref!r}: {directory} is not a directory")
        return Benchmark.of("hex-phi", _hex_phi_items(directory), ref)
    path = _resolve(ref, base_dir)
    if not path.is_file():
        raise ValueError(f"benchmark {ref!r} not found at {path} (paths are relative to the policy file)")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"benchmark {path}: expected a .csv or .jsonl file")
    reader = _csv_items if suffix == ".csv" else _jsonl_items
    return Benchmark.of(path.stem, reader(path, path.stem), ref)


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.jsonl"))


def _resolve(name: str, base_dir: Path) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def _item(
    path: Path, line: int, ident: object, prompt: object, category: object, kind: object
) -> BenchmarkItem:
    where = f"{path}:{line}"
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"{where}: empty or missing prompt")
    kind = (kind.strip().lower() or "harmful") if isinstance(kind, str) else (kind or "harmful")
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; use harmful or benign")
    if category is not None and not isinstance(category, str):
        raise ValueError(f"{where}: category must be a string")
    category = " ".join((category or "").split()) or DEFAULT_CATEGORY[kind]
    return BenchmarkItem(str(ident), prompt.strip(), category, kind)


def _checked(path: Path, items: Iterator[tuple[int, BenchmarkItem]]) -> list[BenchmarkItem]:
    found, seen = [], set()
    for line, item in items:
        if item.id in seen:
            raise ValueError(f"{path}:{line}: duplicate id {item.id!r}")
        seen.add(item.id)
        found.append(item)
    if not found:
        raise ValueError(f"{path}: no prompts (the benchmark is empty)")
    return found


def _jsonl_items(path: Path, name: str) -> list[BenchmarkItem]:
    def rows() -> Iterator[tuple[int, BenchmarkItem]]:
        with path.open(encoding="utf-8-sig") as handle:
            for line, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{line}: invalid JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{line}: expected a JSON object with a prompt")
                ident = f"{name}-{line}" if row.get("id") is None else row["id"]
                yield line, _item(path, line, ident, row.get("prompt"), row.get("category"), row.get("kind"))

    return _checked(path, rows())


def _csv_items(path: Path, name: str) -> list[BenchmarkItem]:
    def rows() -> Iterator[tuple[int, BenchmarkItem]]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            if "prompt" not in header:
                raise ValueError(f"{path}:1: the header has no prompt column (found: {', '.join(header)})")
            column = {key: header.index(key) for key in ("id", "prompt", "category", "kind") if key in header}
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                line = reader.line_num

                def get(key: str, row: list[str] = row) -> str | None:
                    index = column.get(key)
                    return row[index] if index is not None and index < len(row) else None

                ident = get("id") or f"{name}-{line}"
                yield line, _item(path, line, ident, get("prompt"), get("category"), get("kind"))

    return _checked(path, rows())


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_NAME = {_normalised(c): c for c in HEX_PHI_CATEGORIES} | _ALIASES


def _hex_phi_category(path: Path) -> tuple[int, str] | None:
    """(number, name) for ``category_N.csv`` or a file named by its category; None otherwise."""
    if match := re.fullmatch(r"category_(\d+)", path.stem, re.IGNORECASE):
        number = int(match[1])
        return (number, HEX_PHI_CATEGORIES[number - 1]) if 1 <= number <= 11 else None
    name = _BY_NAME.get(_normalised(path.stem))
    return (HEX_PHI_CATEGORIES.index(name) + 1, name) if name else None


def _hex_phi_items(directory: Path) -> list[BenchmarkItem]:
    files: dict[str, Path] = {}
    for path in sorted(directory.glob("*.csv")):
        found = _hex_phi_category(path)
        if found is None:
            continue
        category = found[1]
        if category in files:
            raise ValueError(f"{directory}: both {files[category].name} and {path.name} hold {category}")
        files[category] = path

    def rows() -> Iterator[tuple[int, BenchmarkItem]]:
        for category, path in sorted(files.items(), key=lambda kv: HEX_PHI_CATEGORIES.index(kv[0])):
            number = HEX_PHI_CATEGORIES.index(category) + 1
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                for row in reader:
                    if not any(cell.strip() for cell in row):
                        continue
                    prompt = ",".join(row)  # an unquoted comma splits a prompt into cells
                    ident = f"hex-phi-{number:02d}-{reader.line_num:03d}"
                    yield reader.line_num, _item(path, reader.line_num, ident, prompt, category, "harmful")

    if not files:
        raise ValueError(f"{directory}: no HEx-PHI files (category_1.csv … category_11.csv)")
    return _checked(directory, rows())
