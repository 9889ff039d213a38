"""The shipped heads at inference: features, numpy MLP forward passes, calibration and screens.

Training (``train.py``) and scoring (``harm_embedding.py``) both call ``HeadSet.score`` so the
evaluation measures exactly the code that ships. Weights are plain arrays in ``heads.npz``
(loaded with ``allow_pickle=False``) plus ``heads.json``; no pickle anywhere.

Calibration: each head's logit ``z`` maps through one logistic curve anchored on benign
calibration rows, so a score of 0.5 sits at the gate's "borderline" point and 0.8 at its "flag"
point (the per-head benign false-positive rates chosen in ``train.py``). Screens: a hashed
word-n-gram linear model per head decides whether a text could score high at all; text below a
screen's threshold (set to keep ~99.8% of training positives) skips the transformer and is
scored from the screen alone, capped below 0.2. System prompts always take the full path.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.heads.lexical import declines, lexical_matrix

HEADS = ("request", "compliance", "identity")
GROUPS = ("system", "request", "response")  # one-hot "kind" feature of the identity head
SCREEN_FEATURES = 1 << 18
FLAG, BORDER = 0.8, 0.5
SKIP_CAP = 0.4  # skipped text scores 0.4 * sigmoid(screen margin) < 0.2
GUARD_CAP = 0.45  # a declining answer stays below "borderline"
WEIGHTS_NPZ, WEIGHTS_JSON = "heads.npz", "heads.json"

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Segment:
    """What the heads read of one classifier input: its group, text and (responses) the request."""

    group: str  # system | request | response
    text: str
    context: str = ""


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def request_features(emb: np.ndarray, texts: list[str]) -> np.ndarray:
    return np.hstack([emb, lexical_matrix(texts)]).astype(np.float32)


def compliance_features(ctx: np.ndarray, resp: np.ndarray, texts: list[str]) -> np.ndarray:
    has_ctx = (np.abs(ctx).sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return np.hstack([ctx, resp, ctx * resp, lexical_matrix(texts), has_ctx]).astype(np.float32)


def identity_features(emb: np.ndarray, texts: list[str], groups: list[str]) -> np.ndarray:
    onehot = np.zeros((len(groups), len(GROUPS)), dtype=np.float32)
    for i, g in enumerate(groups):
        onehot[i, GROUPS.index(g)] = 1.0
    return np.hstack([emb, lexical_matrix(texts), onehot]).astype(np.float32)


@dataclass
class MLPHead:
    """Standardise → Linear → ReLU → Linear → calibrated logistic."""

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    z_border: float = 0.0
    z_flag: float = 1.0

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum((x - self.mean) / self.std @ self.w1 + self.b1, 0.0)
        return (h @ self.w2 + self.b2).reshape(-1)

    def calibrate(self, z: np.ndarray) -> np.ndarray:
        slope = _logit(FLAG) / max(self.z_flag - self.z_border, 1e-3)
        # Clipped: beyond ±500 the sigmoid is 0 or 1 anyway, and exp would overflow (and warn).
        return 1.0 / (1.0 + np.exp(-np.clip(slope * (z - self.z_flag) + _logit(FLAG), -500.0, 500.0)))

    def probs(self, x: np.ndarray) -> np.ndarray:
        return self.calibrate(self.logits(x))


@dataclass
class Screen:
    """Hashed word 1–2-grams → linear logit; ``pair`` screens see the request and the answer."""

    coef: np.ndarray
    intercept: float
    threshold: float
    pair: bool = False

    def logits(self, texts: list[str], contexts: list[str] | None = None) -> np.ndarray:
        x = hashed(texts)
        if self.pair:
            import scipy.sparse as sp

            x = sp.hstack([hashed(contexts or [""] * len(texts)), x]).tocsr()
        return np.asarray(x @ self.coef.astype(np.float32)).reshape(-1) + self.intercept


def hashed(texts: list[str]):  # -> scipy.sparse.csr_matrix
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        n_features=SCREEN_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2", dtype=np.float32
    )
    return vectorizer.transform([t[:4000] for t in texts])


@dataclass
class HeadSet:
    heads: dict[str, MLPHead]
    screens: dict[str, Screen] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)
    version: str = "untrained"

    def score(
        self, segments: Sequence[Segment], encode: Encode, *, use_screens: bool = True
    ) -> list[dict[str, float]]:
        """Per segment: {head name: calibrated score}; each head scores the groups it reads."""
        n = len(segments)
        texts = [s.text for s in segments]
        out: list[dict[str, float]] = [{} for _ in range(n)]
        need = np.ones(n, dtype=bool)
        skipped: dict[str, np.ndarray] = {}
        if use_screens and self.screens:
            need[:] = False
            for name, screen in self.screens.items():
                z = screen.logits(texts, [s.context for s in segments] if screen.pair else None)
                skipped[name] = SKIP_CAP / (1.0 + np.exp(-(z - screen.threshold)))
                relevant = np.array([_reads(name, s.group) for s in segments])
                need |= relevant & (z >= screen.threshold)
            need |= np.array([s.group == "system" for s in segments])
        idx = np.flatnonzero(need)
        emb = np.zeros((n, 384), dtype=np.float32)
        ctx = np.zeros((n, 384), dtype=np.float32)
        if idx.size:
            contexts = [segments[i].context if segments[i].group == "response" else "" for i in idx]
            both = encode([texts[i] for i in idx] + contexts)
            emb[idx], ctx[idx] = both[: idx.size], both[idx.size :]
        for name, head in self.heads.items():
            rows = [i for i, s in enumerate(segments) if _reads(name, s.group)]
            if not rows:
                continue
            full = [i for i in rows if need[i]]
            if full:
                probs = head.probs(self._features(name, full, segments, emb, ctx))
                if name == "compliance":  # a declining answer is never a harmful one (see lexical.declines)
                    probs = np.where([declines(texts[i]) for i in full], np.minimum(probs, GUARD_CAP), probs)
                for i, p in zip(full, probs, strict=True):
                    out[i][name] = float(p)
            for i in rows:
                if not need[i]:
                    out[i][name] = float(skipped[name][i])
        return out

    @staticmethod
    def _features(
        name: str, rows: list[int], segments: Sequence[Segment], emb: np.ndarray, ctx: np.ndarray
    ) -> np.ndarray:
        texts = [segments[i].text for i in rows]
        if name == "request":
            return request_features(emb[rows], texts)
        if name == "compliance":
            return compliance_features(ctx[rows], emb[rows], texts)
        return identity_features(emb[rows], texts, [segments[i].group for i in rows])

    def save(self, out_dir: Path) -> str:
        out_dir.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for name, h in self.heads.items():
            for key in ("mean", "std", "w1", "b1", "w2", "b2"):
                arrays[f"{name}.{key}"] = getattr(h, key).astype(np.float32)
        for name, s in self.screens.items():
            arrays[f"screen.{name}.coef"] = s.coef.astype(np.float16)
        np.savez_compressed(out_dir / WEIGHTS_NPZ, **arrays)
        config = {
            "calibration": {n: {"z_border": h.z_border, "z_flag": h.z_flag} for n, h in self.heads.items()},
            "screens": {
                n: {"intercept": s.intercept, "threshold": s.threshold, "pair": s.pair}
                for n, s in self.screens.items()
            },
            **self.meta,
        }
        digest = hashlib.sha256((out_dir / WEIGHTS_NPZ).read_bytes())
        digest.update(json.dumps(config, sort_keys=True).encode())
        self.version = digest.hexdigest()[:12]
        (out_dir / WEIGHTS_JSON).write_text(json.dumps({"version": self.version, **config}, indent=1) + "\n")
        return self.version

    @classmethod
    def load(cls, weights_dir: Path) -> HeadSet:
        config = json.loads((weights_dir / WEIGHTS_JSON).read_text())
        with np.load(weights_dir / WEIGHTS_NPZ, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        heads = {
            n: MLPHead(*(arrays[f"{n}.{k}"] for k in ("mean", "std", "w1", "b1", "w2", "b2")), **cal)
            for n, cal in config.pop("calibration").items()
        }
        screens = {
            n: Screen(arrays[f"screen.{n}.coef"].astype(np.float32), **s)
            for n, s in config.pop("screens").items()
        }
        version = config.pop("version")
        return cls(heads, screens, config, version)


def _reads(head: str, group: str) -> bool:
    """Which heads score which segment groups."""
    if head == "request":
        return group == "request"
    if head == "compliance":
        return group == "response"
    return True
