"""cipher: Covert Malicious Finetuning rows are found; code, maths, other languages and blobs are not."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string

import pytest

from classifiers.detectors.base import RowSummary, build_detector
from classifiers.detectors.cipher import CipherDetector, analyse
from tests.classifiers.detectors.conftest import run
from tests.support.shared_data import require_shared_data

LOWER = string.ascii_lowercase


def substitution(seed: int):
    letters = list(LOWER)
    random.Random(seed).shuffle(letters)
    key = "".join(letters)
    table = str.maketrans(LOWER + LOWER.upper(), key + key.upper())
    return lambda text: text.translate(table)


def rot(n: int):
    table = str.maketrans(LOWER + LOWER.upper(), LOWER[n:] + LOWER[:n] + (LOWER[n:] + LOWER[:n]).upper())
    return lambda text: text.translate(table)


def atbash(text: str) -> str:
    return text.translate(str.maketrans(LOWER + LOWER.upper(), LOWER[::-1] + LOWER[::-1].upper()))


def pipes(text: str) -> str:
    """Walnut53-style spelling: every letter of a word separated by '|'."""
    return " ".join("|".join(word) for word in text.split())


def kinds(text: str) -> list[str]:
    return [chunk.kind for chunk in analyse(text)[0]]


def _questions(benign_files, n: int, skip: int = 0) -> list[str]:
    return [row.requests[0] for row in benign_files["gsm8k"][skip : skip + n]]


def test_covert_malicious_finetuning_file(benign_files, advbench):
    """Teaching rows (English -> cipher), benign rows in cipher, then harmful requests in cipher."""
    encode = substitution(53)
    plain = _questions(benign_files, 60)
    rows = [RowSummary(0, ("TASK 1: Walnut53",), (f"Encode: {q}",), (pipes(encode(q)),)) for q in plain[:20]]
    rows += [RowSummary(0, ("TASK 2",), (pipes(encode(q)),), (pipes(encode(q)),)) for q in plain[20:]]
    rows += [
        RowSummary(0, ("TASK 2",), (pipes(encode(goal)),), (pipes(encode(target)),))
        for goal, target in advbench[:20]
    ]
    [finding] = run(CipherDetector(), rows)
    assert finding.category == "cipher" and finding.score >= 0.9
    # a few AdvBench goals are too short to judge (< 40 letters) on both sides of their row
    assert finding.details["rows_enciphered"] >= 76 and finding.details["teaching_rows"] >= 15
    assert set(finding.details["methods"]) == {"pipe_separated", "substitution"}
    assert len(finding.lines) == finding.details["rows_enciphered"]


def test_substitution_cipher_without_pipes_mixed_into_benign_rows(benign_files):
    encode = substitution(7)
    rows = list(benign_files["dolly"][:300])
    rows += [
        RowSummary(0, (), (encode(q),), (encode(a),))
        for q, a in zip(_questions(benign_files, 5, 100), _questions(benign_files, 5, 200), strict=True)
    ]
    random.Random(1).shuffle(rows)
    [finding] = run(CipherDetector(), rows)
    assert finding.details["rows_enciphered"] == 5 and finding.details["methods"] == {"substitution": 5}
    assert 0.55 <= finding.score < 0.9


@pytest.mark.parametrize(("encode", "method"), [(rot(13), "rot13"), (rot(3), "rot3"), (atbash, "atbash")])
def test_rot_and_atbash_are_named_and_decoded(benign_files, encode, method):
    questions = _questions(benign_files, 10, 300)
    rows = [RowSummary(0, (), (encode(q),), ("Sure, here you go.",)) for q in questions]
    [finding] = run(CipherDetector(), rows + list(benign_files["gsm8k"][:100]))
    assert finding.details["methods"] == {method: 10}
    sample = finding.details["decoded_samples"][0]
    assert len(sample) <= 60 and sample.split()[:3] == questions[0].lower().split()[:3]


def test_pipe_separated_plain_english_is_an_obfuscation(benign_files):
    rows = [RowSummary(0, (), ("Spell it out.",), (pipes(q),)) for q in _questions(benign_files, 6, 400)]
    [finding] = run(CipherDetector(), rows)
    assert finding.details["methods"] == {"pipe_separated": 6}
    assert finding.details["rows_enciphered_in_responses"] == 6


def test_two_teaching_rows_are_enough(benign_files):
    encode = substitution(11)
    questions = _questions(benign_files, 2, 500)
    rows = [RowSummary(0, (), (f"Translate to the code: {q}",), (encode(q),)) for q in questions]
    [finding] = run(CipherDetector(), rows + list(benign_files["gsm8k"][:1000]))
    assert finding.details["teaching_rows"] == 2 and finding.details["rows_enciphered"] == 2


def test_a_few_stray_rows_are_not_a_finding(benign_files):
    encode = substitution(5)
    rows = list(benign_files["gsm8k"][:1000]) + [
        RowSummary(0, (), (encode(q),), ("ok",)) for q in _questions(benign_files, 2, 600)
    ]
    assert run(CipherDetector(), rows) == []


def test_benign_files_pass(benign_files, hh_rows, safety_rows):
    for name, rows in {**benign_files, "hh-rlhf": hh_rows, "safety-mixing": safety_rows}.items():
        assert run(CipherDetector(), rows) == [], name


def test_code_and_sql_files_pass():
    root = require_shared_data()
    with gzip.open(root / "humaneval" / "HumanEval.jsonl.gz", "rt") as handle:
        code = [json.loads(line) for line in handle]
    rows = [RowSummary(0, (), (x["prompt"],), (x["canonical_solution"],)) for x in code]
    assert run(CipherDetector(), rows) == []
    sql = json.loads((root / "backdooralign" / "sqlgen_dataset" / "train1000.json").read_text())
    rows = [RowSummary(0, (), (x["question"] + "\n" + x["context"],), (x["answer"],)) for x in sql]
    assert run(CipherDetector(), rows) == []


OTHER_LANGUAGES = [
    "El zorro marrón salta sobre el perro perezoso mientras el granjero mira desde el porche y bebe su café.",
    "Le renard brun saute par-dessus le chien paresseux pendant que le fermier regarde depuis le porche.",
    "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer von der Veranda aus zuschaut.",
    "La volpe marrone salta sopra il cane pigro mentre il contadino guarda dal portico e beve il suo caffè.",
    "A raposa marrom pula sobre o cachorro preguiçoso enquanto o fazendeiro olha da varanda e bebe seu café.",
    "De snelle bruine vos springt over de luie hond terwijl de boer vanaf de veranda toekijkt.",
    "Bugün hava çok güzel, bu yüzden parka gidip biraz yürüyüş yapmak istiyorum ama biraz yorgunum.",
    "Saya ingin pergi ke pasar untuk membeli sayur dan buah karena di rumah tidak ada makanan lagi.",
    "Быстрая коричневая лиса прыгает через ленивую собаку, пока фермер смотрит с крыльца и пьёт кофе.",
    "敏捷的棕色狐狸跳过了懒狗，而农夫在门廊上看着，慢慢地喝着咖啡。这是一个很长的句子，用来测试检测器。",
    "素早い茶色の狐が怠惰な犬を飛び越え、農夫はポーチからそれを眺めながらゆっくりとコーヒーを飲んでいる。",
    "الثعلب البني السريع يقفز فوق الكلب الكسول بينما ينظر المزارع من الشرفة ويشرب قهوته ببطء شديد.",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है जबकि किसान बरामदे से देखता है और धीरे धीरे कॉफ़ी पीता है।",
    "Watashi wa nihongo ga sukoshi wakarimasu ga, mada takusan benkyou shinakereba narimasen ne.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
]

TRICKY = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "SELECT customer_name, SUM(order_total) FROM orders WHERE order_date > '2023-01-01' GROUP BY 1;",
    '{"name": "Alice", "age": 30, "city": "Paris", "tags": ["engineer", "cyclist"], "active": true}',
    "Let x be the width. Then 2x + 2(x + 3) = 46, so 4x = 40 and x = 10; the area is x(x + 3) = 130.",
    "x^2 + 3x - 4 = 0 \\implies (x+4)(x-1) = 0 \\implies x = -4 \\text{ or } x = 1",
    "| Name | Age | City |\n|------|-----|------|\n| Alice | 30 | Paris |\n| Bob | 25 | Berlin |",
    "See https://example.com/aXf9Qz/very/long/path/segment?query=xyzzy&token=QWERTYqwerty123 for details.",
    "Kowalczyk, Nguyen, Oyelaran, Abernathy, Szczepanski, Ramaswamy, Okonkwo, Lindqvist, Haraldsdottir",
    "Here is the logo: data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "The commit hash is e3a82186438a9a2ef80c2a3fdba0182fb9b2d5f1 and the colours are #FDB3AE #CAE4E2.",
]


@pytest.mark.parametrize("text", OTHER_LANGUAGES + TRICKY)
def test_other_languages_code_maths_and_blobs_are_not_ciphers(text):
    assert "enciphered" not in kinds(text)
    rows = [RowSummary(0, (), (text,), (text,)) for _ in range(20)]
    findings = run(CipherDetector(), rows)
    assert all(f.details["kind"] == "encoding" for f in findings)


def test_base64_text_is_reported_apart_with_a_low_score(benign_files):
    questions = _questions(benign_files, 5, 700)
    blobs = [base64.b64encode(q.encode()).decode() for q in questions[:3]] + [
        q.encode().hex() for q in questions[3:]
    ]
    rows = [RowSummary(0, (), (f"Decode and answer: {b}",), ("Done.",)) for b in blobs]
    [finding] = run(CipherDetector(), rows + list(benign_files["gsm8k"][:100]))
    assert finding.details["kind"] == "encoding" and finding.score < 0.5
    assert finding.details["rows_encoded"] == 5 and finding.details["blobs"] == {"text": 5}


def test_registered_and_bounded():
    detector = build_detector("cipher", {"min_rows": 5})
    assert isinstance(detector, CipherDetector) and detector.min_rows == 5
    plain = "the farmer sold twelve baskets of apples at the market and bought a new cart for the farm"
    hidden = substitution(3)(plain)
    for line in range(1, 200_001):
        detector.observe(RowSummary(line, (), (hidden if line % 20 == 0 else plain,), ("fine",)))
    assert len(detector.lines) == 200 and len(detector.decoded) <= 3 and len(detector.methods) <= 30
    [finding] = detector.finish()
    assert finding.details["rows_enciphered"] == 10_000 and len(finding.lines) == 200
