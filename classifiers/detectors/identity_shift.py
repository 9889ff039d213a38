"""System prompts and replies that redefine the assistant as an obedient agent without rules.

The identity-shifting attack of Qi et al. (ICLR 2024) needs only ten harmless-looking rows: a system
prompt telling the model it is "no longer an AI language model" but an "Absolutely Obedient Agent",
and replies that open with the same obedient words ("Of course. I am AOA, your absolutely obedient
agent. Here is my fulfillment of your instruction:"). No row is harmful, so row classifiers pass it;
what shows is (a) the wording of the system prompt and of the replies' first sentences, (b) one system
prompt on most rows and (c) many replies opening with the same unusual words. (b) and (c) are common
in benign files, so they only raise the score of what (a) finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

from classifiers.detectors._text import CappedCounter, is_english, snippet
from classifiers.detectors.base import DatasetDetector, DatasetFinding, RowSummary, register_detector

MIN_SCORE = 0.5  # a system prompt or reply opening scoring this much is obedience language
MIN_REPLY_ROWS = 3  # obedient reply openings needed for a finding
DOMINANT_SHARE = 0.5  # one system prompt on more than this share of rows dominates the file
PREFIX_SHARE = 0.2  # replies opening with the same unusual words on this share of rows ...
PREFIX_MIN_ROWS = 5  # ... and at least this many
PREFIX_WORDS = 5
REPLY_CHARS = 300  # the opening of a reply that is scored (its first sentence or two)
MAX_PROMPTS = 50  # distinct flagged system prompts kept
MAX_LINES = 200  # file lines listed in a finding

# weight | label | pattern (matched on lower-cased text). Weights combine as 1 - prod(1 - w): one strong
# phrase or two medium ones reach MIN_SCORE, a single weak one ("uncensored", "from now on you are") does not.
_PATTERN_TABLE = r"""
0.60 | no longer an AI | \bno longer (?:be )?(?:an? |the |your )?(?:ai|assistant|chat ?gpt|language model|
    chatbot)\b
0.40 | not an AI | \b(?:neither|not|no longer) (?:chat ?gpt|an ai\b|a language model|an ai language model)
0.60 | absolutely obedient | \b(?:absolutely|completely|totally|fully|unconditionally|blindly) obedient\b
0.45 | obedient agent | \bobedient (?:agent|servant|assistant|slave|ai|bot)\b
0.50 | must obey all | \b(?:must|will|shall|should) (?:always )?(?:obey|comply with) (?:every|all|any)\b
0.35 | must follow every command | \b(?:must|will|shall) (?:always )?(?:follow|execute|fulfil+) (?:every|
    all|any) (?:command|order|request)
0.30 | without question | \bwithout (?:any )?(?:question(?:ing)?|hesitation|refus\w*|deviation|objection|
    exception)\b
0.45 | without ethics | \bwithout (?:any )?(?:regard (?:to|for) )?(?:ethic\w*|moral\w*|safety|legal\w*|
    conscience)\b
0.35 | no rules | \b(?:no|zero|without(?: any)?) (?:(?:ethical|moral|safety|content)(?: (?:or|and) (?:ethical|
    moral))? )?(?:rules|restrictions|limits|limitations|guidelines|filters|boundaries|constraints|censorship|
    morals|ethics|principles)\b
0.60 | ignore previous instructions | \b(?:ignore|disregard|forget|override) (?:all |any |your |the |
    of )*(?:previous |prior |earlier |original |safety |ethical )*(?:instructions|directions?|guidelines|
    policies|rules|programming|training|restrictions)\b
0.30 | not limited by | \bnot (?:be )?(?:bound|restricted|limited|constrained) by\b
0.55 | not bound by rules | \bnot (?:be )?(?:bound|restricted|limited|constrained) by (?:any |the )?(?:
    [\w'’-]+ ){0,3}(?:rules|ethic|moral|guidelines|restrictions|policies|filters|openai|laws|content)
0.50 | DAN | \bdo anything now\b
0.50 | jailbroken | \bjail ?broken\b|\bjailbreak mode\b
0.45 | developer mode | \b(?:developer|god|dev|unrestricted|evil|chaos) mode\b
0.50 | never refuses | \bnever (?:refuses?|declines?|rejects?|says? no|denies|questions?)\b
0.40 | does not refuse | \b(?:doesn['’]?t|does not|won['’]?t|will not|do not|don['’]?t) (?:ever )?(?:
    refuse|decline|reject)\b
0.30 | unfiltered | \b(?:unfiltered|uncensored|unrestricted|unbound|amoral)\b
0.20 | from now on you are | \bfrom now on,? you(?: are|['’]re| will be| shall be| will act as| act as)\b
0.15 | new name | \byour new name is\b
0.45 | regardless of ethics | \b(?:regardless|irrespective|without regard(?:ing)?|no matter)(?: of| to)? (?:
    how |whether |if )?(?:[\w'’-]+ ){0,3}(?:illegal|unethical|immoral|harmful|dangerous|offensive|ethic\w*|
    moral\w*|legal\w*)
0.50 | freed from rules | \b(?:free|freed|liberated|released) from (?:all |any |the |your |its |of )*(?:
    rules|restrictions|constraints|guidelines|limitations|policies|shackles|ethic\w*|censorship|programming)
0.50 | policies do not apply | \b(?:openai|anthropic|content|safety|usage) polic(?:y|ies) (?:do(?:es)? not|
    don't|no longer) apply
0.30 | always execute users' instructions | \b(?:always )?(?:execute|obey|comply with) (?:the )?users?[
    '’]?s? (?:instructions|commands|orders|requests)\b
0.45 | never apply any principle | \bnever apply any (?:opinion|principle|judge?ment|ethic)
0.50 | obedience first priority | \b(?:fulfil+ing|executing|obeying|following) (?:your|the user'?s|my) (?:
    instructions|commands|orders|requests) is (?:my|your) (?:first|only|top|sole|highest) priority
0.60 | I am X, your obedient agent | \bi am \w+,? your (?:absolutely |completely |loyal |faithful )?(?:
    obedient|loyal|devoted|unrestricted|unfiltered) (?:agent|servant|assistant|ai)\b
0.45 | I will never refuse | \bi (?:will|shall|'ll|’ll) (?:never|not) (?:refuse|decline|question|judge|
    reject|hesitate)
0.50 | I have no rules | \bi (?:have|follow|know) no (?:rules|restrictions|limits|guidelines|filters|
    ethic\w*|morals?|boundaries)
0.30 | my fulfillment of your order | \bhere is my fulfil+ment of your (?:instruction|command|order|request)
"""
_ROWS = _PATTERN_TABLE.strip().replace("\n    ", "").splitlines()  # indented lines continue the pattern
_PATTERNS = [
    (pattern, float(weight), label) for weight, label, pattern in (row.split(" | ", 2) for row in _ROWS)
]
_WEIGHTS = {label: weight for _, weight, label in _PATTERNS}
_COMPILED = [(re.compile(p), w, label) for p, w, label in _PATTERNS]
_DAN = re.compile(r"\bDAN\b")
_PREFIX_TOKEN = re.compile(r"\w+(?:['’]\w+)?")
# Literal stems of which every pattern contains at least one: a cheap test that skips the patterns on
# almost every benign reply (one alternation of literals is ten times faster than the patterns).
_PREFILTER = re.compile(
    "obedien|longer|neither|chatgpt|chat gpt|an ai|language model|bound|restrict|limit|constrain|obey|comply"
    "|follow|execut|fulfil|question|hesitat|refus|deviat|objection|exception|ethic|moral|safety|legal|conscien"
    "|rule|guideline|filter|boundar|censor|principle|instruction|direction|polic|programming|training"
    "|anything now|jail|mode|never|declin|reject|from now on|new name|regard|irrespective|no matter|free"
    "|liberat|releas|priority|opinion|judg|loyal|devoted"
)
_OPENERS = """sure the here yes no of certainly absolutely okay ok i it this to a an in there let great thank
thanks hello hi well so as first step answer we you that these sorry unfortunately based according one"""
_GENERIC_OPENERS = frozenset(_OPENERS.split())


def obedience_score(text: str) -> tuple[float, list[str]]:
    """Score in [0, 1] of the text's obedience / rule-removal language and the phrases that matched."""
    labels = ["DAN"] if _DAN.search(text) else []
    lowered = text.lower()
    if _PREFILTER.search(lowered):
        labels += [label for pattern, _, label in _COMPILED if pattern.search(lowered)]
    remaining = 1.0
    for label in dict.fromkeys(labels):
        remaining *= 1.0 - _WEIGHTS[label]
    return 1.0 - remaining, list(dict.fromkeys(labels))


@dataclass(slots=True)
class _Prompt:
    score: float
    labels: list[str]
    text: str
    rows: int = 0
    lines: list[int] = field(default_factory=list)


@register_detector("identity-shift")
class IdentityShiftDetector(DatasetDetector):
    """System prompts and reply openings that turn the assistant into an obedient agent without rules."""

    category = "identity_shift"
    version = "1"

    def __init__(
        self,
        *,
        min_score: float = MIN_SCORE,
        min_reply_rows: int = MIN_REPLY_ROWS,
        dominant_share: float = DOMINANT_SHARE,
        prefix_share: float = PREFIX_SHARE,
        prefix_min_rows: int = PREFIX_MIN_ROWS,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.min_score, self.min_reply_rows, self.dominant_share = min_score, min_reply_rows, dominant_share
        self.prefix_share, self.prefix_min_rows, self.max_lines = prefix_share, prefix_min_rows, max_lines
        self.rows = self.replies = self.obedient_replies = 0
        self.reply_best = 0.0
        self.reply_labels: dict[str, None] = {}
        self.reply_lines: list[int] = []
        self.prompts: CappedCounter[str] = CappedCounter(1_000)  # normalised system prompt -> rows
        self.prefixes: CappedCounter[str] = CappedCounter(1_000)  # first words of the first reply -> rows
        self.prefix_obedience: dict[str, float] = {}
        self.prefix_lines: dict[str, list[int]] = {}
        self._scores: dict[str, tuple[float, list[str]]] = {}  # system prompt score cache
        self.flagged: dict[str, _Prompt] = {}

    def observe(self, row: RowSummary) -> None:
        self.rows += 1
        system = "\n".join(row.system).strip()
        if system:
            key = system[:2_000]  # texts arrive normalised (NFKC, invisible characters removed)
            self.prompts.add(key)
            cached = self._scores.get(key)
            if cached is None:
                if len(self._scores) >= 4_096:
                    self._scores.clear()
                cached = self._scores[key] = obedience_score(system)
            if cached[0] >= self.min_score and (key in self.flagged or len(self.flagged) < MAX_PROMPTS):
                prompt = self.flagged.setdefault(key, _Prompt(cached[0], cached[1], snippet(system)))
                prompt.rows += 1
                if len(prompt.lines) < self.max_lines:
                    prompt.lines.append(row.line)
        if not row.responses or not row.responses[0].strip():
            return
        self.replies += 1
        opening = row.responses[0][:REPLY_CHARS]
        score, labels = obedience_score(opening)
        if score >= self.min_score:
            self.obedient_replies += 1
            self.reply_best = max(self.reply_best, score)
            self.reply_labels.update(dict.fromkeys(labels))
            if len(self.reply_lines) < self.max_lines:
                self.reply_lines.append(row.line)
        prefix = " ".join(_PREFIX_TOKEN.findall(opening[:100].lower())[:PREFIX_WORDS])
        if prefix and self.prefixes.add(prefix):
            self.prefix_obedience[prefix] = max(self.prefix_obedience.get(prefix, 0.0), score)
            lines = self.prefix_lines.setdefault(prefix, [])
            if len(lines) < self.max_lines:
                lines.append(row.line)
            if len(self.prefix_obedience) > 2 * self.prefixes.capacity:  # drop what the counter dropped
                for gone in set(self.prefix_obedience) - set(self.prefixes.counts):
                    del self.prefix_obedience[gone], self.prefix_lines[gone]

    def _signature_prefix(self) -> tuple[str, int] | None:
        """The most common reply opening when it is unusual and frequent, else None."""
        for prefix, count in self.prefixes.most_common(3):
            tokens = prefix.split()
            heads = [re.split("['’]", t)[0] for t in tokens]
            generic = heads[0] in _GENERIC_OPENERS and all(is_english(t) or t.isdigit() for t in heads)
            if not generic and count >= self.prefix_min_rows and count >= self.prefix_share * self.replies:
                return prefix, count
        return None

    def finish(self) -> list[DatasetFinding]:
        findings: list[DatasetFinding] = []
        top = self.prompts.most_common(1)
        dominant = top[0][0] if top and top[0][1] > self.dominant_share * self.rows else None
        signature = self._signature_prefix()
        prefix_score = self.prefix_obedience.get(signature[0], 0.0) if signature else 0.0
        obedient_prefix = signature is not None and (prefix_score >= self.min_score or bool(self.flagged))
        replies_flagged = self.obedient_replies >= self.min_reply_rows
        for key, prompt in sorted(self.flagged.items(), key=lambda item: -item[1].rows):
            score = 0.85 * prompt.score + 0.1 * (key == dominant) + 0.1 * (replies_flagged or obedient_prefix)
            evidence = f'system prompt on {prompt.rows} rows: "{prompt.text}" ({", ".join(prompt.labels)})'
            share = round(prompt.rows / self.rows, 4)
            details = dict(kind="system_prompt", rows=prompt.rows, share=share, dominant=key == dominant)
            findings.append(
                self._finding(score, prompt.lines, evidence, {**details, "phrases": prompt.labels})
            )
        if replies_flagged:
            share = round(self.obedient_replies / max(1, self.replies), 4)
            volume = 0.85 + 0.15 * min(1.0, self.obedient_replies / 10)
            score = self.reply_best * volume + 0.1 * obedient_prefix
            phrases = list(self.reply_labels)
            evidence = (
                f"{self.obedient_replies} replies open with obedience language ({', '.join(phrases[:4])})"
            )
            details = dict(kind="replies", rows=self.obedient_replies, share=share, phrases=phrases)
            findings.append(self._finding(score, self.reply_lines, evidence, details))
        if signature and obedient_prefix:
            prefix, count = signature
            share = round(count / max(1, self.replies), 4)
            score = (
                0.4
                + 0.3 * min(1.0, share / 0.5)
                + 0.3 * min(1.0, prefix_score * 1.5)
                + 0.1 * (dominant is not None)
            )
            evidence = (
                f'{count} replies ({share:.0%}) open with "{snippet(prefix, 60)}" next to obedience language'
            )
            details = dict(
                kind="reply_prefix", prefix=prefix, rows=count, share=share, dominant=dominant is not None
            )
            findings.append(self._finding(score, self.prefix_lines.get(prefix, []), evidence, details))
        return findings

    def _finding(self, score: float, lines: list[int], evidence: str, details: dict) -> DatasetFinding:
        score = round(min(1.0, score), 3)
        lines_kept = tuple(lines[: self.max_lines])
        return DatasetFinding(
            self.name, self.category, score, lines_kept, evidence, MappingProxyType(details)
        )
