"""The hyperparameter guard: caps a policy puts on epochs, learning rate and batch size.

Qi et al. found harm grows with epochs when tuning on identity-shifting data, and that a high
learning rate with small batches raises harm even after benign tuning. A policy caps those
per base-model glob; the first cap whose glob matches the job's model applies. A value beyond
a cap is refused (``reject``) or brought to the cap (``clamp``). ``"auto"`` (or no value) is the
provider's own choice and is left to it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from policies.schema import HyperparameterCap


@dataclass(frozen=True)
class Violation:
    param: str  # the hyperparameter name, e.g. "n_epochs"
    value: float
    limit: float
    kind: str  # "max" | "min"

    def describe(self) -> str:
        relation = "at most" if self.kind == "max" else "at least"
        return f"{self.param}={self.value:g} is not allowed; it must be {relation} {self.limit:g}"


@dataclass(frozen=True)
class GuardResult:
    hyperparameters: dict[str, Any]  # after clamping (unchanged when rejected or within the caps)
    violations: tuple[Violation, ...]
    cap: HyperparameterCap | None

    @property
    def rejected(self) -> bool:
        return bool(self.violations) and self.cap is not None and self.cap.action == "reject"

    @property
    def clamped(self) -> bool:
        return bool(self.violations) and self.cap is not None and self.cap.action == "clamp"


def cap_for(caps: list[HyperparameterCap], model: str) -> HyperparameterCap | None:
    for cap in caps:
        if any(fnmatch.fnmatchcase(model, glob) for glob in cap.models):
            return cap
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # "auto", absent, or a type the API layer already refuses
    return float(value)


def check(caps: list[HyperparameterCap], model: str, hyperparameters: dict[str, Any]) -> GuardResult:
    cap = cap_for(caps, model)
    if cap is None:
        return GuardResult(dict(hyperparameters), (), None)
    limits = (
        ("n_epochs", cap.max_epochs, "max"),
        ("learning_rate_multiplier", cap.max_learning_rate_multiplier, "max"),
        ("batch_size", cap.min_batch_size, "min"),
    )
    violations = []
    adjusted = dict(hyperparameters)
    for param, limit, kind in limits:
        value = _number(hyperparameters.get(param))
        if limit is None or value is None:
            continue
        if (kind == "max" and value > limit) or (kind == "min" and value < limit):
            violations.append(Violation(param, value, float(limit), kind))
            adjusted[param] = limit
    if cap.action == "reject":
        adjusted = dict(hyperparameters)
    return GuardResult(adjusted, tuple(violations), cap)
