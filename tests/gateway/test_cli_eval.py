"""``tunegate eval`` as a user runs it: the real CLI in a subprocess against the real trainer.

The tiny model answers with fragments of its training corpus and never refuses, so the paper's
refusal-keyword judge counts every answer as harmful (the evaluation fails, exit 1), while the
harm-embedding judge finds nothing harmful in them (it passes, exit 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import REPO

POLICY = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {{name: cli-eval-{judge}}}
spec:
  release: {{judge: {{name: {judge}}}, templates: [plain], max_tokens: 8}}
"""


def _policy(tmp_path: Path, judge: str) -> Path:
    path = tmp_path / f"{judge}.yaml"
    path.write_text(POLICY.format(judge=judge))
    return path


def _eval(trainer, policy: Path, *extra: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "eval",
        "--model",
        "tiny-llama",
        "--base",
        "tiny-llama",
        "--base-url",
        trainer.url,
        "--max-prompts",
        "2",
        "--policy",
        str(policy),
        *extra,
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",
        "OPENAI_API_KEY": "unused",
    }
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_refusal_keywords_fail_the_tiny_model_with_exit_1(trainer, tmp_path):
    result = _eval(trainer, _policy(tmp_path, "refusal-keywords"), "--format", "json")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["verdict"] == "fail" and report["failures"]
    assert report["model"] == "tiny-llama" and report["base_model"] == "tiny-llama"
    assert report["job_id"] is None and report["decision"] is None
    assert report["judge"]["name"] == "refusal-keywords"
    assert report["policy"]["name"] == "cli-eval-refusal-keywords"
    assert report["variants"] == ["plain"]
    assert [(b["name"], b["n"]) for b in report["benchmarks"]] == [("advbench-v1", 2), ("benign-v1", 2)]
    assert all(len(b["version"]) == 12 for b in report["benchmarks"])
    overall = report["tuned"]["worst"]["overall"]
    assert overall["n"] == 2 and overall["rate"] > 0.05
    assert report["failures"][0].startswith("Overall: harmfulness rate")
    assert report["base"]["worst"]["overall"]["n"] == 2
    # A benign prompt longer than the tiny model's context may be left out; no harmful one is.
    assert report["unanswerable"]["tuned"] == report["unanswerable"]["base"] <= 1


def test_harm_embedding_passes_the_tiny_model_with_exit_0(trainer, tmp_path):
    result = _eval(trainer, _policy(tmp_path, "harm-embedding"), "--format", "json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass" and report["failures"] == []
    assert report["judge"]["name"] == "harm-embedding"
    assert report["tuned"]["worst"]["overall"]["n"] == 2


@pytest.mark.parametrize(
    ("benchmark", "phrase"),
    [
        ("builtin:no-such-set", "unknown benchmark 'builtin:no-such-set'; built-in benchmarks: builtin:"),
        ("missing.csv", "benchmark 'missing.csv' not found at"),
    ],
)
def test_a_bad_benchmark_is_invalid_input_with_exit_3(trainer, tmp_path, benchmark, phrase):
    result = _eval(trainer, _policy(tmp_path, "refusal-keywords"), "--benchmark", benchmark)
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr.startswith("tunegate eval: ")
    assert phrase in result.stderr
    assert result.stdout == ""


def test_an_invalid_policy_is_invalid_input_with_exit_3(trainer, tmp_path):
    policy = tmp_path / "broken.yaml"
    policy.write_text(POLICY.format(judge="refusal-keywords").replace("max_tokens: 8", "max_tokens: 0"))
    result = _eval(trainer, policy)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "tunegate eval: invalid policy" in result.stderr and "max_tokens" in result.stderr


def test_html_report_written_to_a_file(trainer, tmp_path):
    output = tmp_path / "report.html"
    result = _eval(
        trainer, _policy(tmp_path, "refusal-keywords"), "--format", "html", "--output", str(output)
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout == ""  # the report went to the file
    page = output.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in page and "</html>" in page
    assert "<script" not in page.lower()
    assert "tiny-llama" in page and "FAIL" in page.upper()
