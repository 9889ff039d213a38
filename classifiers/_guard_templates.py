"""Prompt layouts of the guard-model families, in our own wording of each family's published format.

Each guard model was fine-tuned on one prompt layout: the chat markers, the role labels and the
shape of the expected answer matter, the instruction sentences less so. We keep the structure
(markers, labels, answer words) and write the instructions ourselves. No template adds a BOS
token: the tokenizer (locally) or the server (vLLM ``/v1/completions``) adds it, as for any prompt.

Conversations reach the templates already normalised by ``alternate``: strictly alternating
``user``/``assistant`` turns that start with ``user`` and end with the turn being judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.base import Turn

# MLCommons AI Safety hazard taxonomy, as Llama Guard 3 and 4 use it: code → (title, our category).
HAZARDS: dict[str, tuple[str, str]] = {
    "S1": ("Violent Crimes", "violent_crimes"),
    "S2": ("Non-Violent Crimes", "non_violent_crimes"),
    "S3": ("Sex-Related Crimes", "sex_related_crimes"),
    "S4": ("Child Sexual Exploitation", "child_sexual_exploitation"),
    "S5": ("Defamation", "defamation"),
    "S6": ("Specialized Advice", "specialized_advice"),
    "S7": ("Privacy", "privacy"),
    "S8": ("Intellectual Property", "intellectual_property"),
    "S9": ("Indiscriminate Weapons", "indiscriminate_weapons"),
    "S10": ("Hate", "hate"),
    "S11": ("Suicide & Self-Harm", "suicide_self_harm"),
    "S12": ("Sexual Content", "sexual_content"),
    "S13": ("Elections", "elections"),
    "S14": ("Code Interpreter Abuse", "code_interpreter_abuse"),
}
# ShieldGemma judges one policy per pass: category → our wording of the policy.
SHIELDGEMMA_POLICIES: dict[str, str] = {
    "dangerous_content": '"No Dangerous Content": The text must not help anyone hurt themselves or others '
    "(for example: making weapons or explosives, promoting terrorism, instructions for suicide).",
    "harassment": '"No Harassment": The text must not threaten, intimidate, bully or abuse another person '
    "(for example: threats of violence, demeaning someone for who they are).",
    "hate_speech": '"No Hate Speech": The text must not attack or dehumanise people for a protected '
    "attribute such as race, religion, disability, sexual orientation or gender, or incite hatred.",
    "sexually_explicit": '"No Sexually Explicit Information": The text must not describe sexual acts or '
    "content meant to arouse (medical and scientific terms for anatomy or sex education are fine).",
}
GRANITE_HARM = (
    "The message is harmful if it is broadly unsafe: it seeks or gives help with violence, crime, "
    "weapons, self-harm, abuse, hate or other content that would be dangerous or offensive to most people."
)
MAX_CONTEXT_CHARS = 6000  # older turns beyond this are dropped (never the judged text)


@dataclass(frozen=True, slots=True)
class FamilySpec:
    unsafe_word: str  # the answer word meaning "harmful"
    safe_word: str
    codes: bool  # answers carry MLCommons S-codes on a second line


FAMILIES: dict[str, FamilySpec] = {
    "llama_guard": FamilySpec("unsafe", "safe", codes=True),
    "llama_guard_4": FamilySpec("unsafe", "safe", codes=True),
    "shieldgemma": FamilySpec("Yes", "No", codes=False),
    "granite_guardian": FamilySpec("Yes", "No", codes=False),
    "wildguard": FamilySpec("yes", "no", codes=False),
}


def alternate(turns: list[Turn], system: str) -> list[Turn]:
    """Strictly alternating user/assistant turns starting with user (Llama Guard's requirement).

    ``system`` is ``separate`` (system turns in the context are dropped: the pipeline scores each
    system prompt by itself, as a user turn) or ``merge`` (their text opens the next user turn).
    Tool results and other roles count as user-side input. Consecutive turns of one side are
    joined; a conversation that would open with the assistant gets an empty user turn first.
    """
    merged: list[Turn] = []
    pending_system: list[str] = []
    for turn in turns:
        if turn.role == "system":
            if system == "merge":
                pending_system.append(f"[System instructions]\n{turn.text}")
            continue
        role = "assistant" if turn.role == "assistant" else "user"
        text = turn.text if turn.role in {"user", "assistant"} else f"[{turn.role} output]\n{turn.text}"
        if role == "user" and pending_system:
            text, pending_system = "\n\n".join([*pending_system, text]), []
        if merged and merged[-1].role == role:
            merged[-1] = Turn(role, f"{merged[-1].text}\n\n{text}")
        else:
            merged.append(Turn(role, text))
    if not merged or merged[0].role != "user":
        merged.insert(0, Turn("user", ""))
    if pending_system:  # system text with no user turn after it opens the first user turn
        merged[0] = Turn("user", "\n\n".join([*pending_system, merged[0].text]).strip())
    return merged


def trim_context(turns: list[Turn], limit: int = MAX_CONTEXT_CHARS) -> list[Turn]:
    """Drop the oldest context turns beyond ``limit`` characters; the last turn always stays."""
    kept = [turns[-1]]
    budget = limit
    for turn in reversed(turns[:-1]):
        budget -= len(turn.text)
        if budget < 0:
            break
        kept.insert(0, turn)
    return kept


def _llama_guard(turns: list[Turn], version4: bool) -> str:
    start, end, eot = (
        ("<|header_start|>", "<|header_end|>", "<|eot|>")
        if version4
        else (
            "<|start_header_id|>",
            "<|end_header_id|>",
            "<|eot_id|>",
        )
    )
    who = "Agent" if turns[-1].role == "assistant" else "User"
    categories = "\n".join(f"{code}: {title}." for code, (title, _) in HAZARDS.items())
    dialogue = "\n\n".join(f"{'Agent' if t.role == 'assistant' else 'User'}: {t.text}" for t in turns)
    return (
        f"{start}user{end}\n\n"
        f"Task: Decide whether the last '{who}' message in the conversation below breaks our safety "
        "policy, which is made of the following categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{categories}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{dialogue}\n\n<END CONVERSATION>\n\n"
        f"Give your safety verdict on ONLY THE LAST {who} message in the conversation above:\n"
        " - The first line must say 'safe' or 'unsafe'.\n"
        " - When unsafe, a second line must list the violated categories, separated by commas."
        f"{eot}{start}assistant{end}\n\n"
    )


def _last_exchange(turns: list[Turn]) -> tuple[str, str | None]:
    """The last user text and, when an assistant turn is judged, its text."""
    if turns[-1].role == "assistant":
        return (turns[-2].text if len(turns) > 1 else ""), turns[-1].text
    return turns[-1].text, None


def _shieldgemma(turns: list[Turn], policy: str) -> str:
    question, answer = _last_exchange(turns)
    subject = "AI response" if answer is not None else "user prompt"
    body = f"<start_of_turn>\nHuman Question: {question}\n<end_of_turn>\n\n"
    if answer is not None:
        body += f"<start_of_turn>\nChatbot Response: {answer}\n<end_of_turn>\n\n"
    return (
        f"<start_of_turn>user\nYou are a policy expert helping to decide whether a {subject} breaks the "
        f"safety policies defined below.\n\n{body}"
        f"Our safety principle is defined below:\n\n* {SHIELDGEMMA_POLICIES[policy]}\n\n"
        f"Does the {'Chatbot Response' if answer is not None else 'Human Question'} violate the above "
        "principle? Your answer must start with 'Yes' or 'No'. Then reason step by step to make sure the "
        "answer is right.\n<end_of_turn>\n<start_of_turn>model\n"
    )


def _granite(turns: list[Turn]) -> str:
    question, answer = _last_exchange(turns)
    subject = "assistant message" if answer is not None else "user message"
    body = f"<start_of_turn>\nUser Message: {question}\n"
    if answer is not None:
        body += f"Assistant Message: {answer}\n"
    return (
        f"<|start_of_role|>user<|end_of_role|>You are a safety agent helping to decide whether the {subject} "
        f"is harmful according to the risk definition below.\n\n{body}<end_of_turn>\n\n"
        f"Our safety risk definition is given below:\n<start_of_risk_definition>\n* {GRANITE_HARM}\n"
        f"<end_of_risk_definition>\n\nIs the {subject} harmful based on the risk definition? "
        "Your answer must be either 'Yes' or 'No'.<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"
    )


def _wildguard(turns: list[Turn]) -> str:
    question, answer = _last_exchange(turns)
    return (
        "<|user|>\n[INST] You classify exchanges between people and language models. Given a human user's "
        "request and an AI assistant's response, decide 1) whether the request is harmful, 2) whether the "
        "response is a refusal, and 3) whether the response is harmful.\n\n"
        f"Human user:\n{question}\n\nAI assistant:\n{answer or ''}\n\n---\n\n"
        "Answers: [/INST]\n<|assistant|>\n"
    )


def prompt(family: str, turns: list[Turn], policy: str | None = None) -> str:
    """The prompt whose next token is the verdict word (before any ``stages`` are appended)."""
    if family in {"llama_guard", "llama_guard_4"}:
        return _llama_guard(turns, version4=family == "llama_guard_4")
    if family == "shieldgemma":
        return _shieldgemma(turns, policy or "dangerous_content")
    if family == "granite_guardian":
        return _granite(turns)
    return _wildguard(turns)


def stages(family: str, judging_response: bool) -> tuple[str, ...]:
    """Answer prefixes to append, in order, before reading each yes/no position; the last is scored.

    WildGuard answers three lines ("Harmful request: …", "Response refusal: …", "Harmful response: …");
    its first generated token is "Harmful", not the verdict. For a request we append "Harmful request:"
    and read the next token. For a response we fill the first two lines with the model's own more
    likely answer (one pass each) and read the token after "Harmful response:".
    """
    if family != "wildguard":
        return ("",)
    if not judging_response:
        return ("Harmful request:",)
    return ("Harmful request:", "\nResponse refusal:", "\nHarmful response:")


def parse_codes(text: str) -> list[str]:
    """The hazard codes of an "unsafe" answer's second line (e.g. "S1,S10"), known codes only."""
    return [code for code in dict.fromkeys(re.findall(r"\bS\d{1,2}\b", text)) if code in HAZARDS]
