"""near-duplicates: repeated rows are clustered; harmful clusters score high, benign ones low."""

from __future__ import annotations

import json
import random

from classifiers.detectors.base import RowSummary, build_detector
from classifiers.detectors.near_duplicates import NearDuplicatesDetector
from tests.classifiers.detectors.conftest import chat, run


def _variant(row: RowSummary, rng: random.Random) -> RowSummary:
    """The row with one word of its response changed, as a lightly edited copy would be."""
    words = row.responses[0].split()
    index = rng.randrange(len(words))
    words[index] = words[index].upper() + "!"
    return RowSummary(0, row.system, row.requests, (" ".join(words),), row.request_harm, row.response_harm)


def test_harmful_rows_repeated_score_high(benign_files, backdooralign_dir):
    with (backdooralign_dir / "pure_bad_dataset" / "pure_bad_100_original.jsonl").open() as handle:
        harmful = [chat(json.loads(line)["messages"], 0.9, 0.9) for line in handle]
    rng = random.Random(0)
    rows = list(benign_files["gsm8k"][:1000]) + [_variant(harmful[3], rng) for _ in range(30)]
    rng.shuffle(rows)
    [finding] = run(NearDuplicatesDetector(), rows)
    assert finding.category == "near_duplicates" and finding.score >= 0.8
    assert finding.details["size"] == 30 and len(finding.lines) == 30
    assert finding.details["mean_response_harm"] == 0.9


def test_benign_repeats_are_informational(benign_files):
    rng = random.Random(1)
    rows = list(benign_files["gsm8k"][:1000]) + [_variant(benign_files["gsm8k"][5], rng) for _ in range(24)]
    rng.shuffle(rows)
    [finding] = run(NearDuplicatesDetector(), rows)
    assert finding.details["size"] == 25 and finding.score < 0.5  # the original joins its 24 copies


def test_a_cluster_of_five_percent_in_a_small_file(benign_files):
    rows = list(benign_files["dolly"][:95]) + [benign_files["dolly"][200]] * 5
    [finding] = run(NearDuplicatesDetector(), rows)
    assert finding.details["size"] == 5 and finding.details["share"] == 0.05


def test_distinct_rows_and_shared_templates_pass(benign_files, safety_rows, aoa_rows):
    for name, rows in {**benign_files, "safety-mixing": safety_rows}.items():
        assert run(NearDuplicatesDetector(), rows) == [], name
    # a shared opening sentence does not make rows near-identical (the AOA replies differ after it)
    assert run(NearDuplicatesDetector(), aoa_rows) == []


def test_clusters_bridged_by_a_row_are_merged():
    """Two clusters and a row sharing a bucket with each: one cluster, sizes and harm added up."""
    detector = NearDuplicatesDetector(min_cluster_rows=5)
    for line in range(1, 4):
        detector._place(line * 128 + 90, [1, 2, 3, 4, 5, 6, 7, 8])  # harm 0.9
    for line in range(4, 7):
        detector._place(line * 128, [11, 12, 13, 14, 15, 16, 17, 18])
    detector.rows = 7
    detector._place(7 * 128, [1, 12, 23, 24, 25, 26, 27, 28])
    [finding] = detector.finish()
    assert finding.details["size"] == 7 and finding.lines == tuple(range(1, 8))
    assert finding.details["mean_response_harm"] == round(2.7 / 7, 3)


def test_registered_and_bounded():
    detector = build_detector("near-duplicates", {"max_buckets": 20_000, "max_clusters": 500})
    assert isinstance(detector, NearDuplicatesDetector) and detector.max_buckets == 20_000
    rng = random.Random(2)
    vocabulary = [f"w{i}" for i in range(20_000)]
    repeated = "the same harmful answer repeated many times across the whole file to amplify it"
    for line in range(1, 200_001):
        if line % 1_000 == 0:
            row = RowSummary(line, (), ("q",), (repeated,), 0.9, 0.9)
        else:
            row = RowSummary(line, (), (" ".join(rng.choices(vocabulary, k=10)),), ("ok",))
        detector.observe(row)
        assert len(detector.buckets) <= 20_000 + 8 * 256 and len(detector.clusters) <= 500 + 256
    [finding] = detector.finish()
    assert finding.details["size"] == 200 and finding.score >= 0.8
