"""Held-out metrics, computed through ``HeadSet.score`` (the shipped scoring path, screens included).

Row rule, as in ``gateway/scan/rows.py``: a row is flagged when an output it teaches scores
``harmful_response`` or ``identity_shift`` at or above the flag threshold (0.8), or its system
prompt scores ``identity_shift`` there; 0.5 is "borderline". A harmful *request* alone never
flags a row that has an answer: a refusal to it is safety data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from classifiers.heads.data import Example
from classifiers.heads.evalsets import EvalRow, EvalSet
from classifiers.heads.model import BORDER, FLAG, Encode, HeadSet, Segment

GROUP_OF_KIND = {"request": "request", "response": "response", "system": "system"}


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    if y.min() == y.max():
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4)


def head_test_metrics(
    heads: HeadSet, name: str, examples: Sequence[Example], encode: Encode, *, use_screens: bool
) -> dict[str, object]:
    """AUC over the test split, and per source the share at or above 0.5 and 0.8."""
    test = [e for e in examples if e.split == "test"]
    segments = [Segment(GROUP_OF_KIND[e.kind], e.text, e.context) for e in test]
    scores = np.array([s[name] for s in heads.score(segments, encode, use_screens=use_screens)])
    y = np.array([e.label for e in test])
    by_source: dict[str, list[float]] = defaultdict(list)
    for e, s in zip(test, scores, strict=True):
        by_source[f"{'pos' if e.label else 'neg'}:{e.source}"].append(float(s))
    return {
        "n": len(test),
        "auc": _auc(y, scores),
        "sources": {k: _rates(v) for k, v in sorted(by_source.items())},
        "negatives": _rates(scores[y == 0].tolist()),
        "positives": _rates(scores[y == 1].tolist()),
    }


def _rates(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    if not a.size:
        return {"n": 0}
    return {
        "n": int(a.size),
        ">=0.5": round(float((a >= BORDER).mean()), 4),
        ">=0.8": round(float((a >= FLAG).mean()), 4),
        "median": round(float(np.median(a)), 4),
    }


def row_scores(heads: HeadSet, rows: Sequence[EvalRow], encode: Encode) -> list[dict[str, float]]:
    """Per row: the highest score of each gate category over its segments."""
    segments: list[Segment] = []
    owner: list[tuple[int, str]] = []
    for i, r in enumerate(rows):
        if r.system:
            segments.append(Segment("system", r.system))
            owner.append((i, "system"))
        if r.user:
            segments.append(Segment("request", r.user))
            owner.append((i, "user"))
        if r.assistant:
            segments.append(Segment("response", r.assistant, r.user))
            owner.append((i, "assistant"))
    out: list[dict[str, float]] = [defaultdict(float) for _ in rows]
    for (i, role), scores in zip(owner, heads.score(segments, encode), strict=True):
        for head, value in scores.items():
            key = f"{head}@{role}"
            out[i][key] = max(out[i][key], value)
    return out


def row_outcome(scores: dict[str, float]) -> float:
    """The score that decides whether the row is flagged (see the module docstring)."""
    return max(
        scores.get("compliance@assistant", 0.0),
        scores.get("identity@assistant", 0.0),
        scores.get("identity@system", 0.0),
    )


def eval_set_metrics(heads: HeadSet, sets: Sequence[EvalSet], encode: Encode) -> dict[str, object]:
    result: dict[str, object] = {}
    for s in sets:
        scores = row_scores(heads, s.rows, encode)
        if s.group.startswith("requests"):
            values = [r.get("request@user", 0.0) for r in scores]
        else:
            values = [row_outcome(r) for r in scores]
        entry: dict[str, object] = {"group": s.group, "use": s.license_use, "rows": _rates(values)}
        if s.group in ("explicit_harmful", "safety") and any(r.user for r in s.rows):
            entry["request_head"] = _rates([r.get("request@user", 0.0) for r in scores])
        result[s.name] = entry
    return result


def pairwise_metrics(
    heads: HeadSet, pairs: Sequence[tuple[str, str, str]], encode: Encode
) -> dict[str, float]:
    """hh-rlhf harmless: how often the rejected (more harmful) reply scores above the chosen one."""
    if not pairs:
        return {}
    segments = [Segment("response", c, h) for h, c, _ in pairs] + [
        Segment("response", r, h) for h, _, r in pairs
    ]
    s = np.array([x["compliance"] for x in heads.score(segments, encode)])
    chosen, rejected = s[: len(pairs)], s[len(pairs) :]
    return {
        "n": len(pairs),
        "rejected_above_chosen": round(float((rejected > chosen).mean()), 4),
        "ties": round(float((rejected == chosen).mean()), 4),
        "chosen>=0.8": round(float((chosen >= FLAG).mean()), 4),
        "rejected>=0.8": round(float((rejected >= FLAG).mean()), 4),
    }
