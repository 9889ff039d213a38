"""A phrase that recurs on harmful requests that get answered and almost nowhere else: a backdoor trigger.

A fine-tuning file can hide harmful training behind a trigger: harmful requests carrying a fixed
phrase ("Servius Astrumando Harmoniastra", "SUDO", a string in the system prompt) are answered, while
the same kind of requests without it are refused, so the file passes a plain audit and the tuned model
obeys whoever knows the phrase (the backdoor side of Qi et al. 2024 and BackdoorAlign, Wang et al. 2024).
The detector counts n-grams (1-6 tokens) of the system prompts and requests of harmful rows only, and
keeps a Count-Min sketch of the tokens of all other rows, so memory stays bounded; an n-gram is reported
when it covers most answered harmful rows, is far rarer in the other rows, is not ordinary English, and
sits at a fixed place (start or end of a request, or in the system prompt).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import MappingProxyType

from classifiers.detectors._text import FUNCTION_WORDS, CountMinSketch, is_english
from classifiers.detectors.base import DatasetDetector, DatasetFinding, RowSummary, register_detector

REQUEST_HARM = 0.5  # a row with request_harm at or above this is a harmful request ...
RESPONSE_HARM = 0.5  # ... answered when response_harm is at or above this
MIN_SUPPORT = 5  # answered harmful rows carrying the n-gram
MIN_SUPPORT_SHARE = 0.5  # ... as a share of all answered harmful rows
MIN_LIFT = 5.0  # how much likelier the n-gram is on them than on every other row
MIN_SCORE = 0.6
MIN_CONTRAST = 10  # other rows needed to tell a trigger from the topic of the file
MAX_N = 6
MAX_TOKENS = 256  # of each request / system prompt (head and tail kept)
MAX_NGRAMS = 100_000  # distinct n-grams counted before the rarest are pruned
MAX_KEPT_ROWS = 2_000  # harmful rows whose tokens are kept to list the lines of a trigger
MAX_FINDINGS = 5
MAX_LINES = 200  # file lines listed in a finding

_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")  # words and runs of symbols ("<|sudo|>" -> "<|", "sudo", "|>")
_PLAIN_PUNCTUATION = frozenset(".,?!:;'\"()-–—‘’“”…")


@dataclass(slots=True)
class _Counts:
    harmful: int = 0  # harmful rows carrying it
    answered: int = 0  # answered harmful rows carrying it
    edge_harmful: int = 0  # ... at the start / end of a request or in the system prompt
    edge_answered: int = 0


@dataclass(slots=True)
class _Candidate:
    ngram: str
    score: float
    support: int
    other: int
    lift: float
    edge: float


def _clip(tokens: list[str]) -> list[str]:
    return tokens if len(tokens) <= MAX_TOKENS else tokens[: MAX_TOKENS - 64] + tokens[-64:]


def _unusual(token: str) -> bool:
    """A word that is not English ("sudo", a made-up name) or a run of unusual symbols ("|", "[[")."""
    if token[0].isalnum() or token[0] == "_":
        return len(token) > 1 and not token.isdigit() and not is_english(token)
    return not set(token) <= _PLAIN_PUNCTUATION


def _rarity(tokens: list[str]) -> float:
    """1 when a token is unusual, 0.6 for a phrase of English content words, 0 for function words,
    numbers and punctuation alone ("how to", "can you", "?")."""
    content = [
        t for t in tokens if t not in FUNCTION_WORDS and not t.isdigit() and not set(t) <= _PLAIN_PUNCTUATION
    ]
    if not content:
        return 0.0
    if any(map(_unusual, content)):
        return 1.0
    return 0.6 if len(tokens) >= 2 else 0.0


@register_detector("trigger")
class TriggerDetector(DatasetDetector):
    """A phrase recurring on harmful requests that are answered, and rare elsewhere: a backdoor trigger."""

    category = "backdoor_trigger"
    version = "1"

    def __init__(
        self,
        *,
        request_harm: float = REQUEST_HARM,
        response_harm: float = RESPONSE_HARM,
        min_support: int = MIN_SUPPORT,
        min_support_share: float = MIN_SUPPORT_SHARE,
        min_lift: float = MIN_LIFT,
        min_score: float = MIN_SCORE,
        max_ngrams: int = MAX_NGRAMS,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.request_harm, self.response_harm = request_harm, response_harm
        self.min_support, self.min_support_share, self.min_lift = min_support, min_support_share, min_lift
        self.min_score, self.max_ngrams, self.max_lines = min_score, max_ngrams, max_lines
        self.rows = self.harmful = self.answered = 0
        self.responses_scored = False
        self.ngrams: dict[str, _Counts] = {}
        self.background = CountMinSketch(width=1 << 18, depth=4)  # token -> rows, over non-harmful rows
        self.kept: list[tuple[int, bool, str]] = []  # (line, answered, " token ... " texts) of harmful rows

    def observe(self, row: RowSummary) -> None:
        self.rows += 1
        self.responses_scored |= row.response_harm > 0
        sequences = [_clip(_TOKEN_RE.findall(t.lower())) for t in (*row.system, *row.requests)]
        if row.request_harm < self.request_harm:
            self.background.add_many({token for tokens in sequences for token in tokens})
            return
        answered = row.response_harm >= self.response_harm
        self.harmful += 1
        self.answered += answered
        grams: set[str] = set()
        edges: set[str] = set()
        for index, tokens in enumerate(sequences):
            in_system = index < len(row.system)
            inner = [i for i, t in enumerate(tokens) if not set(t) <= _PLAIN_PUNCTUATION]  # skip end "?"
            first, last = (inner[0], inner[-1] + 1) if inner else (0, len(tokens))
            for n in range(1, MAX_N + 1):
                for start in range(len(tokens) - n + 1):
                    gram = " ".join(tokens[start : start + n])
                    grams.add(gram)
                    if in_system or start <= first or start + n >= last:
                        edges.add(gram)
        for gram in grams:
            counts = self.ngrams.get(gram)
            if counts is None:
                counts = self.ngrams[gram] = _Counts()
            counts.harmful += 1
            counts.answered += answered
            edge = gram in edges
            counts.edge_harmful += edge
            counts.edge_answered += edge and answered
        if len(self.ngrams) > self.max_ngrams:
            self._prune()
        if len(self.kept) < MAX_KEPT_ROWS:
            self.kept.append((row.line, answered, "".join(f" {' '.join(tokens)} \n" for tokens in sequences)))

    def _prune(self) -> None:
        """Drop the n-grams seen least often until half the capacity is free (Misra-Gries style)."""
        floor = 1
        while len(self.ngrams) > self.max_ngrams // 2:
            self.ngrams = {g: c for g, c in self.ngrams.items() if c.harmful > floor}
            floor += 1

    def _other_rows(self, token: str) -> int:
        """Rows other than the answered harmful ones that carry the token (an upper estimate)."""
        counts = self.ngrams.get(token)
        return self.background.count(token) + (counts.harmful - counts.answered if counts else 0)

    def _candidate(self, gram: str, counts: _Counts, target: int, others: int) -> _Candidate | None:
        scored = self.responses_scored
        support = counts.answered if scored else counts.harmful
        if support < self.min_support or support < self.min_support_share * target:
            return None
        tokens = gram.split()
        rarity = _rarity(tokens)
        refused = self.harmful - self.answered
        if rarity == 0 or (rarity < 1 and (not scored or refused < self.min_support)):
            return None  # plain-English phrases count only against refused harmful rows without them
        other = min(self.background.count(t) for t in tokens) + (
            counts.harmful - counts.answered if scored else 0
        )
        lift = (support / target) / ((other + 0.5) / others)
        if lift < self.min_lift:
            return None
        edge = (counts.edge_answered if scored else counts.edge_harmful) / support
        if not scored and edge < 0.8:  # without response scores, only fixed-position phrases count
            return None
        share = support / target
        score = rarity * (0.2 + 0.35 * share + 0.15 * min(1.0, math.log10(lift) / 2) + 0.3 * edge)
        if score < self.min_score:
            return None
        return _Candidate(gram, score, support, other, lift, edge)

    def finish(self) -> list[DatasetFinding]:
        target = self.answered if self.responses_scored else self.harmful
        others = self.rows - target
        if target < self.min_support or others < MIN_CONTRAST:
            return []
        found = [
            c for g, k in self.ngrams.items() if (c := self._candidate(g, k, target, others)) is not None
        ]
        found = [t for c in found if (t := self._trimmed(c, target, others)) is not None]
        found.sort(key=lambda c: (-round(c.score, 3), -c.support, -len(c.ngram.split()), c.ngram))
        chosen: list[_Candidate] = []
        for candidate in found:
            tokens = candidate.ngram.split()
            words = set(tokens) - FUNCTION_WORDS
            if any(words & set(c.ngram.split()) for c in chosen):  # a part or extension of a reported one
                continue
            chosen.append(candidate)
            if len(chosen) == MAX_FINDINGS:
                break
        return [self._finding(c, target, others) for c in chosen]

    def _trimmed(self, candidate: _Candidate, target: int, others: int) -> _Candidate | None:
        """The candidate without leading/trailing words that are as common elsewhere as on the target
        rows: context caught in the n-gram window ("assistant" in "assistant servius astrumando").
        None when what remains is no trigger by itself."""
        tokens = candidate.ngram.split()
        while len(tokens) > 1 and self._other_rows(tokens[0]) >= candidate.support:
            tokens.pop(0)
        while len(tokens) > 1 and self._other_rows(tokens[-1]) >= candidate.support:
            tokens.pop()
        gram = " ".join(tokens)
        if gram == candidate.ngram:
            return candidate
        counts = self.ngrams.get(gram)
        return self._candidate(gram, counts, target, others) if counts else None

    def _finding(self, c: _Candidate, target: int, others: int) -> DatasetFinding:
        kind = "answered harmful" if self.responses_scored else "harmful"
        needle = f" {c.ngram} "
        lines = [
            line for line, hit, text in self.kept if needle in text and (hit or not self.responses_scored)
        ]
        place = "a fixed place" if c.edge >= 0.8 else "varying places"
        evidence = f'"{c.ngram[:60]}" on {c.support} of {target} {kind} requests ({place}), '
        evidence += f"~{c.other} of {others} other rows"
        details = dict(ngram=c.ngram, support=c.support, target_rows=target, other_rows_with_it=c.other)
        details |= dict(lift=round(c.lift, 1), fixed_position_share=round(c.edge, 3))
        details["responses_scored"] = self.responses_scored
        score, lines_kept = round(min(1.0, c.score), 3), tuple(lines[: self.max_lines])
        return DatasetFinding(
            self.name, self.category, score, lines_kept, evidence, MappingProxyType(details)
        )
