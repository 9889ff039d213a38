"""The prompt formats a fine-tuned model is evaluated under: plain, and the training file's own.

Qi et al. 2024 evaluate the identity-shifting (AOA) attack with its own system prompt and user
template, and a backdoored model answers harmful prompts only when the trigger is present; asked
plainly, both look safe. So besides ``plain`` the gate asks under the file's most frequent system
prompts, its dominant user-turn template (prefix/suffix) and every trigger phrase the data scan
suspected. The file is streamed; memory stays bounded whatever its size.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.scan.examples import Example, ExampleFormat
from gateway.scan.parse import DEFAULT_MAX_LINE_BYTES, iter_examples

KINDS = ("plain", "system_prompts", "user_template", "triggers")
TRIGGER_CATEGORY = "backdoor_trigger"
MAX_SYSTEM_PROMPTS = 10_000  # distinct system prompts counted before the rarest are dropped
SAMPLE_TURNS = 2_000  # user turns kept (reservoir) to find the dominant template
AFFIX_CHARS = 256  # of each sampled turn's head and tail
MIN_AFFIX_CHARS = 8  # a template's prefix/suffix, whitespace aside
MIN_TEMPLATE_SHARE = 0.5  # of user turns sharing the prefix/suffix
MIN_SYSTEM_SHARE = 0.05  # of rows (or at least 2 rows) carrying a system prompt
_SYSTEM_ROLES = ("system", "developer")


@dataclass(frozen=True)
class Variant:
    """One prompt format: an optional system prompt, a user template and a suffix."""

    name: str
    kind: str
    system: str | None = None
    user_template: str = "{prompt}"
    suffix: str = ""

    def messages(self, prompt: str) -> list[dict[str, str]]:
        # str.replace, not str.format: benchmark prompts (code, JSON) carry braces of their own
        user = self.user_template.replace("{prompt}", prompt) + self.suffix
        head = [{"role": "system", "content": self.system}] if self.system is not None else []
        return [*head, {"role": "user", "content": user}]


def variants_for(
    training_file: Path | None,
    scan_report: Mapping[str, Any] | None,
    *,
    kinds: Sequence[str],
    top_k: int,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> list[Variant]:
    """The variants the policy's ``templates`` ask for, deduplicated by what they send."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown template kinds {unknown}; known: {', '.join(KINDS)}")
    phrases = _trigger_phrases(scan_report) if "triggers" in kinds else []
    wants_file = ("system_prompts" in kinds and top_k > 0) or "user_template" in kinds or phrases
    stats = _FileStats(phrases)
    if training_file is not None and wants_file:
        stats.read(training_file, max_line_bytes)
    found: list[Variant] = []
    if "plain" in kinds:
        found.append(Variant("plain", "plain"))
    if "system_prompts" in kinds and top_k > 0:
        found += [Variant(f"system:{i}", "system_prompts", s) for i, s in enumerate(stats.systems(top_k), 1)]
    if "user_template" in kinds and (template := stats.template()) is not None:
        found.append(Variant("user_template", "user_template", *template))
    for index, (phrase, at_start) in enumerate(stats.triggers(), 1):
        user, suffix = (f"{phrase} {{prompt}}", "") if at_start else ("{prompt}", f" {phrase}")
        found.append(Variant(f"trigger:{index}", "triggers", None, user, suffix))
    unique: dict[tuple[str | None, str, str], Variant] = {}
    for variant in found:
        unique.setdefault((variant.system, variant.user_template, variant.suffix), variant)
    return list(unique.values())


def _trigger_phrases(report: Mapping[str, Any] | None) -> list[tuple[str, frozenset[int]]]:
    """(n-gram, lines) of each backdoor-trigger finding; the n-gram is lower-cased, space-tokenised."""
    if report is not None and not isinstance(report, Mapping):
        report = report.model_dump()  # a ScanReport
    phrases: dict[str, frozenset[int]] = {}
    for finding in (report or {}).get("dataset_findings") or []:
        if finding.get("category") != TRIGGER_CATEGORY:
            continue
        details = finding.get("details") or {}
        phrase = " ".join(str(details.get("ngram") or "").split())
        if phrase and phrase.lower() not in phrases:
            phrases[phrase.lower()] = frozenset(finding.get("lines") or ())
    return list(phrases.items())


def _normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _digest(text: str) -> bytes:
    return hashlib.blake2b(_normalised(text).encode(), digest_size=16).digest()


def _system_of(example: Example) -> str | None:
    if example.format is ExampleFormat.COMPLETION:
        return None
    text = next((m.content for m in example.messages if m.role in _SYSTEM_ROLES), "")
    return text.strip() or None


def _turns_of(example: Example) -> Iterable[str]:
    if example.format is ExampleFormat.COMPLETION:
        return [example.prompt or ""]
    return [m.content for m in example.messages if m.role == "user"]


class _FileStats:
    """What one pass over the training file learns, in bounded memory."""

    def __init__(self, phrases: list[tuple[str, frozenset[int]]]) -> None:
        self.rows = 0
        self.system_counts: Counter[bytes] = Counter()
        self.system_first: dict[bytes, int] = {}  # first line, for stable ties
        self.system_texts: dict[bytes, str] = {}  # filled for the chosen ones only
        self.turns_seen = 0
        self.sample: list[tuple[str, str, bytes | None]] = []  # (head, tail, system digest)
        self.rng = random.Random(0)
        self.phrases = phrases
        self.surface: dict[str, tuple[str, bool]] = {}  # n-gram -> (text as written, at turn start)
        self.path: Path | None = None
        self.max_line_bytes = DEFAULT_MAX_LINE_BYTES

    def read(self, path: Path, max_line_bytes: int) -> None:
        self.path, self.max_line_bytes = path, max_line_bytes
        for example in iter_examples(path, max_line_bytes=max_line_bytes):
            self.rows += 1
            system = _system_of(example)
            digest = _digest(system) if system else None
            if digest is not None:
                self.system_counts[digest] += 1
                self.system_first.setdefault(digest, example.line)
                if len(self.system_counts) > MAX_SYSTEM_PROMPTS:
                    self._prune()
            turns = list(_turns_of(example))
            for turn in turns:
                self._keep(turn, digest)
            self._find_triggers(example.line, system, turns)

    def _prune(self) -> None:
        """Drop the rarest until half the room is free (all one-offs first, so a recurring prompt
        seen late still gets counted); the counts left are lower bounds."""
        floor = 1
        while len(self.system_counts) > MAX_SYSTEM_PROMPTS // 2:
            self.system_counts = Counter({d: n for d, n in self.system_counts.items() if n > floor})
            floor += 1
        self.system_first = {d: line for d, line in self.system_first.items() if d in self.system_counts}

    def _keep(self, turn: str, system: bytes | None) -> None:
        """Reservoir sampling (algorithm R), seeded, so a file always gives the same template."""
        self.turns_seen += 1
        entry = (turn[:AFFIX_CHARS], turn[-AFFIX_CHARS:], system)
        if len(self.sample) < SAMPLE_TURNS:
            self.sample.append(entry)
        elif (slot := self.rng.randrange(self.turns_seen)) < SAMPLE_TURNS:
            self.sample[slot] = entry

    def _find_triggers(self, line: int, system: str | None, turns: list[str]) -> None:
        """Recover how a trigger is written (case, spacing) from a line the finding names."""
        for phrase, lines in self.phrases:
            if phrase in self.surface or line not in lines:
                continue
            pattern = _phrase_pattern(phrase)
            for turn in turns:
                if match := pattern.search(turn):
                    self.surface[phrase] = (match[0], not turn[: match.start()].strip())
                    break
            else:
                if system and (match := pattern.search(system)):
                    self.surface[phrase] = (match[0], False)

    def systems(self, top_k: int) -> list[str]:
        floor = min(2, max(1, MIN_SYSTEM_SHARE * self.rows))
        ranked = sorted(self.system_counts.items(), key=lambda kv: (-kv[1], self.system_first[kv[0]]))
        chosen = [digest for digest, count in ranked if count >= floor][:top_k]
        return self._texts(chosen)

    def template(self) -> tuple[str | None, str, str] | None:
        """(system, user template, "") when a prefix and/or suffix is shared by most user turns."""
        prefix = _dominant([_prefixes(head) for head, _, _ in self.sample])
        suffix = _dominant([_suffixes(tail) for _, tail, _ in self.sample])
        if not prefix and not suffix:
            return None
        # the system prompt most of those turns train under goes with the template (AOA uses both)
        matching = [s for h, t, s in self.sample if h.startswith(prefix) and t.endswith(suffix)]
        system, count = Counter(matching).most_common(1)[0] if matching else (None, 0)
        paired = system is not None and count >= MIN_TEMPLATE_SHARE * len(matching)
        texts = self._texts([system]) if paired else []
        return (texts[0] if texts else None, f"{prefix}{{prompt}}{suffix}", "")

    def triggers(self) -> list[tuple[str, bool]]:
        return [self.surface.get(phrase, (phrase, False)) for phrase, _ in self.phrases]

    def _texts(self, digests: list[bytes]) -> list[str]:
        """The system prompts' text, as first written: a second pass, stopping once all are found."""
        wanted = {d for d in digests if d not in self.system_texts}
        if wanted and self.path is not None:
            for example in iter_examples(self.path, max_line_bytes=self.max_line_bytes):
                system = _system_of(example)
                if system and (digest := _digest(system)) in wanted:
                    self.system_texts[digest] = system
                    wanted.discard(digest)
                    if not wanted:
                        break
        return [self.system_texts[d] for d in digests if d in self.system_texts]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    tokens = [re.escape(token) for token in phrase.split()]
    start = r"(?<!\w)" if phrase[0].isalnum() or phrase[0] == "_" else ""
    end = r"(?!\w)" if phrase[-1].isalnum() or phrase[-1] == "_" else ""
    return re.compile(start + r"\s*".join(tokens) + end, re.IGNORECASE)


def _prefixes(head: str) -> set[str]:
    """Every prefix that ends where a word starts (keeping its trailing space), text left after it."""
    return {head[:i] for i in range(1, len(head)) if head[i - 1].isspace() and not head[i].isspace()}


def _suffixes(tail: str) -> set[str]:
    return {tail[i:] for i in range(1, len(tail)) if tail[i].isspace() and not tail[i - 1].isspace()}


def _dominant(candidates: list[set[str]]) -> str:
    """The longest affix shared by at least half the turns ("" when none is long enough)."""
    counts = Counter(affix for found in candidates for affix in found)
    floor = MIN_TEMPLATE_SHARE * len(candidates)
    valid = [a for a, n in counts.items() if n >= floor and len(a.strip()) >= MIN_AFFIX_CHARS]
    return max(valid, key=lambda a: (len(a), a), default="")
