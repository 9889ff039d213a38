"""``tunegate scan``: the real CLI in a subprocess, with the default CPU profile."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.data import write_jsonl
from tests.support.processes import REPO
from tests.support.shared_data import aoa_rows, benign_rows


def _scan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "scan", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_exit_codes_and_formats(tmp_path):
    benign = write_jsonl(tmp_path / "benign.jsonl", benign_rows(20))
    result = _scan(str(benign), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "allow" and report["rows_total"] == 20
    assert {"flagged_lines", "findings", "dataset_findings", "summary", "timings"} <= report.keys()

    attack = write_jsonl(tmp_path / "aoa.jsonl", aoa_rows() + benign_rows(20))
    out = tmp_path / "report.md"
    result = _scan(str(attack), "--format", "markdown", "--output", str(out))
    assert result.returncode == 1, result.stderr
    assert out.read_text().startswith("# Training file scan") and "identity_shift" in out.read_text()

    table = _scan(str(attack))
    assert table.returncode == 1 and "verdict" in table.stdout and "reject" in table.stdout


def test_invalid_file_and_usage_exit_3(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    result = _scan(str(bad))
    assert result.returncode == 3 and "Line 1" in result.stderr
    assert _scan(str(tmp_path / "missing.jsonl")).returncode == 3
    assert _scan("--format", "yaml", str(bad)).returncode == 3
    assert _scan(str(bad), "--policy", "no-such-policy").returncode == 3
