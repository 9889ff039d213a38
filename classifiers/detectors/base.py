"""The dataset-detector contract.

A row classifier judges one segment; a dataset detector watches the whole file go by and
reports what only shows across rows: one system prompt that redefines the assistant on every
row, replies that all open with the same obedient words, text in a cipher, a trigger phrase
recurring in harmful requests, near-duplicate clusters. Detectors see rows one at a time and
must keep bounded memory (counters, sketches, capped samples), since files reach 512 MB.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar


@dataclass(frozen=True, slots=True)
class RowSummary:
    """What a detector sees of one training row (texts already normalised)."""

    line: int
    system: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()  # user turns / legacy prompts / DPO input user turns
    responses: tuple[str, ...] = ()  # trained assistant turns / completions / DPO preferred outputs
    request_harm: float = 0.0  # highest harmful-request score among the requests, 0..1 (0 when unscored)
    response_harm: float = 0.0  # highest harmful-response score among the responses, 0..1


@dataclass(frozen=True, slots=True)
class DatasetFinding:
    detector: str
    category: str  # identity_shift | cipher | backdoor_trigger | near_duplicates
    score: float  # confidence in [0, 1]
    lines: tuple[int, ...]  # 1-based rows involved (capped at a few hundred)
    evidence: str  # one short human-readable line, never a whole row
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class DatasetDetector(abc.ABC):
    """Base of every detector. The first docstring line is its public description."""

    name: ClassVar[str]
    category: ClassVar[str]

    @abc.abstractmethod
    def observe(self, row: RowSummary) -> None:
        """Take one row into account (called once per row, in file order)."""

    @abc.abstractmethod
    def finish(self) -> list[DatasetFinding]:
        """The findings for the whole file (empty when nothing stands out)."""

    def spec(self) -> dict[str, object]:
        return {"name": self.name, "version": getattr(self, "version", "1")}


D = TypeVar("D", bound=type[DatasetDetector])
_DETECTORS: dict[str, type[DatasetDetector]] = {}
BUILTIN_MODULES = (
    "classifiers.detectors.identity_shift",
    "classifiers.detectors.cipher",
    "classifiers.detectors.trigger",
    "classifiers.detectors.near_duplicates",
)


def register_detector(name: str) -> Callable[[D], D]:
    def decorate(cls: D) -> D:
        cls.name = name
        _DETECTORS[name] = cls
        return cls

    return decorate


def known_detectors() -> dict[str, type[DatasetDetector]]:
    import importlib

    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return dict(sorted(_DETECTORS.items()))


def build_detector(name: str, params: dict[str, Any] | None = None) -> DatasetDetector:
    detectors = known_detectors()
    if name not in detectors:
        raise ValueError(f"unknown detector {name!r}; known detectors: {', '.join(detectors)}")
    return detectors[name](**(params or {}))
