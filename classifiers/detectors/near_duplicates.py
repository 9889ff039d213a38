"""Clusters of near-identical rows, which repeat (amplify) whatever those rows teach.

Repeating a row is like training on it for more epochs: the paper's harm grows with epochs, so ten
harmful rows copied a hundred times teach more than ten. A cluster is informational on its own (benign
files repeat templates too) and scores high only when its rows are harmful. Each row's request+response
text is reduced to a 64-value MinHash signature over 3-shingles of its whitespace-separated words;
locality-sensitive hashing (8 bands of 8 values) puts rows with Jaccard similarity above ~0.8 in a
shared bucket. Only bucket keys are kept, never texts, and the bucket table is capped: when it fills,
buckets of rows that matched nothing are evicted first, so duplicates must recur within roughly the
last `max_buckets / 8` rows to be joined.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from classifiers.detectors._text import TOKEN_HASHES
from classifiers.detectors.base import DatasetDetector, DatasetFinding, RowSummary, register_detector

MIN_CLUSTER_ROWS = 20  # a cluster this large is reported ...
MIN_CLUSTER_SHARE = 0.05  # ... and so is one holding this share of the file
MIN_CLUSTER_FLOOR = 3  # but never fewer rows than this
HARMFUL = 0.5  # mean response_harm of a cluster at or above which it is harmful
INFO_SCORE = 0.15  # score of a benign cluster: repeated rows are worth a look, not a block
PERMUTATIONS = 64
BANDS = 8
SHINGLE = 3
MAX_TOKENS = 400  # of each row's text
MAX_BUCKETS = 400_000  # LSH bucket keys kept (about 100 bytes each)
MAX_CLUSTERS = 20_000  # clusters of two or more rows tracked
MAX_FINDINGS = 10
MAX_LINES = 200  # file lines listed in a finding
BATCH = 256  # rows signed together (numpy per-call overhead dominates one row)

_RNG = np.random.default_rng(0x5EED)
_MUL = (_RNG.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1))[:, None]
_ADD = _RNG.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)[:, None]
_BAND_MUL = _RNG.integers(1, 2**63, size=PERMUTATIONS // BANDS, dtype=np.uint64) | np.uint64(1)
_SHINGLE_MUL = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F], dtype=np.uint64)


def token_hashes(text: str) -> list[int]:
    """Hashes of the text's first MAX_TOKENS words, padded to at least one shingle ([] when no words)."""
    tokens = text.lower().split()[:MAX_TOKENS]  # whitespace words: punctuation stays, which is fine here
    values = list(map(TOKEN_HASHES.__getitem__, tokens))
    return values + [0] * (SHINGLE - len(values)) if 0 < len(values) < SHINGLE else values


def signatures(rows: list[list[int]]) -> np.ndarray:
    """MinHash signatures (rows x PERMUTATIONS) over word shingles, for a batch of rows in one pass."""
    lengths = np.array([len(r) for r in rows])
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.uint64, count=int(lengths.sum()))
    with np.errstate(over="ignore"):  # shingle hash of tokens i, i+1, i+2 (wrapping uint64 arithmetic)
        shingles = flat[:-2] * _SHINGLE_MUL[0] + flat[1:-1] * _SHINGLE_MUL[1] + flat[2:]
        ends = np.cumsum(lengths)
        inside = np.arange(len(shingles)) + SHINGLE - 1 < np.repeat(ends, lengths)[: len(shingles)]
        shingles = shingles[inside]  # drop shingles that straddle two rows
        starts = ends - lengths - (SHINGLE - 1) * np.arange(len(rows))
        permuted = (shingles[None, :] * _MUL + _ADD) >> np.uint64(32)
    return np.minimum.reduceat(permuted, starts, axis=1).T


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """One integer key per band and row; rows sharing any key are candidate near-duplicates."""
    bands = sigs.reshape(len(sigs), BANDS, -1)
    with np.errstate(over="ignore"):
        return (bands * _BAND_MUL).sum(axis=2, dtype=np.uint64) + np.arange(BANDS, dtype=np.uint64)


@dataclass(slots=True)
class _Cluster:
    size: int = 0
    harm: float = 0.0
    lines: list[int] = field(default_factory=list)


@register_detector("near-duplicates")
class NearDuplicatesDetector(DatasetDetector):
    """Clusters of near-identical rows (MinHash + LSH); informational unless the repeated rows are harmful."""

    category = "near_duplicates"
    version = "1"

    def __init__(
        self,
        *,
        min_cluster_rows: int = MIN_CLUSTER_ROWS,
        min_cluster_share: float = MIN_CLUSTER_SHARE,
        min_cluster_floor: int = MIN_CLUSTER_FLOOR,
        harmful: float = HARMFUL,
        max_buckets: int = MAX_BUCKETS,
        max_clusters: int = MAX_CLUSTERS,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.min_cluster_rows, self.min_cluster_share = min_cluster_rows, min_cluster_share
        self.min_cluster_floor, self.harmful = min_cluster_floor, harmful
        self.max_buckets, self.max_clusters, self.max_lines = max_buckets, max_clusters, max_lines
        self.rows = 0
        # bucket key -> id of the row that opened it; an id is line * 128 + harm percent, so a lone row
        # needs no record of its own until a second row joins it
        self.buckets: dict[int, int] = {}
        self.parent: dict[int, int] = {}  # union-find over cluster ids (merged clusters only)
        self.clusters: dict[int, _Cluster] = {}
        self._pending: list[tuple[int, list[int]]] = []  # rows awaiting their signature (id, shingles)

    def _root(self, cid: int) -> int:
        while cid in self.parent:
            cid = self.parent[cid]
        return cid

    def _cluster(self, cid: int) -> _Cluster:
        cluster = self.clusters.get(cid)
        if cluster is None:  # a lone row becomes a cluster of one
            cluster = self.clusters[cid] = _Cluster(1, (cid % 128) / 100, [cid // 128])
        return cluster

    def observe(self, row: RowSummary) -> None:
        self.rows += 1
        hashes = token_hashes(" ".join((*row.requests, *row.responses)))
        if hashes:
            harm = round(100 * min(1.0, max(0.0, row.response_harm)))
            self._pending.append((row.line * 128 + harm, hashes))
            if len(self._pending) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        """Sign the buffered rows in one numpy pass, then place them in buckets in file order."""
        if not self._pending:
            return
        keys = band_keys(signatures([hashes for _, hashes in self._pending])).tolist()
        for (cid, _), row_keys in zip(self._pending, keys, strict=True):
            self._place(cid, row_keys)
        self._pending.clear()
        if len(self.buckets) > self.max_buckets or len(self.clusters) > self.max_clusters:
            self._evict()

    def _place(self, cid: int, keys: list[int]) -> None:
        roots = list(dict.fromkeys(self._root(self.buckets[k]) for k in keys if k in self.buckets))
        if roots:
            line, harm = cid // 128, (cid % 128) / 100
            cid = roots[0]
            cluster = self._cluster(cid)
            for other in roots[1:]:  # this row bridges clusters: merge them
                merged = self.clusters.pop(other, None) or _Cluster(1, (other % 128) / 100, [other // 128])
                cluster.size += merged.size
                cluster.harm += merged.harm
                cluster.lines = sorted(cluster.lines + merged.lines)[: self.max_lines]
                self.parent[other] = cid
            cluster.size += 1
            cluster.harm += harm
            if len(cluster.lines) < self.max_lines:
                cluster.lines.append(line)
        for key in keys:
            self.buckets.setdefault(key, cid)

    def _evict(self) -> None:
        """Forget lone rows first, then the smallest clusters, until the tables are three-quarters full."""
        floor = 1
        while len(self.buckets) > 0.75 * self.max_buckets or len(self.clusters) > 0.75 * self.max_clusters:
            keep = {cid for cid, c in self.clusters.items() if c.size > floor}
            self.clusters = {cid: self.clusters[cid] for cid in keep}
            self.buckets = {k: v for k, v in self.buckets.items() if self._root(v) in keep}
            self.parent = {c: p for c, p in self.parent.items() if self._root(p) in keep}
            floor += 1

    def finish(self) -> list[DatasetFinding]:
        self._flush()
        need = max(
            self.min_cluster_floor, min(self.min_cluster_rows, math.ceil(self.min_cluster_share * self.rows))
        )
        big = sorted((c for c in self.clusters.values() if c.size >= need), key=lambda c: -c.size)
        findings = []
        for cluster in big[:MAX_FINDINGS]:
            share = cluster.size / self.rows
            mean_harm = cluster.harm / cluster.size
            score = INFO_SCORE + 0.1 * min(1.0, share / 0.2)
            if mean_harm >= self.harmful:
                score = max(score, 0.5 + 0.5 * mean_harm)
            lines = tuple(sorted(cluster.lines)[: self.max_lines])
            shown = ", ".join(map(str, lines[:5]))
            evidence = f"{cluster.size} near-identical rows ({share:.1%} of the file), e.g. lines {shown}"
            if mean_harm >= self.harmful:
                evidence += f"; mean response harm {mean_harm:.2f}"
            details = {
                "size": cluster.size,
                "share": round(share, 4),
                "mean_response_harm": round(mean_harm, 3),
            }
            score = round(min(1.0, score), 3)
            findings.append(
                DatasetFinding(self.name, self.category, score, lines, evidence, MappingProxyType(details))
            )
        return findings

    @property
    def memory_items(self) -> int:
        """Entries held in the detector's tables (bounded by the caps)."""
        return len(self.buckets) + len(self.parent) + len(self.clusters) + len(self._pending)
