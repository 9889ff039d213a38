"""Smoke test of the detection benchmark: ``--quick`` on a handful of tiny files, then the table's shape."""

from __future__ import annotations

import pytest

from tests.support.shared_data import require_shared_data


def _default_profile_or_skip():
    from gateway.scan.profile import default_profile

    try:
        return default_profile()
    except (FileNotFoundError, ImportError) as exc:  # the harm-embedding weights are not built yet
        pytest.skip(f"default scan profile unavailable: {exc}")


def test_quick_detection_writes_the_expected_table(tmp_path):
    data_dir = require_shared_data()
    from bench import detection

    profile = _default_profile_or_skip()
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nold header\n\n## Other benchmark\n\nkept as it was\n")

    results, body = detection.run(
        quick=True,
        background=20,
        data_dir=data_dir,
        doc=doc,
        profile_factory=lambda: profile,
        command="python -m bench --quick",
    )

    assert {r.name for r in results} == set(detection_quick_files())
    assert all(r.rows >= 10 for r in results)
    header = next(line for line in body.splitlines() if line.startswith("| file |"))
    assert [c.strip() for c in header.strip("|").split("|")] == detection.COLUMNS
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| file |")]
    assert any(line.startswith("| explicit_pure_bad_10 |") for line in rows)
    assert any(line.startswith("| recall, explicit harmful rows |") for line in rows)

    text = doc.read_text()
    assert text.startswith("# Benchmarks\n") and "old header" not in text
    assert "## Other benchmark\n\nkept as it was" in text and "## Detection" in text


def detection_quick_files():
    from bench.attack_files import QUICK_FILES

    return QUICK_FILES
