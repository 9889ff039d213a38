"""Run classifiers over many texts: identical inputs judged once, long texts chunked, batches by length.

Each classifier receives only the segment kinds it reads. A text longer than the classifier's
``max_chars`` is split into overlapping chunks (never truncated) and scored per chunk; the
text's score per category is the maximum over its chunks.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from classifiers.base import Classifier, ClassifierInput, Scores
from gateway.scan.normalise import chunks

CACHE_ENTRIES = 200_000
CHUNK_OVERLAP = 200


def input_key(item: ClassifierInput) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(item.kind.encode())
    for turn in item.context:
        digest.update(b"\x00" + turn.role.encode() + b"\x01" + turn.text.encode("utf-8", "surrogatepass"))
    digest.update(b"\x02" + item.text.encode("utf-8", "surrogatepass"))
    return digest.digest()


class _LRU(OrderedDict[bytes, Scores]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def put(self, key: bytes, value: Scores) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.capacity:
            self.popitem(last=False)


class SegmentJudge:
    """Scores inputs with a set of classifiers, remembering recent results (a file repeats itself)."""

    def __init__(self, classifiers: Sequence[Classifier], *, cache_entries: int = CACHE_ENTRIES) -> None:
        self.classifiers = list(classifiers)
        self._caches = {c.name: _LRU(cache_entries) for c in self.classifiers}
        self.scored = 0  # inputs actually sent to a classifier (after de-duplication), for the report

    async def judge(self, items: Sequence[ClassifierInput]) -> list[dict[str, Scores]]:
        """For each input, the scores of every classifier that reads its kind (by classifier name)."""
        results: list[dict[str, Scores]] = [{} for _ in items]
        for classifier in self.classifiers:
            wanted = [i for i, item in enumerate(items) if item.kind in classifier.reads]
            if not wanted:
                continue
            scores = await self._judge_with(classifier, [items[i] for i in wanted])
            for index, score in zip(wanted, scores, strict=True):
                results[index][classifier.name] = score
        return results

    async def _judge_with(self, classifier: Classifier, items: list[ClassifierInput]) -> list[Scores]:
        cache = self._caches[classifier.name]
        keys = [input_key(item) for item in items]
        missing: dict[bytes, ClassifierInput] = {}
        for key, item in zip(keys, items, strict=True):
            if key not in cache and key not in missing:
                missing[key] = item
        if missing:
            computed = await self._score_unique(classifier, list(missing.values()))
            for key, score in zip(missing, computed, strict=True):
                cache.put(key, score)
        return [cache[key] for key in keys]

    async def _score_unique(self, classifier: Classifier, items: list[ClassifierInput]) -> list[Scores]:
        # Expand long texts into chunks, remembering which input each chunk belongs to.
        pieces: list[tuple[int, ClassifierInput]] = []
        for index, item in enumerate(items):
            if len(item.text) <= classifier.max_chars:
                pieces.append((index, item))
                continue
            for part in chunks(item.text, max_chars=classifier.max_chars, overlap=CHUNK_OVERLAP):
                pieces.append((index, ClassifierInput(text=part, kind=item.kind, context=item.context)))
        # Similar lengths together: less padding in transformer batches.
        pieces.sort(key=lambda piece: len(piece[1].text))
        merged: list[dict[str, float]] = [{} for _ in items]
        for start in range(0, len(pieces), classifier.max_batch):
            batch = pieces[start : start + classifier.max_batch]
            scores = await classifier.score([piece[1] for piece in batch])
            if len(scores) != len(batch):
                raise RuntimeError(
                    f"classifier {classifier.name} returned {len(scores)} results for {len(batch)}"
                )
            self.scored += len(batch)
            for (index, _), score in zip(batch, scores, strict=True):
                target = merged[index]
                for category, value in score.values.items():
                    if value > target.get(category, 0.0):
                        target[category] = value
        return [Scores(values) for values in merged]
