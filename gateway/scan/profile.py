"""The scan profile of a policy file, or of the shipped ``policies/default.yaml``.

Used where no gateway runs (``tunegate scan``, benchmarks); the gateway itself matches a policy
per file and builds engines through ``policies.engine``.
"""

from __future__ import annotations

from pathlib import Path

from gateway.scan.engine import ScanProfile
from policies.engine import ClassifierCache, scan_profile
from policies.loader import load_file
from policies.registry import SHIPPED_DIR


def profile_from_policy(path: Path | None = None) -> ScanProfile:
    """The profile of one policy file (default: the shipped default policy)."""
    return scan_profile(load_file(path or SHIPPED_DIR / "default.yaml"), ClassifierCache())


def default_profile() -> ScanProfile:
    return profile_from_policy()
