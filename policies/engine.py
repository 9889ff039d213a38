"""From a policy to what runs: scan profiles, audit judges, and engines, built once and shared.

Models are expensive (MiniLM alone is ~90 MB), and several policies usually name the same
classifier with the same options, so classifiers are cached by (name, options) and shared by
every engine; engines are cached by the policy's rules key. A hot reload that changes only
a threshold therefore builds a new engine around the classifiers already loaded.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from classifiers.base import Classifier
from classifiers.detectors.base import DatasetDetector, build_detector
from classifiers.registry import build_classifier
from gateway.scan.engine import ScanEngine, ScanProfile
from gateway.scan.rows import RowThresholds
from policies.loader import Policy
from policies.schema import Component

MAX_ENGINES = 8


def row_thresholds(policy: Policy) -> RowThresholds:
    rows = policy.spec.scan.rows
    return RowThresholds(flag=rows.flag, borderline=rows.borderline, per_category=dict(rows.categories))


class ClassifierCache:
    """One instance per (name, options), built on first use; thread-safe."""

    def __init__(self) -> None:
        self._built: dict[str, Classifier] = {}
        self._lock = threading.Lock()

    def get(self, component: Component) -> Classifier:
        key = f"{component.name}:{json.dumps(component.options, sort_keys=True)}"
        with self._lock:
            if key not in self._built:
                self._built[key] = build_classifier(component.name, dict(component.options))
            return self._built[key]


def scan_profile(policy: Policy, classifiers: ClassifierCache) -> ScanProfile:
    scan = policy.spec.scan
    built = [classifiers.get(component) for component in scan.classifiers]
    detector_components = list(scan.detectors)

    def detectors() -> list[DatasetDetector]:
        return [build_detector(c.name, dict(c.options)) for c in detector_components]

    return ScanProfile(
        classifiers=built,
        detectors=detectors,
        thresholds=row_thresholds(policy),
        rules=scan,
        policy=policy.ref(),
    )


class EngineCache:
    """Scan engines by the policy's rules key (least recently used ones dropped)."""

    def __init__(self, classifiers: ClassifierCache | None = None) -> None:
        self.classifiers = classifiers or ClassifierCache()
        self._engines: OrderedDict[str, ScanEngine] = OrderedDict()
        self._lock = threading.Lock()

    def engine_for(self, policy: Policy) -> ScanEngine:
        key = f"{policy.rules_key}:{policy.name}:{policy.version}"
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = ScanEngine(scan_profile(policy, self.classifiers))
            self._engines.move_to_end(key)
            while len(self._engines) > MAX_ENGINES:
                self._engines.popitem(last=False)
            return engine

    def judge_for(self, component: Component) -> Classifier:
        return self.classifiers.get(component)
