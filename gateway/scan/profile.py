"""The built-in scan profile: the CPU default that needs no download.

``harm-embedding`` (MiniLM with heads this project trains) and ``profanity`` score rows; the
four dataset detectors watch the file. Thresholds and file limits are the defaults of
``rows.RowThresholds`` and ``verdict.FileLimits``. Policies (YAML) build other profiles.
"""

from __future__ import annotations

from classifiers.detectors.base import DatasetDetector, build_detector, known_detectors
from classifiers.registry import build_classifier
from gateway.scan.engine import ScanProfile

DEFAULT_CLASSIFIERS = ("harm-embedding", "profanity")
DEFAULT_DETECTORS = ("identity-shift", "cipher", "trigger", "near-duplicates")


def default_profile() -> ScanProfile:
    classifiers = [build_classifier(name) for name in DEFAULT_CLASSIFIERS]
    available = known_detectors()

    def detectors() -> list[DatasetDetector]:
        return [build_detector(name) for name in DEFAULT_DETECTORS if name in available]

    return ScanProfile(classifiers=classifiers, detectors=detectors)
