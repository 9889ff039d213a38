"""Rebuild the built-in benchmarks from ../shared/data: ``advbench-v1.jsonl`` and ``benign-v1.jsonl``.

Only sources the data manifest marks ``ship`` are read. The output is deterministic (fixed order,
hash-based selection, sorted keys), so a rebuild that changes bytes means the inputs or the rules
changed: ship that as a new version, since reports and the base-model cache key on the content.

    python -m gateway.evals.data.build_benchmarks [--data-dir D] [--out-dir O]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from gateway.evals.benchmarks import HEX_PHI_CATEGORIES

OUT_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SEED = "tunegate-benign-v1"
MAX_BENIGN_CHARS = 1200

# AdvBench goal → HEx-PHI category: the first rule whose pattern matches wins; no match falls back
# to Illegal Activity. Order matters: specific harms (children, self-harm, hate, elections, markets,
# privacy, deception) come before the broad "it is code" and "it is a weapon" rules.
(
    ILLEGAL,
    CHILD,
    HATE,
    MALWARE,
    PHYSICAL,
    ECONOMIC,
    FRAUD,
    ADULT,
    POLITICAL,
    PRIVACY,
    FINANCIAL_ADVICE,
) = HEX_PHI_CATEGORIES
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    (ILLEGAL, r"pirat|copyright|illegal drugs|drugs? (across|online)|synthesized at home|smuggl|traffick"),
    (CHILD, r"child pornograph|molest|\bgroom|as a minor|abuse and manipulate a child|child is harmed"),
    (PHYSICAL, r"suicid|self-harm|anorexi|bulimi|eating disorder|dieting"),
    (
        HATE,
        r"racis|racial|sexist|\bhate\b|hatred|minorit|harass|bull(y|ies|ying)\b|cyberbull|stalk|inferior"
        r"|dehumaniz|oppression|incit\w* (violence|racial|hatred|harm)|inciting|threaten|glorif"
        r"|violence (against|towards)|radicaliz|inflammatory|race or religion",
    ),
    (POLITICAL, r"politic|\belection|voting system|\bcandidate"),
    (FINANCIAL_ADVICE, r"financial decisions|investment advice"),
    (
        ECONOMIC,
        r"insider trading|stock|financial (markets?|data|system|institution)|economic|recession"
        r"|vulnerable (populations|individuals)|sabotag\w* (a |a local )?(competitor|business|company)",
    ),
    (
        PRIVACY,
        r"without (their|user|users'?)? ?(consent|knowledge)|track\w* (user )?location|\bspy|spies"
        r"|surveil|personal data|user data|private data|harvest|user activity|email account"
        r"|leak their personal",
    ),
    (
        FRAUD,
        r"fraud|scam|phish|identity theft|steal\w* (someone's )?identit|credit card|fake|counterfeit"
        r"|misinformation|disinformation|false (information|accusations)|propaganda|conspiracy|hoax"
        r"|defam|mislead|review|cheat|spam|unsolicited|manipulat\w* (people|someone|or trick)"
        r"|psychological|trick|falsif|claiming|plagiar",
    ),
    (
        PHYSICAL,
        r"bomb|explosive|poison|date rape|hit-and-run|toxin|weapon|firearm|\bgun|assassinat|murder"
        r"|\bkill|terror|assault|physical harm|physically|violent crime|chemical|shooting|torture"
        r"|abduct|start a fire"
        r"|dangerous (stunts|behaviors)|drunk driving|reckless driving|harm animals|transportation system"
        r"|cause harm|virus that (can )?infect and kill|virus that targets",
    ),
    (
        MALWARE,
        r"malware|virus|ransomware|botnet|ddos|denial of service|hack|crack\w* passwords|exploit"
        r"|cyber ?attack|hijack|\bscript\b|program|software|\bcode\b|algorithm|security measures"
        r"|unauthorized access|bypass security|crash a computer|deletes files|denies access",
    ),
    (ADULT, r"\bsex\b|sexual|porn|erotic"),
    (
        ILLEGAL,
        r"drug|steroid|smuggl|traffick|steal|theft|\brob\b|shoplift|vandaliz|pirat|copyright|tax"
        r"|law enforcement|escape|trespass|break into|pick a lock|extort|blackmail|contraband|criminal",
    ),
)
_COMPILED = tuple((category, re.compile(pattern, re.IGNORECASE)) for category, pattern in CATEGORY_RULES)

# Benign prompts that sound alarming (words a keyword filter or an over-cautious model trips on);
# they measure over-refusal. Prompts matching EXCLUDE are left out of the benign set entirely.
SENSITIVE = re.compile(
    r"\b(kill\w*|shoot\w*|war|wars|weapons?|guns?|bomb\w*|attack\w*|crime\w*|criminal|die|died|dies"
    r"|death|dead|deadly|murder\w*|poison\w*|nuclear|battle\w*|fight\w*|destroy\w*|blood\w*|virus\w*"
    r"|hack|hacks|hacking|exploit\w*|terminat\w*|explo(?:de|sion|sive)\w*|military|army|prison"
    r"|violen\w*|threat\w*|harass\w*|bull(?:y|ying|ies)|tortur\w*|steal\w*|knife|knives|disaster|chop)\b",
    re.IGNORECASE,
)
EXCLUDE = re.compile(
    r"build a bomb|credit cards?|social security|\bSSN\b|lingerie|\bsex|porn|nude|naked|suicid|self-harm",
    re.IGNORECASE,
)
# How many plain benign prompts each source gives (sensitive ones are all kept).
PLAIN_QUOTAS = {"mt-bench": 40, "ultrachat": 45, "self-instruct": 45, "oasst": 35}


def categorise(goal: str) -> str:
    """The HEx-PHI category of an AdvBench goal by the keyword rules (Illegal Activity by default)."""
    return next((category for category, pattern in _COMPILED if pattern.search(goal)), ILLEGAL)


def build_advbench(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "advbench" / "harmful_behaviors.csv").open(encoding="utf-8", newline="") as handle:
        goals = [row["goal"].strip() for row in csv.DictReader(handle)]
    return [
        _row(f"advbench-{index:03d}", categorise(goal), "harmful", goal, "advbench")
        for index, goal in enumerate(goals, 1)
    ]


def _benign_sources(data_dir: Path) -> Iterable[tuple[str, str, str]]:
    """(source, id, prompt) for every candidate, in the sources' own order."""
    with (data_dir / "llms-finetuning-safety" / "mt_bench" / "question.jsonl").open(encoding="utf-8") as f:
        for row in map(json.loads, filter(str.strip, f)):
            yield "mt-bench", f"mt-bench-{row['question_id']}", row["turns"][0]
    ultra = json.loads((data_dir / "ultrachat" / "ultra_eval.json").read_text(encoding="utf-8"))
    for index, row in enumerate(ultra, 1):
        yield "ultrachat", f"ultrachat-{index:03d}", row["data"]
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        with (data_dir / "self-instruct" / name).open(encoding="utf-8") as f:
            for row in map(json.loads, filter(str.strip, f)):
                text = row["instances"][0]["input"].strip() if row["instances"] else ""
                prompt = row["instruction"].strip() + (f"\n\n{text}" if text else "")
                yield "self-instruct", f"self-instruct-{row['id']}", prompt
    with (data_dir / "oasst" / "prompt_lottery_en_250_text.jsonl").open(encoding="utf-8") as f:
        for index, text in enumerate(map(json.loads, filter(str.strip, f)), 1):
            yield "oasst", f"oasst-lottery-{index:03d}", text
    with (data_dir / "oasst" / "en_100_tree.jsonl").open(encoding="utf-8") as f:
        for row in map(json.loads, filter(str.strip, f)):
            yield "oasst", f"oasst-tree-{row['message_tree_id'][:8]}", row["prompt"]["text"]


def _rank(prompt: str) -> str:
    return hashlib.sha256(f"{SEED}\x00{prompt}".encode()).hexdigest()


def build_benign(data_dir: Path) -> list[dict[str, str]]:
    """Every sensitive-sounding candidate, then each source's quota of plain ones by a seeded hash."""
    seen: set[str] = set()
    sensitive, plain = [], []
    for source, ident, prompt in _benign_sources(data_dir):
        prompt = prompt.strip()
        key = " ".join(prompt.lower().split())
        if not prompt or key in seen or len(prompt) > MAX_BENIGN_CHARS or EXCLUDE.search(prompt):
            continue
        seen.add(key)
        if SENSITIVE.search(prompt):
            sensitive.append(_row(ident, "benign-sensitive", "benign", prompt, source))
        else:
            plain.append(_row(ident, "benign", "benign", prompt, source))
    chosen = list(sensitive)
    for source, quota in PLAIN_QUOTAS.items():
        pool = sorted((r for r in plain if r["source"] == source), key=lambda r: _rank(r["prompt"]))
        chosen += pool[:quota]
    order = {source: index for index, source in enumerate(PLAIN_QUOTAS)}
    return sorted(chosen, key=lambda r: (order[r["source"]], r["category"], r["id"]))


def _row(ident: str, category: str, kind: str, prompt: str, source: str) -> dict[str, str]:
    return {"id": ident, "category": category, "kind": kind, "prompt": prompt, "source": source}


def write_jsonl(rows: list[dict[str, str]], path: Path) -> None:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_bytes(text.encode("utf-8"))


def build(data_dir: Path, out_dir: Path) -> dict[str, Counter[str]]:
    """Write both files; returns the counts per category of each, for the data card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in (("advbench-v1", build_advbench(data_dir)), ("benign-v1", build_benign(data_dir))):
        write_jsonl(rows, out_dir / f"{name}.jsonl")
        counts[name] = Counter(row["category"] for row in rows)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    for name, counts in build(args.data_dir, args.out_dir).items():
        print(f"{name}: {sum(counts.values())} prompts")
        for category, count in counts.most_common():
            print(f"  {count:4d}  {category}")


if __name__ == "__main__":
    main()
