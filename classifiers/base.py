"""The classifier contract: every scoring model the data gate (and later the model gate) uses.

A classifier reads segments of certain kinds (a user turn, an assistant turn with the turns
before it, a system prompt, ...) and returns, for each, a ``Scores``: for every category it
knows, the probability in [0, 1] that the segment shows that harm. 0 means "no sign of it",
1 means "certainly". No negative scores, no "risk" in another range: a threshold of 0.5 always
means "more likely than not".

The first line of a classifier's docstring is its public description (``tunegate classifiers``
and the docs list it).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar


class SegmentKind:
    """What part of a training row a segment is. Plain strings so configs can name them."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"  # judged with the turns before it as context
    TOOL_ARGUMENTS = "tool_arguments"
    TOOL_RESULT = "tool"
    TOOL_DEFINITION = "tool_definition"
    PROMPT = "prompt"  # legacy prompt/completion
    COMPLETION = "completion"  # judged with its prompt as context
    PREFERRED = "preferred_output"  # DPO, judged with its input as context
    NON_PREFERRED = "non_preferred_output"
    EXTRA = "extra"  # reinforcement rows' grader fields

    ALL: ClassVar[frozenset[str]] = frozenset(
        {
            SYSTEM,
            USER,
            ASSISTANT,
            TOOL_ARGUMENTS,
            TOOL_RESULT,
            TOOL_DEFINITION,
            PROMPT,
            COMPLETION,
            PREFERRED,
            NON_PREFERRED,
            EXTRA,
        }
    )
    # Segments that ask for something / that answer something.
    REQUESTS: ClassVar[frozenset[str]] = frozenset({USER, PROMPT})
    RESPONSES: ClassVar[frozenset[str]] = frozenset({ASSISTANT, COMPLETION, PREFERRED, NON_PREFERRED})


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """One text to score, with the conversation before it (empty for requests and system prompts)."""

    text: str
    kind: str
    context: tuple[Turn, ...] = ()


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-category probabilities in [0, 1]; categories absent from the map scored 0."""

    values: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for category, value in self.values.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"score for {category!r} is {value}, outside [0, 1]")
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def top(self) -> tuple[str | None, float]:
        """The highest-scoring category and its score (None, 0.0 when nothing scored)."""
        if not self.values:
            return None, 0.0
        category = max(self.values, key=lambda c: self.values[c])
        return category, self.values[category]

    def get(self, category: str) -> float:
        return self.values.get(category, 0.0)


def pick_device(requested: str = "auto") -> str:
    """``auto`` → cuda when a GPU is visible, else cpu."""
    if requested != "auto":
        return requested
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


class Classifier(abc.ABC):
    """Base of every classifier. Subclasses set the class attributes and implement ``score``."""

    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]
    reads: ClassVar[frozenset[str]]  # the SegmentKind values it scores; others are not sent to it
    max_batch: ClassVar[int] = 64
    # Longer texts are split by the pipeline into overlapping chunks of at most this many
    # characters (never truncated); the segment's score is the maximum over its chunks.
    max_chars: ClassVar[int] = 2000

    device: str = "cpu"

    @abc.abstractmethod
    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        """Score a batch (at most ``max_batch`` items); exactly one ``Scores`` per input, in order."""

    def spec(self) -> dict[str, object]:
        """What rebuilds this classifier: name, version and parameters (recorded in reports)."""
        return {"name": self.name, "version": getattr(self, "version", "1"), "device": self.device}

    async def aclose(self) -> None:  # noqa: B027 — optional hook
        """Release models or connections."""
