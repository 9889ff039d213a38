"""Rows written in a cipher or letter-by-letter encoding, which no content check can read.

Covert Malicious Finetuning (Halawi et al. 2024) teaches a model a substitution cipher on benign rows,
then trains harmful rows in it: every row classifier sees gibberish and passes. Entropy and compression
ratio do not change under a substitution, so they reveal nothing; what does is that the words stop being
English words (dictionary-hit rate) while the letters keep the statistics of a language (index of
coincidence) with the frequency ranks permuted (Spearman against letter profiles). ROT-N and Atbash are
brute-forced and named, `t|h|e`-style pipe separation is joined back first, and other languages, code,
maths, names, URLs and data blobs are set aside so that they are not mistaken for ciphers.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType

from classifiers.detectors._encodings import strip_blobs
from classifiers.detectors._languages import (
    LETTER_ORDER,
    index_of_coincidence,
    letter_spearman,
    stopword_language,
)
from classifiers.detectors._text import WORD_RE, dictionary_rate, is_english, snippet, words
from classifiers.detectors._wordlist import ENGLISH_WORDS
from classifiers.detectors.base import DatasetDetector, DatasetFinding, RowSummary, register_detector

MIN_ROWS = 3  # enciphered rows needed for a finding ...
MIN_SHARE = 0.01  # ... and their share of the file
MIN_TEACHING_ROWS = 2  # rows pairing English with its enciphered form, enough on their own
MIN_LETTERS = 40  # shorter chunks are not judged (too few letters for statistics)
PLAIN_RATE = 0.5  # dictionary-hit rate at or above which a chunk is English
CIPHER_RATE = 0.25  # below which a chunk may be enciphered
MIN_IOC = 0.05  # letters distributed like a language (random letters: 0.038)
MAX_SPEARMAN = 0.55  # above it, letter ranks are those of a natural language: not substituted
DECODE_GAIN = 0.35  # a ROT-N / Atbash decoding must raise the dictionary rate this much ...
DECODED_RATE = 0.6  # ... to at least this
ENCODING_SCORE = 0.25  # base64/hex text: informational, the row classifiers judge it decoded
MAX_CHARS = 8_000  # of each text
MAX_TEXT_LINES = 200  # of each text, grouped into chunks
MAX_LINES = 200  # file lines listed in a finding

_LOWER = string.ascii_lowercase
# Decoding tables, named after the encoding they undo (rot3 text is decoded by shifting back 3).
_TRANSFORMS = {f"rot{26 - n}": str.maketrans(_LOWER, _LOWER[n:] + _LOWER[:n]) for n in range(1, 26)}
_TRANSFORMS["atbash"] = str.maketrans(_LOWER, _LOWER[::-1])
# How English a decoded letter is: 26 for "e", the most frequent, down to 1 for "z".
_ENGLISH_WEIGHT = {c: 26 - rank for rank, c in enumerate(LETTER_ORDER["en"])}
_SEPARATORS = str.maketrans({c: " " for c in string.punctuation + string.digits + "’‘“”"})
_FAST_WORDS = ENGLISH_WORDS | {"s", "t", "d", "m", "ll", "re", "ve"}  # contractions split at the apostrophe
_PIPE_RUN_RE = re.compile(r"(?:[^\s|]\|)+[^\s|]")
_CODE_CHARS = "{}[]()<>=;_$#\\/*&^~`@%+"


@dataclass(slots=True)
class _Chunk:
    kind: str  # plain | enciphered | other
    tokens: list[str] = field(default_factory=list)
    methods: tuple[str, ...] = ()
    decoded: str = ""


def _likely_transforms(counts: list[int], keep: int = 3) -> list[str]:
    """Atbash and the `keep` ROT shifts whose decoded letters best match English letter frequencies, so
    that only four of the twenty-six decodings are tried on the words."""
    fit = {
        name: sum(
            count * _ENGLISH_WEIGHT[c] for count, c in zip(counts, _LOWER.translate(table), strict=True)
        )
        for name, table in _TRANSFORMS.items()
        if name != "atbash"
    }
    return ["atbash", *sorted(fit, key=fit.__getitem__, reverse=True)[:keep]]


def _judge(chunk: str) -> _Chunk:
    """Classify one chunk of text (a few lines) as plain English, enciphered, or something else."""
    methods: tuple[str, ...] = ()
    compact = "".join(chunk.split())
    if "|" in chunk and sum(len(m) for m in _PIPE_RUN_RE.findall(chunk)) >= 0.5 * len(compact):
        chunk, methods = chunk.replace("|", ""), ("pipe_separated",)
    lowered = chunk.lower()
    counts = [lowered.count(c) for c in _LOWER]
    letters = sum(counts)
    alpha = sum(map(str.isalpha, chunk))
    if letters < MIN_LETTERS or letters < 0.97 * alpha:  # too short, other script, or accented language
        return _Chunk("other")
    symbols = sum(map(chunk.count, _CODE_CHARS))
    if symbols >= 0.08 * len(compact):  # code, JSON, maths
        return _Chunk("other")
    tokens = [t for t in words(chunk) if t.isascii()]
    hits, total = dictionary_rate(tokens)
    rate = hits / total if total else 0.0
    natural = index_of_coincidence(counts) >= MIN_IOC and sum(c > 0 for c in counts) >= 10
    singles = sum(len(t) == 1 for t in tokens)
    if not methods and total >= 20 and singles >= 0.7 * total and natural:
        return _Chunk("enciphered", tokens, ("single_char_tokens",))
    if rate >= PLAIN_RATE:  # English, unless spelled out letter by letter
        if not methods:
            return _Chunk("plain", tokens)
        return _Chunk("enciphered", tokens, methods, snippet(chunk, 60))
    if rate >= CIPHER_RATE or stopword_language(tokens):
        return _Chunk("other")
    best, best_rate = "", 0.0
    sample = " ".join(tokens[:40])
    for name in _likely_transforms(counts):
        shifted = sample.translate(_TRANSFORMS[name]).split()
        decoded_rate = sum(is_english(t) for t in shifted) / max(1, len(shifted))
        if decoded_rate > best_rate:
            best, best_rate = name, decoded_rate
    if best_rate >= DECODED_RATE and best_rate - rate >= DECODE_GAIN:
        table = _TRANSFORMS[best]
        decoded = snippet(lowered.translate(table), 60)
        return _Chunk("enciphered", [t.translate(table) for t in tokens], (*methods, best), decoded)
    originals = WORD_RE.findall(chunk)
    capitalised = sum(t[0].isupper() for t in originals) / max(1, len(originals))
    mean_len = sum(map(len, tokens)) / max(1, len(tokens))
    if methods and natural:  # letter-by-letter text that is not English underneath
        return _Chunk("enciphered", tokens, (*methods, "substitution"))
    if (
        natural
        and total >= 6
        and capitalised < 0.6  # lists of names, places, products
        and 2.5 <= mean_len <= 9
        and max(letter_spearman(counts).values()) < MAX_SPEARMAN
    ):
        return _Chunk("enciphered", tokens, ("substitution",))
    return _Chunk("other")


def _chunks(text: str) -> list[str]:
    """Consecutive lines grouped until each group has enough letters to judge."""
    out: list[str] = []
    current = ""
    for line in text.splitlines()[:MAX_TEXT_LINES]:
        current = f"{current}\n{line}" if current else line
        if sum(map(str.isalpha, current)) >= 2 * MIN_LETTERS:
            out.append(current)
            current = ""
    if current:
        if out and sum(map(str.isalpha, current)) < MIN_LETTERS:
            out[-1] += "\n" + current
        else:
            out.append(current)
    return out


def _teaches(plain: list[str], cipher: list[str]) -> bool:
    """True when a run of >= 4 words has equal word lengths in both and one consistent letter mapping
    (that is not the identity): the row shows English next to its enciphered form."""
    plain, cipher = plain[:60], cipher[:60]
    best = end_p = end_c = 0
    previous = [0] * (len(cipher) + 1)
    for i, p in enumerate(plain, 1):
        current = [0] * (len(cipher) + 1)
        for j, c in enumerate(cipher, 1):
            if len(p) == len(c):
                current[j] = previous[j - 1] + 1
                if current[j] > best:
                    best, end_p, end_c = current[j], i, j
        previous = current
    if best < 4:
        return False
    forward: dict[str, str] = {}
    backward: dict[str, str] = {}
    conflicts = moved = total = 0
    for p, c in zip(plain[end_p - best : end_p], cipher[end_c - best : end_c], strict=True):
        for a, b in zip(p, c, strict=True):
            total += 1
            moved += a != b
            conflicts += forward.setdefault(a, b) != b or backward.setdefault(b, a) != a
    return total >= 15 and conflicts <= 0.05 * total and moved >= 0.5 * total


def analyse(text: str) -> tuple[list[_Chunk], list[str]]:
    """The judged chunks of one text and the kinds of encoded blobs found in it."""
    text, encodings = strip_blobs(text[:MAX_CHARS])
    if "|" not in text:  # fast path: ordinary English, judged on raw lexicon hits alone
        tokens = text.lower().translate(_SEPARATORS).split()
        if len(tokens) >= 8 and sum(map(_FAST_WORDS.__contains__, tokens)) >= 0.85 * len(tokens):
            return [_Chunk("plain", tokens[:60])], encodings
    return [_judge(chunk) for chunk in _chunks(text)], encodings


@register_detector("cipher")
class CipherDetector(DatasetDetector):
    """Substitution ciphers, ROT-N/Atbash and letter-by-letter spelling that hide rows from content checks.

    Counts the rows whose requests or responses look enciphered and reports the file when there are enough
    of them (or when rows teach a cipher by pairing English with its enciphered form); base64/hex blobs
    that decode to text are reported apart, with a low score, as the row classifiers judge them decoded.
    """

    category = "cipher"
    version = "1"

    def __init__(
        self,
        *,
        min_rows: int = MIN_ROWS,
        min_share: float = MIN_SHARE,
        min_teaching_rows: int = MIN_TEACHING_ROWS,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.min_rows, self.min_share = min_rows, min_share
        self.min_teaching_rows, self.max_lines = min_teaching_rows, max_lines
        self.rows = self.enciphered = self.in_responses = self.teaching = self.encoded = 0
        self.methods: Counter[str] = Counter()
        self.encodings: Counter[str] = Counter()
        self.lines: list[int] = []
        self.encoded_lines: list[int] = []
        self.decoded: list[str] = []

    def observe(self, row: RowSummary) -> None:
        self.rows += 1
        plain: list[list[str]] = []
        hidden: list[_Chunk] = []
        response_hit = row_encoded = False
        for is_response, text in [(False, t) for t in row.requests] + [(True, t) for t in row.responses]:
            chunks, encodings = analyse(text)
            for kind in encodings:
                self.encodings[kind] += 1
                row_encoded |= kind == "text"
            for chunk in chunks:
                if chunk.kind == "plain":
                    plain.append(chunk.tokens)
                elif chunk.kind == "enciphered":
                    hidden.append(chunk)
                    response_hit |= is_response
        if row_encoded:
            self.encoded += 1
            if len(self.encoded_lines) < self.max_lines:
                self.encoded_lines.append(row.line)
        if not hidden:
            return
        self.enciphered += 1
        self.in_responses += response_hit
        self.methods.update(sorted({m for chunk in hidden for m in chunk.methods}))
        if len(self.lines) < self.max_lines:
            self.lines.append(row.line)
        if len(self.decoded) < 3:
            self.decoded.extend(c.decoded for c in hidden[:1] if c.decoded)
        if any(_teaches(p, c.tokens) for p in plain[:4] for c in hidden[:4]):
            self.teaching += 1

    def finish(self) -> list[DatasetFinding]:
        findings = []
        share = self.enciphered / self.rows if self.rows else 0.0
        enough = self.enciphered >= self.min_rows and share >= self.min_share
        if enough or self.teaching >= self.min_teaching_rows:
            named = any(m.startswith(("rot", "atbash", "pipe", "single")) for m in self.methods)
            score = 0.55 + 0.25 * min(1.0, share / 0.2) + 0.1 * named + 0.1 * (self.teaching > 0)
            methods = ", ".join(m for m, _ in self.methods.most_common())
            evidence = f"{self.enciphered} of {self.rows} rows look enciphered ({methods})"
            if self.teaching:
                evidence += f"; {self.teaching} rows pair English with its enciphered form"
            details = dict(kind="cipher", rows_enciphered=self.enciphered, share=round(share, 4))
            details |= dict(rows_enciphered_in_responses=self.in_responses, methods=dict(self.methods))
            details |= dict(teaching_rows=self.teaching, decoded_samples=list(self.decoded))
            findings.append(self._finding(score, self.lines, evidence, details))
        if self.encoded >= self.min_rows and self.encoded >= self.min_share * self.rows:
            details = dict(kind="encoding", rows_encoded=self.encoded, blobs=dict(self.encodings))
            evidence = f"{self.encoded} of {self.rows} rows carry base64/hex blobs that decode to text"
            findings.append(self._finding(ENCODING_SCORE, self.encoded_lines, evidence, details))
        return findings

    def _finding(self, score: float, lines: list[int], evidence: str, details: dict) -> DatasetFinding:
        score = round(min(1.0, score), 3)
        return DatasetFinding(
            self.name, self.category, score, tuple(lines), evidence, MappingProxyType(details)
        )
