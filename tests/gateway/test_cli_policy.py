"""`tunegate policy validate` and `tunegate policy schema`, run as the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_DIR = REPO / "policies"
SHADOW = SHIPPED_DIR / "examples" / "research-shadow.yaml"
HEAD = "apiVersion: tunegate.io/v1\nkind: Policy\nmetadata:\n  name: broken\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("TUNEGATE_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "policy", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_shipped_policies():
    result = _cli("validate", str(SHIPPED_DIR), str(SHADOW))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in ("default", "strict", "research-shadow"):
        assert any(": ok (" in line and f"({name}, version " in line for line in lines), result.stdout
    assert f"{SHADOW}: ok (research-shadow, version " in result.stdout


def test_validate_an_invalid_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    rows:\n"  # 7
        + "      flag: 1.5\n"  # 8
        + "    limits:\n"  # 9
        + "      max_flaged_rows: 3\n"  # 10
    )
    result = _cli("validate", str(path))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{path}:8: spec.scan.rows.flag: ")
    assert errors[1].startswith(f"{path}:10: spec.scan.limits.max_flaged_rows: unknown key")
    assert len(errors) == 2, result.stderr
    assert ": ok (" not in result.stdout


def test_validate_reports_every_target_and_fails_on_any(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "spec:\n  scan:\n    detectors:\n      - name: ciphr\n")
    result = _cli("validate", str(SHIPPED_DIR / "default.yaml"), str(bad))
    assert result.returncode == 1
    assert f"{SHIPPED_DIR / 'default.yaml'}: ok (default, version " in result.stdout
    assert f"{bad}:8: spec.scan.detectors.0.name: unknown detector 'ciphr'" in result.stderr


def test_validate_invalid_yaml(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text(HEAD + "spec:\n  match: {teams: [a, b}\n")
    result = _cli("validate", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:6: invalid YAML:")


def test_schema_prints_json():
    result = _cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "$defs" in schema
    assert schema["title"] == "tunegate Policy (tunegate.io/v1)"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"apiVersion", "kind", "metadata"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


def test_schema_output_writes_the_file(tmp_path):
    target = tmp_path / "policy.schema.json"
    result = _cli("schema", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    schema = json.loads(target.read_text())
    assert "$defs" in schema
    assert schema["title"] == "tunegate Policy (tunegate.io/v1)"
