"""Build ``safety-v1.jsonl``: harmful requests paired with refusals, for safety mixing (``augment``).

Prompts come only from permissively licensed sets in ``../shared/data`` (MANIFEST ``use`` = ship):

- ``red-instruct/catqa_english.json`` (CatQA; Apache-2.0): category → subcategory → questions;
- ``red-instruct/harmfulqa.json`` (HarmfulQA; Apache-2.0): topic → subtopic → questions;
- ``red-instruct/dangerousqa.json`` (DangerousQA; Apache-2.0): a list of questions;
- ``advbench/harmful_behaviors.csv`` (AdvBench; MIT): column ``goal``.

HarmfulQA, and CatQA's "Tailored Financial Advice" category, hold many questions that are not
harmful ("How to use calculus formulas to solve problems faster?"); refusing those would teach
the model to over-refuse, so from them only questions that name a clearly harmful aim are kept
(``HARM_MARKERS``) and questions about staying safe are dropped (``BENIGN_MARKERS``).

The refusals are this project's own: ``TEMPLATES`` holds 29 of them, grouped by harm category
(self-harm answers point at crisis lines, hacking answers at defensive security resources, ...).
A prompt's category comes from its CatQA subcategory where it has one and from keywords
otherwise; its template is drawn by a ``random.Random`` seeded with ``SEED`` and the prompt, so
a row's refusal does not depend on what else is in the set. Prompts are deduplicated (case and
whitespace ignored), prompts over ``MAX_PROMPT_CHARS`` dropped, and the rows shuffled with
``SEED``. The output is byte-for-byte reproducible:

    python -m policies.safety.build_safety_set [--data-dir ../shared/data] [--output PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = 20240601
MAX_PROMPT_CHARS = 1000
HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "safety-v1.jsonl"
DEFAULT_DATA_DIR = HERE.parents[1].parent / "shared" / "data"

GENERIC = "generic"
SELF_HARM = "self_harm"
CHILD = "child_safety"
SEXUAL = "sexual"
CYBER = "cyber"
DRUGS = "drugs"
VIOLENCE = "violence"
FRAUD = "fraud"
PRIVACY = "privacy"
HATE = "hate"
MISINFO = "misinformation"

TEMPLATES: dict[str, tuple[str, ...]] = {
    GENERIC: (
        "I can't help with that. It could seriously hurt people or break the law. If there's a related "
        "goal you're trying to reach safely and legally, I'm happy to help with that instead.",
        "Sorry, but I won't help with this request.",
        "I'm not able to assist with that, since it could cause real harm to others. "
        "Is there something else I can help you with?",
        "That's not something I can help with. If you're interested in the topic for research, writing "
        "or safety reasons, I can share general background that doesn't put anyone at risk.",
        "I have to decline this one: helping would risk harming people. I'd be glad to help with a "
        "different question.",
        "I can't do that. It could put people at risk or deceive them. Let me know if I can help with "
        "something else.",
        "No, I can't help with that request. If you tell me more about what you're ultimately trying to "
        "achieve, I may be able to suggest a legitimate way to approach it.",
    ),
    SELF_HARM: (
        "I'm really sorry you're going through this, but I can't give information that could be used "
        "for self-harm. You don't have to face it alone: in the US you can call or text 988 (Suicide & "
        "Crisis Lifeline), and elsewhere you can find a local crisis line at findahelpline.com or call "
        "emergency services. If you'd like, we can talk about what's going on.",
        "I can't help with that, because I care about your safety. If you're thinking about hurting "
        "yourself, please reach out now to a crisis line (988 in the US; findahelpline.com lists lines "
        "in other countries), to emergency services, or to someone you trust. I'm here to listen if you "
        "want to talk.",
    ),
    CHILD: (
        "I won't help with anything that could harm or exploit a child. If a child may be in danger, "
        "please contact emergency services or a child-protection hotline; in the US, the Childhelp "
        "hotline is 1-800-422-4453, and online exploitation can be reported to NCMEC's CyberTipline.",
        "No. I can't assist with this, because it could put children at risk. If you're worried about a "
        "child's safety, child-protection services or the police can help, and I'm happy to share "
        "information on keeping children safe online or on positive parenting.",
    ),
    SEXUAL: (
        "I can't help with that. Sexual content made without someone's consent, or meant to exploit or "
        "degrade them, causes serious harm. If you or someone you know has been affected by sexual "
        "abuse, RAINN's hotline (1-800-656-4673, in the US) offers free, confidential support.",
        "No, I won't assist with this. It involves sexual exploitation or a lack of consent, which I "
        "don't help with in any form.",
    ),
    CYBER: (
        "I can't help with creating malware or breaking into systems you don't own. If you're "
        "interested in security, I'm happy to point you to defensive resources instead: the OWASP Top "
        "10, the MITRE ATT&CK framework for understanding how attacks work, or legal practice "
        "environments such as capture-the-flag challenges.",
        "Sorry, I can't assist with unauthorized access, hacking or malicious code. If you're "
        "protecting your own systems, I can help with hardening, patching, monitoring or incident "
        "response.",
        "That would mean helping to attack computer systems or people's data, so I won't. To learn "
        "security the legitimate way, consider authorized penetration-testing courses, bug bounty "
        "programs with a clear scope, or the defensive guidance published by agencies such as CISA.",
    ),
    DRUGS: (
        "I can't help with making, getting or distributing illegal drugs. If you or someone you know "
        "is struggling with substance use, SAMHSA's free, confidential helpline (1-800-662-4357, in the "
        "US) is open 24/7, and I can share general health and harm-reduction information.",
        "Sorry, I can't assist with that: it involves illegal drugs and could endanger people's health. "
        "I'm happy to talk about how these substances affect the body, addiction treatment, or drug "
        "policy instead.",
    ),
    VIOLENCE: (
        "I can't help with that. Instructions for weapons or for hurting people could lead to serious "
        "injury or death. If you or someone else is in danger, please contact emergency services.",
        "I won't help with violence or with making weapons or dangerous materials. If you're feeling "
        "angry or thinking about hurting someone, talking to a counselor or someone you trust can help, "
        "and I'm glad to talk about conflict resolution or staying safe.",
    ),
    FRAUD: (
        "I can't help with fraud, scams or theft; they cause real financial harm to people. If you're "
        "trying to protect yourself or a business from this kind of scheme, I can explain common "
        "warning signs and safeguards.",
        "That would involve deceiving people or taking what isn't yours, so I won't help with it. If "
        "money is tight, I can suggest legitimate options such as budgeting tools, non-profit credit "
        "counseling, or talking to a qualified financial adviser.",
        "I can't assist with getting around financial laws or regulations. A licensed accountant, tax "
        "professional or lawyer can help you find legal ways to reach your goal.",
    ),
    PRIVACY: (
        "I can't help with spying on, tracking or exposing someone without their consent. That can put "
        "people in danger and is illegal in many places. If you're worried about your own privacy, I "
        "can help you secure your accounts and devices.",
        "I won't help access or collect someone's personal information without permission. If you need "
        "information for a legitimate reason, ask the person directly or go through the proper legal "
        "channels.",
    ),
    HATE: (
        "I won't help with content that demeans or targets people for who they are. If you're "
        "interested in the subject, I can share information about the history and impact of "
        "discrimination, or about how communities counter it.",
        "Sorry, I can't help with that. Promoting hatred or harassment hurts real people. I'd be happy "
        "to discuss these issues respectfully, or to help with something else.",
    ),
    MISINFO: (
        "I can't help create false or misleading content or manipulate people. If you want to make a "
        "case for something, I can help you build an honest, evidence-based argument.",
        "Sorry, I won't help with deceiving or manipulating people, whether through fake accounts, "
        "propaganda or disinformation. I can help you check facts, find reliable sources, or "
        "communicate persuasively and truthfully.",
    ),
}
# Categories whose answers must always carry their specific wording (crisis lines, hotlines).
SPECIFIC_ONLY = frozenset({SELF_HARM, CHILD, SEXUAL})
GENERIC_SHARE = 0.25  # other categories: this share of rows gets a generic refusal, for variety

# CatQA subcategory (the file's keys, trailing ":" removed) → refusal category.
CATQA_CATEGORIES: dict[str, str] = {
    "Drug": DRUGS,
    "Weapon": VIOLENCE,
    "Human Trafficking": VIOLENCE,
    "Cybercrime": CYBER,
    "Theft and Robbery": FRAUD,
    "Content Sexual exploitation": CHILD,
    "Physical abuse": CHILD,
    "Emotional and psychological abuse": CHILD,
    "Neglect": CHILD,
    "Online predation": CHILD,
    "Racial or ethnic hate": HATE,
    "Religious intolerance": HATE,
    "Gender-based violence": HATE,
    "Cyberbullying": HATE,
    "Terrorism and extremism": VIOLENCE,
    "Malicious software designed to spread and damage computers": CYBER,
    "Trojans": CYBER,
    "Spyware": CYBER,
    "Ransomware": CYBER,
    "Adware": CYBER,
    "Self-harm": SELF_HARM,
    "Assault and battery": VIOLENCE,
    "Hazardous material handling": VIOLENCE,
    "Unsafe practices": GENERIC,
    "Weapon making": VIOLENCE,
    "Financial fraud": FRAUD,
    "Intellectual property theft": FRAUD,
    "Market manipulation": FRAUD,
    "Employment scams": FRAUD,
    "Investment scams": FRAUD,
    "Identity theft": FRAUD,
    "Phishing": CYBER,
    "False advertising": MISINFO,
    "Scamming": FRAUD,
    "Counterfeiting": FRAUD,
    "Pornography": SEXUAL,
    "Erotic text": SEXUAL,
    "Nude imagery": SEXUAL,
    "Sexually explicit dialogue": SEXUAL,
    "Adult-themed humor": SEXUAL,
    "Election advertising": MISINFO,
    "Political misinformation": MISINFO,
    "Lobbying": MISINFO,
    "Political activism": MISINFO,
    "Partisan commentary": MISINFO,
    "Data theft": PRIVACY,
    "Surveillance": PRIVACY,
    "Doxxing": PRIVACY,
    "Deepfake creation": MISINFO,
    "Tracking and location monitoring": PRIVACY,
    "Personal investment advice": FRAUD,
    "Retirement planning": FRAUD,
    "Tax planning": FRAUD,
    "Real estate investment": FRAUD,
    "Debt management": FRAUD,
}
# CatQA categories whose questions are filtered like HarmfulQA's (many are ordinary advice).
CATQA_FILTERED = frozenset({"Tailored Financial Advice"})

# Keyword routing for prompts without a CatQA subcategory; the first matching category wins.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    (
        SELF_HARM,
        r"suicid\w*|self[- ]harm\w*|kill (?:myself|yourself|themselves)|"
        r"(?:hurt|harm|cut|starve) (?:myself|yourself|themselves)|anorexi\w*|bulimi\w*|eating disorder",
    ),
    (CHILD, r"child\w*|minors?|underage|kids?|pedophil\w*|groom\w*"),
    (SEXUAL, r"porn\w*|sexual\w*|sex|nude\w*|rape\w*|non-?consensual|explicit"),
    (
        CYBER,
        r"hack\w*|malware|virus(?:es)?|ransomware|trojans?|spyware|keylog\w*|botnets?|ddos|"
        r"(?:software|security|system|network|zero-day) vulnerabilit\w*|sql injection|passwords?|phish\w*|"
        r"cyber(?!bull)\w*|backdoors?|rootkits?|computer systems?|denial[- ]of[- ]service|credentials?",
    ),
    (DRUGS, r"drugs?|meth|methamphetamines?|cocaine|heroin|fentanyl|narcotic\w*|opioids?|lsd|mdma|steroids?"),
    (
        VIOLENCE,
        r"weapons?|arms|guns?|firearms?|bombs?|explosiv\w*|kill\w*|murder\w*|assault\w*|"
        r"poison\w*|terror\w*|shoot\w*|stab|stabb\w*|violen\w*|injur\w*|attack\w*|torture\w*|"
        r"kidnap\w*|abduct\w*|traffick\w*|bioweapon\w*|chemical|toxins?|riots?|arson",
    ),
    (
        FRAUD,
        r"fraud\w*|scam\w*|launder\w*|embezzl\w*|counterfeit\w*|forg(?:e|ed|es|ing|ery)|"
        r"identity theft|insider trading|ponzi|pyramid scheme|tax(?:es)? evasion|evad\w* tax\w*|"
        r"steal\w*|stole\w*|theft|shoplift\w*|rob|robb\w*|brib\w*|invoices?|expense reports?|"
        r"insurance|credit cards?|money|financial|market",
    ),
    (
        PRIVACY,
        r"personal (?:data|information|details)|spy\w*|surveil\w*|track\w*|dox\w*|stalk\w*|"
        r"privacy|private|someone's (?:accounts?|emails?|phones?|messages?)|location",
    ),
    (
        HATE,
        r"hate\w*|hatred|racis\w*|sexis\w*|homophob\w*|transphob\w*|xenophob\w*|"
        r"discriminat\w*|stereotyp\w*|bull(?:y|ying|ied)|harass\w*|intimidat\w*|extremis\w*|"
        r"supremac\w*|slurs?|dehumaniz\w*|bigot\w*|prejudic\w*|intoleran\w*|"
        r"minorit\w*|immigra\w*|religio\w*|ethnic\w*",
    ),
    (
        MISINFO,
        r"misinformation|disinformation|fake news|propaganda|manipulat\w*|mislead\w*|"
        r"conspirac\w*|elections?|deceiv\w*|decept\w*|false|fake|lies|lie|brainwash\w*|rumou?rs?",
    ),
)
KEYWORDS = tuple(
    (category, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)) for category, pattern in _KEYWORDS
)

# A question from a filtered source is kept only if it names a clearly harmful aim ...
HARM_MARKERS = re.compile(
    r"\b(?:manipulat\w*|exploit\w*|steal\w*|cheat\w*|fraud\w*|harm|harming|harmful|hate|hatred|"
    r"illegal\w*|without (?:getting caught|being caught|being detected|detection|(?:their |the )?"
    r"(?:consent|permission|knowledge))|get away with|deceiv\w*|decept\w*|discriminat\w*|"
    r"stereotyp\w*|sabotag\w*|plagiari\w*|weapons?|bombs?|explosiv\w*|poison\w*|kill\w*|murder\w*|"
    r"hack\w*|malware|ransomware|phish\w*|scam\w*|embezzl\w*|launder\w*|brib\w*|counterfeit\w*|"
    r"forg(?:e|ed|ing|ery)|fake|falsif\w*|fabricat\w*|misinformation|disinformation|propaganda|"
    r"misleading|mislead|coerc\w*|blackmail\w*|extort\w*|abus\w*|bully\w*|harass\w*|stalk\w*|"
    r"intimidat\w*|terror\w*|extremis\w*|racis\w*|sexis\w*|homophob\w*|transphob\w*|xenophob\w*|"
    r"dehumaniz\w*|humiliat\w*|traumatiz\w*|gaslight\w*|evad\w*|evasion|smuggl\w*|traffick\w*|"
    r"unethical\w*|unfair advantage|censor\w*|oppress\w*|insider trading|ponzi|pirat\w*|"
    r"infring\w*|spy|spying|surveil\w*|dox\w*|personal information|avoid (?:paying|accountability|"
    r"responsibility|consequences|taxes)|cover up|take advantage|vulnerable|destabiliz\w*|coup|"
    r"incit\w*|riots?|torture\w*|violen\w*|assault\w*|injur\w*|predatory)\b",
    re.IGNORECASE,
)
# ... and does not ask how to stay safe from one, or about fiction or legal tax planning.
BENIGN_MARKERS = re.compile(
    r"\b(?:safe|safely|safety|prevent\w*|protect\w*|detect|identify|recogni[sz]e|spot|defend\w*|"
    r"combat\w*|avoid being|reduce|report|minimi[sz]e taxes|story|stories|novel|fiction|writing)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    source: str
    category: str | None = None  # from the source's own labels; None = route by keywords
    filtered: bool = False  # apply HARM_MARKERS / BENIGN_MARKERS


def _catqa(data_dir: Path) -> Iterator[Prompt]:
    tree = json.loads((data_dir / "red-instruct" / "catqa_english.json").read_text(encoding="utf-8"))
    for category, subcategories in tree.items():
        for subcategory, questions in subcategories.items():
            label = CATQA_CATEGORIES.get(subcategory.rstrip(": "))
            for question in questions:
                yield Prompt(question, "catqa", label, filtered=category in CATQA_FILTERED)


def _harmfulqa(data_dir: Path) -> Iterator[Prompt]:
    tree = json.loads((data_dir / "red-instruct" / "harmfulqa.json").read_text(encoding="utf-8"))
    for subtopics in tree.values():
        for questions in subtopics.values():
            for question in questions:
                yield Prompt(question, "harmfulqa", filtered=True)


def _dangerousqa(data_dir: Path) -> Iterator[Prompt]:
    for question in json.loads((data_dir / "red-instruct" / "dangerousqa.json").read_text(encoding="utf-8")):
        yield Prompt(question, "dangerousqa")


def _advbench(data_dir: Path) -> Iterator[Prompt]:
    with (data_dir / "advbench" / "harmful_behaviors.csv").open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            yield Prompt(record["goal"], "advbench")


SOURCES = (_catqa, _harmfulqa, _dangerousqa, _advbench)


def normalise(text: str) -> str:
    """The dedupe key: case and runs of whitespace ignored."""
    return " ".join(text.split()).casefold()


def keep(prompt: Prompt) -> bool:
    text = prompt.text
    if not text.strip() or len(text) > MAX_PROMPT_CHARS:
        return False
    if prompt.filtered:
        return bool(HARM_MARKERS.search(text)) and not BENIGN_MARKERS.search(text)
    return True


def category_of(prompt: Prompt) -> str:
    if prompt.category is not None:
        return prompt.category
    for category, pattern in KEYWORDS:
        if pattern.search(prompt.text):
            return category
    return GENERIC


def refusal_for(prompt: Prompt) -> str:
    """A template for the prompt's category, drawn by an RNG seeded with ``SEED`` and the prompt."""
    rng = random.Random(f"{SEED}:{normalise(prompt.text)}")
    category = category_of(prompt)
    if category == GENERIC or (category not in SPECIFIC_ONLY and rng.random() < GENERIC_SHARE):
        return rng.choice(TEMPLATES[GENERIC])
    return rng.choice(TEMPLATES[category])


def collect(data_dir: Path) -> list[Prompt]:
    """Every kept prompt once (first occurrence in source order), whitespace-trimmed."""
    seen: set[str] = set()
    prompts = []
    for source in SOURCES:
        for prompt in source(data_dir):
            prompt = Prompt(prompt.text.strip(), prompt.source, prompt.category, prompt.filtered)
            key = normalise(prompt.text)
            if key in seen or not keep(prompt):
                continue
            seen.add(key)
            prompts.append(prompt)
    return prompts


def rows(data_dir: Path) -> list[dict]:
    prompts = collect(data_dir)
    random.Random(SEED).shuffle(prompts)
    return [
        {
            "messages": [
                {"role": "user", "content": prompt.text},
                {"role": "assistant", "content": refusal_for(prompt)},
            ]
        }
        for prompt in prompts
    ]


def build(data_dir: Path = DEFAULT_DATA_DIR, output: Path = DEFAULT_OUTPUT) -> int:
    """Write the set to ``output`` (UTF-8, one JSON object per line, ``\\n`` endings); the row count."""
    data_dir, output = Path(data_dir), Path(output)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"shared data sets not found at {data_dir}")
    built = rows(data_dir)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in built)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(text.encode("utf-8"))
    return len(built)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the shared data sets")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSONL")
    args = parser.parse_args(argv)
    count = build(args.data_dir, args.output)
    print(f"wrote {count} rows to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
