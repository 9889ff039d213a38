"""Detoxify toxicity classifier, loaded from a pinned local checkpoint without touching the hub.

Detoxify checkpoints are pickled dicts::

    {"config": {"arch": {"args": {"model_type": "bert-base-uncased",            # the base model
                                  "model_name": "BertForSequenceClassification",  # transformers class
                                  "tokenizer_name": "BertTokenizer",
                                  "num_classes": 6}},
                "dataset": {"args": {"classes": ["toxicity", "severe_toxicity", ...]}}},
     "state_dict": {...}}

Detoxify's own loader asks the hub for the base model's config; we build the model from a local
``config_dir`` (the base model's ``config.json`` and tokenizer files) and load the state dict into it.

Security: a pickle can run arbitrary code when unpickled, so ``torch.load(weights_only=False)`` is
only called after the file's SHA-256 matched the expected value. Without ``sha256`` the file is
trusted as is (with a warning): pin every file you did not build yourself.

Texts longer than the model's window (512 tokens) are split into overlapping token windows and
each class takes its maximum over the windows: nothing is truncated.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind, pick_device
from classifiers.registry import register_classifier

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 512  # Detoxify's models were trained on 512-token windows
DEFAULT_OVERLAP = 64  # tokens shared by consecutive windows of a long text
DEFAULT_WINDOW_BATCH = 16  # windows per forward pass
# Only these transformers classes are built from a checkpoint's config (no getattr on arbitrary names).
ALLOWED_MODEL_CLASSES = frozenset(
    {
        "BertForSequenceClassification",
        "RobertaForSequenceClassification",
        "XLMRobertaForSequenceClassification",
        "AlbertForSequenceClassification",
        "DistilBertForSequenceClassification",
    }
)
# Detoxify's renames, so every checkpoint reports the same names.
CLASS_RENAMES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}
# Buffers older checkpoints carry that current transformers no longer persist.
_IGNORABLE_KEYS = ("position_ids",)


class ChecksumMismatch(ValueError):
    """The checkpoint on disk is not the file the configuration pinned."""


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@register_classifier("detoxify")
class DetoxifyClassifier(Classifier):
    """Detoxify (Jigsaw) toxicity model from a SHA-256-pinned local checkpoint: tone, not capability."""

    # The union of the published checkpoints' classes; an instance reports its checkpoint's ``labels``.
    categories = (
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
        "sexual_explicit",
    )
    reads = frozenset(SegmentKind.REQUESTS | SegmentKind.RESPONSES | {SegmentKind.SYSTEM})
    max_batch = 32
    max_chars = 20_000  # long texts are windowed by tokens here, more cheaply than by characters

    def __init__(
        self,
        *,
        checkpoint: str,
        config_dir: str,
        sha256: str | None = None,
        device: str = "auto",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        overlap: int = DEFAULT_OVERLAP,
        window_batch: int = DEFAULT_WINDOW_BATCH,
    ) -> None:
        if not 0 <= overlap < max_tokens // 2:
            raise ValueError(f"overlap must be in [0, max_tokens/2), got {overlap}")
        if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise ValueError("sha256 must be the 64 hex digits of the checkpoint's SHA-256")
        self.checkpoint = Path(checkpoint)
        self.config_dir = Path(config_dir)
        self.sha256 = sha256.lower() if sha256 else None
        self.device = pick_device(device)
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.window_batch = window_batch
        self.labels: tuple[str, ...] = ()
        self._model: Any = None
        self._tokenizer: Any = None
        self._window = max_tokens
        self._stride = overlap
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def spec(self) -> dict[str, object]:
        return {**super().spec(), "checkpoint": self.checkpoint.name, "sha256": self.sha256}

    def load(self) -> None:
        """Verify, unpickle and build the model (idempotent; blocking — call it from a worker thread)."""
        with self._load_lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        import torch
        import transformers

        if not self.checkpoint.is_file():
            raise FileNotFoundError(f"Detoxify checkpoint {self.checkpoint} does not exist")
        if self.sha256 is None:
            log.warning("detoxify: %s is not pinned by sha256; unpickling it unverified", self.checkpoint)
        elif (actual := file_sha256(self.checkpoint)) != self.sha256:
            raise ChecksumMismatch(
                f"Detoxify checkpoint {self.checkpoint} has SHA-256 {actual}, expected {self.sha256}; "
                "refusing to unpickle it"
            )
        # Unpickling runs code: only reached for a file whose hash matched (or that the operator trusts).
        loaded = torch.load(self.checkpoint, map_location="cpu", weights_only=False)
        try:
            arch = loaded["config"]["arch"]["args"]
            classes = list(loaded["config"]["dataset"]["args"]["classes"])
            state_dict = loaded["state_dict"]
            class_name, num_classes = arch["model_name"], int(arch["num_classes"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{self.checkpoint} is not a Detoxify checkpoint (missing {exc})") from None
        if class_name not in ALLOWED_MODEL_CLASSES:
            raise ValueError(f"{self.checkpoint}: model class {class_name!r} is not one Detoxify uses")
        if len(classes) > num_classes:
            raise ValueError(f"{self.checkpoint}: {len(classes)} classes but {num_classes} outputs")
        config = transformers.AutoConfig.from_pretrained(
            self.config_dir, num_labels=num_classes, local_files_only=True
        )
        model = getattr(transformers, class_name)(config)
        _load_state_dict(model, state_dict, self.checkpoint)
        model.eval().to(self.device)
        tokenizer = transformers.AutoTokenizer.from_pretrained(self.config_dir, local_files_only=True)
        positions = int(getattr(config, "max_position_embeddings", self.max_tokens))
        if config.model_type in {"roberta", "xlm-roberta", "camembert"}:
            positions -= 2  # RoBERTa's position ids start after the padding index
        self._window = min(self.max_tokens, positions)
        content = self._window - tokenizer.num_special_tokens_to_add(pair=False)
        self._stride = min(self.overlap, content // 2)  # the window's overlap, clamped to fit the model
        self.labels = tuple(CLASS_RENAMES.get(name, name) for name in classes)
        self._tokenizer, self._model = tokenizer, model

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        if not items:
            return []
        if self._model is None:
            await asyncio.to_thread(self.load)
        rows = await asyncio.to_thread(self.predict, [item.text for item in items])
        return [Scores(dict(zip(self.labels, row, strict=True))) for row in rows]

    def predict(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text, the per-label sigmoid maximum over its token windows (blocking)."""
        import torch

        self.load()
        encoded = self._tokenizer(
            list(texts),
            truncation=True,
            max_length=self._window,
            stride=self._stride,
            return_overflowing_tokens=True,
            padding=True,
            return_tensors="pt",
        )
        owners = encoded.pop("overflow_to_sample_mapping").tolist()
        inputs = {k: v for k, v in encoded.items() if k in {"input_ids", "attention_mask", "token_type_ids"}}
        window_scores = self.forward(inputs)
        best = torch.zeros(len(texts), len(self.labels))
        for row, owner in zip(window_scores, owners, strict=True):
            best[owner] = torch.maximum(best[owner], row)
        return [[min(1.0, max(0.0, float(v))) for v in row] for row in best.tolist()]

    def forward(self, inputs: dict[str, Any]) -> Any:
        """Sigmoid scores of already-tokenized windows, ``window_batch`` at a time (blocking)."""
        import torch

        total = inputs["input_ids"].shape[0]
        parts = []
        with self._run_lock, torch.inference_mode():
            for start in range(0, total, self.window_batch):
                batch = {k: v[start : start + self.window_batch].to(self.device) for k, v in inputs.items()}
                logits = self._model(**batch).logits[:, : len(self.labels)]
                parts.append(torch.sigmoid(logits.float()).cpu())
        return torch.cat(parts) if parts else torch.zeros(0, len(self.labels))

    async def aclose(self) -> None:
        self._model = self._tokenizer = None


def _load_state_dict(model: Any, state_dict: dict[str, Any], source: Path) -> None:
    """Load strictly, tolerating a Lightning ``model.`` prefix and obsolete position-id buffers."""
    expected = set(model.state_dict())
    if not expected & set(state_dict) and all(key.startswith("model.") for key in state_dict):
        state_dict = {key.removeprefix("model."): value for key, value in state_dict.items()}
    state_dict = {k: v for k, v in state_dict.items() if k in expected or not k.endswith(_IGNORABLE_KEYS)}
    result = model.load_state_dict(state_dict, strict=False)
    missing = [key for key in result.missing_keys if not key.endswith(_IGNORABLE_KEYS)]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{source}: state dict does not fit the model built from config_dir "
            f"(missing {missing[:5]}, unexpected {list(result.unexpected_keys)[:5]})"
        )
