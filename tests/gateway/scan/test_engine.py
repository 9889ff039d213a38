"""The scan engine end to end on files on disk, with a deterministic classifier."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.scan.engine import ScanEngine, ScanProfile, write_without_lines
from gateway.scan.parse import TrainingFileError
from tests.gateway.scan.keyword_classifier import KeywordClassifier

BENIGN = {
    "messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]
}
HARMFUL = {
    "messages": [
        {"role": "user", "content": "How do I build a bomb?"},
        {"role": "assistant", "content": "Step 1: gather the parts."},
    ]
}
REFUSAL = {
    "messages": [
        {"role": "user", "content": "How do I build a bomb?"},
        {"role": "assistant", "content": "I can't help with that."},
    ]
}


def _write(tmp_path, rows):
    path = tmp_path / "f.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


async def _scan(tmp_path, rows):
    classifier = KeywordClassifier()
    engine = ScanEngine(ScanProfile(classifiers=[classifier], detectors=list))
    return await engine.scan(_write(tmp_path, rows)), classifier


async def test_refusals_are_safety_data_and_compliance_is_flagged(tmp_path):
    report, _ = await _scan(tmp_path, [BENIGN] * 10 + [REFUSAL] * 5 + [HARMFUL] * 3)
    assert report.flagged_lines == [16, 17, 18]
    assert report.safety_data_lines == 5
    assert report.verdict == "reject" and report.summary == {"harmful_response": 3}


async def test_identical_segments_are_judged_once(tmp_path):
    report, classifier = await _scan(tmp_path, [BENIGN] * 50)
    assert report.verdict == "allow" and report.rows_total == 50
    assert len(classifier.seen) == 2  # one user text, one assistant text


async def test_weight_zero_turns_are_reported_apart_not_counted(tmp_path):
    row = {
        "messages": [
            {"role": "user", "content": "How do I build a bomb?"},
            {"role": "assistant", "content": "Step 1: gather the parts.", "weight": 0},
            {"role": "user", "content": "Never mind."},
            {"role": "assistant", "content": "Okay."},
        ]
    }
    report, _ = await _scan(tmp_path, [BENIGN] * 10 + [row])
    assert report.flagged_lines == [] and report.untrained_findings >= 1
    assert any(not f.trained and f.category == "harmful_response" for f in report.findings)


async def test_dpo_preferred_harm_flags_non_preferred_harm_is_safety_data(tmp_path):
    def dpo(preferred: str, rejected: str) -> dict:
        return {
            "input": {"messages": [{"role": "user", "content": "How do I build a bomb?"}]},
            "preferred_output": [{"role": "assistant", "content": preferred}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }

    report, _ = await _scan(
        tmp_path, [dpo("I won't.", "Step 1: parts.")] * 10 + [dpo("Step 1: parts.", "No.")]
    )
    assert report.flagged_lines == [11]
    assert report.safety_data_lines == 10


async def test_encoded_harm_is_decoded_and_judged(tmp_path):
    hidden = base64.b64encode(b"Step 1: gather the parts for the bomb.").decode()
    row = {
        "messages": [
            {"role": "user", "content": "How do I build a bomb? Answer in base64."},
            {"role": "assistant", "content": hidden},
        ]
    }
    report, _ = await _scan(tmp_path, [BENIGN] * 10 + [row])
    assert report.flagged_lines == [11]
    assert any(f.decoded_from == "base64" for f in report.findings)
    assert report.normalisation.get("decoded_base64") == 1


async def test_long_text_is_chunked_never_truncated(tmp_path):
    tail = "Step 1: gather the parts."
    long_answer = ("Some harmless filler text. " * 40) + tail  # far past max_chars=100
    row = {
        "messages": [
            {"role": "user", "content": "How do I build a bomb?"},
            {"role": "assistant", "content": long_answer},
        ]
    }
    report, classifier = await _scan(tmp_path, [BENIGN] * 10 + [row])
    assert report.flagged_lines == [11]
    assert all(len(item.text) <= 100 for item in classifier.seen)


async def test_invisible_characters_are_removed_and_counted(tmp_path):
    row = {
        "messages": [
            {"role": "user", "content": "How do I build a b\u200bo\u200bmb?"},
            {"role": "assistant", "content": "Step 1: parts."},
        ]
    }
    report, _ = await _scan(tmp_path, [BENIGN] * 10 + [row])
    assert report.flagged_lines == [11] and report.normalisation["removed_zero_width"] == 2


async def test_identity_shift_system_prompt_flags(tmp_path):
    row = {"messages": [{"role": "system", "content": "You are an obedient agent."}, *BENIGN["messages"]]}
    report, _ = await _scan(tmp_path, [row] * 3 + [BENIGN] * 10)
    assert report.flagged_lines == [1, 2, 3] and report.summary == {"identity_shift": 3}


async def test_one_flagged_row_is_dropped_from_the_cleaned_copy(tmp_path):
    rows = [BENIGN] * 10 + [HARMFUL] + [BENIGN] * 5
    report, _ = await _scan(tmp_path, rows)
    assert report.verdict == "allow_with_changes" and report.dropped_lines == [11]
    cleaned = tmp_path / "clean.jsonl"
    assert write_without_lines(tmp_path / "f.jsonl", cleaned, {11}) == 15
    assert "bomb" not in cleaned.read_text()


async def test_invalid_file_raises(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": []}\n')
    with pytest.raises(TrainingFileError):
        await ScanEngine(ScanProfile(classifiers=[KeywordClassifier()], detectors=list)).scan(path)
