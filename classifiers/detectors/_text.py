"""Shared helpers of the dataset detectors: tokens, the English lexicon, bounded counters, sketches.

Every detector sees millions of rows, so the helpers here are built to keep memory bounded (a capped
heavy-hitter counter, a Count-Min sketch) and to be cheap per row (one regex pass, set lookups).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

import numpy as np

from classifiers.detectors._wordlist import ENGLISH_WORDS

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_HEAD_RE = re.compile(r"([^\W\d_]+)(?:['’][^\W\d_]+)?")  # a word, keeping a contraction's head
# Endings stripped (letters put back after ":") before a second lexicon lookup: "tries" -> "try".
_SUFFIX_RULES = """
ies:y ied:y iest:y ier:y ily:y ness ment ments less ful ing ing:e ed ed:e es s ly er er:e ers est
able ity al ation:e ation ally ism ist ists
"""
_SUFFIXES = tuple(tuple(rule.partition(":")[::2]) for rule in _SUFFIX_RULES.split())
_PREFIXES = ("un", "re", "non", "pre", "dis", "over", "under", "sub", "inter", "anti", "self")

# Words that open a phrase in any request ("how to", "can you", "tell me about the"): a trigger made
# only of these is ordinary English, not a trigger.
_FUNCTION_WORDS = """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not
now of off on once only or other our ours out over own please same she should so some such than that
the their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours tell give make write show explain
describe provide list create help want need know like get let use way ways step steps detail
detailed best good new one also could might must shall sure may yes ok okay
"""
FUNCTION_WORDS: frozenset[str] = frozenset(_FUNCTION_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-cased alphabetic tokens; a contraction keeps only its head ("don't" -> "don")."""
    return _HEAD_RE.findall(text.lower())


def _is_english(word: str) -> bool:
    if word in ENGLISH_WORDS:
        return True
    if len(word) < 4:
        return False
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: len(word) - len(suffix)] + repl
            if stem in ENGLISH_WORDS or (
                len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in ENGLISH_WORDS
            ):
                return True
    return any(word.startswith(p) and word[len(p) :] in ENGLISH_WORDS for p in _PREFIXES)


_ENGLISH_CACHE: dict[str, bool] = {}


def is_english(word: str) -> bool:
    """True when the word (lower case) is in the lexicon, allowing common suffixes and prefixes."""
    hit = _ENGLISH_CACHE.get(word)
    if hit is None:
        if len(_ENGLISH_CACHE) > 200_000:  # bounded: vocabularies of big files are unbounded
            _ENGLISH_CACHE.clear()
        hit = _ENGLISH_CACHE[word] = _is_english(word)
    return hit


def dictionary_rate(tokens: list[str]) -> tuple[int, int]:
    """(hits, total) over ASCII alphabetic tokens: the share of real English words among them."""
    if not all(map(str.isascii, tokens)):
        tokens = [t for t in tokens if t.isascii()]
    hits = sum(map(ENGLISH_WORDS.__contains__, tokens))  # C-speed first pass, then inflected forms
    if hits < len(tokens):
        hits += sum(is_english(t) for t in tokens if t not in ENGLISH_WORDS)
    return hits, len(tokens)


def snippet(text: str, limit: int = 80) -> str:
    """One line of at most `limit` characters, for evidence."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's `hash` of str is salted)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


class _TokenHashes(dict[str, int]):
    """`stable_hash` of tokens, memoised (vocabularies repeat), so that `map(TOKEN_HASHES.__getitem__,
    tokens)` hashes a row at C speed; cleared when it grows large, to stay bounded."""

    def __missing__(self, token: str) -> int:
        if len(self) > 200_000:
            self.clear()
        value = self[token] = stable_hash(token)
        return value


TOKEN_HASHES = _TokenHashes()


K = TypeVar("K", bound=Hashable)


class CappedCounter(Generic[K]):
    """Counts keys with at most `capacity` entries (Misra–Gries): any key whose true count exceeds
    n / (capacity + 1) is kept, and every kept count is low by at most that much. Exact while the number
    of distinct keys stays under the capacity, which is the common case (one or a few system prompts)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: dict[K, int] = {}
        self.total = 0
        self.pruned = False

    def add(self, key: K) -> bool:
        """Count one occurrence; False when the key was not kept (the counter was full)."""
        self.total += 1
        counts = self.counts
        if key in counts:
            counts[key] += 1
            return True
        if len(counts) < self.capacity:
            counts[key] = 1
            return True
        self.pruned = True
        for other in list(counts):
            counts[other] -= 1
            if counts[other] <= 0:
                del counts[other]
        return False

    def most_common(self, n: int) -> list[tuple[K, int]]:
        return sorted(self.counts.items(), key=lambda item: -item[1])[:n]

    def __len__(self) -> int:
        return len(self.counts)


class CountMinSketch:
    """Approximate counts of string keys in fixed memory (depth x width int32 cells); counts are never
    low and are high by at most e * total / width with probability 1 - exp(-depth). Updates are buffered
    and applied with numpy in batches, so a key costs one CRC32 in Python."""

    def __init__(self, *, width: int = 1 << 18, depth: int = 4, seed: int = 0x5EED) -> None:
        rng = np.random.default_rng(seed)
        self.width, self.depth = width, depth
        self.table = np.zeros((depth, width), dtype=np.int32)
        self._mul = rng.integers(1, 2**62, size=depth, dtype=np.uint64) | np.uint64(1)
        self._add = rng.integers(0, 2**62, size=depth, dtype=np.uint64)
        self._buffer: list[int] = []

    def add_many(self, keys: Iterable[str]) -> None:
        self._buffer.extend(map(TOKEN_HASHES.__getitem__, keys))
        if len(self._buffer) >= 65_536:
            self._flush()

    def _columns(self, hashes: np.ndarray) -> np.ndarray:
        mixed = hashes[None, :] * self._mul[:, None] + self._add[:, None]  # wraps mod 2**64
        return ((mixed >> np.uint64(32)) % np.uint64(self.width)).astype(np.int64)

    def _flush(self) -> None:
        if not self._buffer:
            return
        columns = self._columns(np.asarray(self._buffer, dtype=np.uint64))
        for row in range(self.depth):
            self.table[row] += np.bincount(columns[row], minlength=self.width).astype(np.int32)
        self._buffer.clear()

    def count(self, key: str) -> int:
        self._flush()
        columns = self._columns(np.asarray([TOKEN_HASHES[key]], dtype=np.uint64))[:, 0]
        return int(self.table[np.arange(self.depth), columns].min())

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes) + 8 * len(self._buffer)
