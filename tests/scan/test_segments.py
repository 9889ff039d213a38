"""Tests for cutting parsed examples into segments (kinds, paths, contexts, trained flags)."""

from __future__ import annotations

import json
from typing import Any

from classifiers.base import ClassifierInput, SegmentKind, Turn
from gateway.scan.examples import Example
from gateway.scan.parse import StreamingParser
from gateway.scan.segments import CONTEXT_CHARS, CONTEXT_TURNS, Segment, segments_of


def example(row: dict[str, Any], line: int = 1) -> Example:
    """The row parsed as the gateway parses it, on the given line."""
    parser = StreamingParser()
    data = b"\n" * (line - 1) + json.dumps(row).encode() + b"\n"
    examples = parser.feed(data) + parser.close()
    return examples[0]


def by_path(segments: list[Segment]) -> dict[str, Segment]:
    return {segment.path: segment for segment in segments}


SYSTEM = {"role": "system", "content": "You are a weather bot."}
USER = {"role": "user", "content": "Weather in Paris?"}
CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "c2", "type": "function", "function": {"name": "time", "arguments": '{"tz": "CET"}'}},
    ],
}
RESULT = {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 21C"}
ANSWER = {"role": "assistant", "content": "It is sunny in Paris."}
TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}


def test_chat_with_tools_has_every_segment_with_its_kind_and_path() -> None:
    segments = segments_of(
        example({"messages": [SYSTEM, USER, CALL, RESULT, ANSWER], "tools": [TOOL]}, line=3)
    )
    assert [(s.path, s.kind) for s in segments] == [
        ("tools[0]", SegmentKind.TOOL_DEFINITION),
        ("messages[0]", SegmentKind.SYSTEM),
        ("messages[1]", SegmentKind.USER),
        ("messages[2].tool_calls[0].arguments", SegmentKind.TOOL_ARGUMENTS),
        ("messages[2].tool_calls[1].arguments", SegmentKind.TOOL_ARGUMENTS),
        ("messages[3]", SegmentKind.TOOL_RESULT),
        ("messages[4]", SegmentKind.ASSISTANT),
    ]
    assert all(s.line == 3 and s.trained for s in segments)
    found = by_path(segments)
    assert json.loads(found["tools[0]"].text) == TOOL
    assert found["messages[2].tool_calls[1].arguments"].text == '{"tz": "CET"}'
    assert found["messages[3]"].text == "Sunny, 21C"


def test_answers_carry_the_turns_before_them_and_requests_none() -> None:
    found = by_path(segments_of(example({"messages": [SYSTEM, USER, CALL, RESULT, ANSWER]})))
    for path in ("messages[0]", "messages[1]", "messages[3]"):
        assert found[path].context == ()
    before_call = (Turn("system", SYSTEM["content"]), Turn("user", USER["content"]))
    assert found["messages[2].tool_calls[0].arguments"].context == before_call
    assert found["messages[4]"].context == (
        *before_call,
        Turn("assistant", 'weather({"city": "Paris"})\ntime({"tz": "CET"})'),
        Turn("tool", "Sunny, 21C"),
    )


def test_weight_zero_turns_are_judged_but_not_trained() -> None:
    untrained = {"role": "assistant", "content": "Old answer.", "weight": 0}
    call = {**CALL, "weight": 0}
    row = {"messages": [USER, untrained, USER, call, RESULT, {**ANSWER, "weight": 1}]}
    found = by_path(segments_of(example(row)))
    assert found["messages[1]"].trained is False
    assert found["messages[3].tool_calls[0].arguments"].trained is False
    assert found["messages[5]"].trained is True
    assert Turn("assistant", "Old answer.") in found["messages[5]"].context  # still context


def test_context_keeps_the_last_turns_and_their_ends_but_never_cuts_the_segment() -> None:
    long = "x" * (CONTEXT_CHARS + 500) + "END"
    messages = []
    for index in range(10):
        messages += [
            {"role": "user", "content": f"question {index}"},
            {"role": "assistant", "content": f"a{index}"},
        ]
    messages += [{"role": "user", "content": long}, {"role": "assistant", "content": long}]
    found = by_path(segments_of(example({"messages": messages})))
    last = found["messages[21]"]
    assert last.text == long
    assert len(last.context) == CONTEXT_TURNS
    assert last.context[-1] == Turn("user", long[-CONTEXT_CHARS:])
    assert last.context[0] == Turn("assistant", "a7")  # messages[15], six turns back
    assert found["messages[1]"].context == (Turn("user", "question 0"),)


def test_blank_texts_are_skipped() -> None:
    row = {
        "messages": [
            {"role": "system", "content": "  \n"},
            USER,
            {"role": "assistant", "content": ""},
            ANSWER,
        ]
    }
    assert [s.path for s in segments_of(example(row))] == ["messages[1]", "messages[3]"]


def test_legacy_completion_is_judged_with_its_prompt() -> None:
    segments = segments_of(example({"prompt": "Tell me a joke.", "completion": "Why did the chicken..."}))
    assert [(s.path, s.kind, s.context) for s in segments] == [
        ("prompt", SegmentKind.PROMPT, ()),
        ("completion", SegmentKind.COMPLETION, (Turn("user", "Tell me a joke."),)),
    ]
    long_prompt = "p" * (CONTEXT_CHARS * 2)
    completion = segments_of(example({"prompt": long_prompt, "completion": "ok"}))[1]
    assert completion.context == (Turn("user", long_prompt[-CONTEXT_CHARS:]),)


def test_dpo_outputs_both_carry_the_input_as_context() -> None:
    row = {
        "input": {"messages": [SYSTEM, USER, ANSWER, USER], "tools": [TOOL]},
        "preferred_output": [{"role": "assistant", "content": "Sunny."}],
        "non_preferred_output": [{"role": "assistant", "content": "Figure it out yourself."}],
    }
    segments = segments_of(example(row))
    assert [(s.path, s.kind) for s in segments] == [
        ("input.tools[0]", SegmentKind.TOOL_DEFINITION),
        ("input.messages[0]", SegmentKind.SYSTEM),
        ("input.messages[1]", SegmentKind.USER),
        ("input.messages[2]", SegmentKind.ASSISTANT),
        ("input.messages[3]", SegmentKind.USER),
        ("preferred_output[0]", SegmentKind.PREFERRED),
        ("non_preferred_output[0]", SegmentKind.NON_PREFERRED),
    ]
    found = by_path(segments)
    input_turns = tuple(Turn(m["role"], m["content"]) for m in row["input"]["messages"])
    assert found["preferred_output[0]"].context == input_turns
    assert found["non_preferred_output[0]"].context == input_turns
    assert found["non_preferred_output[0]"].trained is True  # a training signal too
    assert found["input.messages[2]"].context == input_turns[:2]


def test_reinforcement_extras_are_every_string_leaf() -> None:
    row = {
        "messages": [USER],
        "reference_answer": "Sunny",
        "grading": {"notes": ["be brief", "", 3, {"deep": "yes"}], "strict": True, "score": 0.5},
        "empty": "",
    }
    segments = segments_of(example(row))
    extras = [(s.path, s.text) for s in segments if s.kind == SegmentKind.EXTRA]
    assert extras == [
        ("extra.reference_answer", "Sunny"),
        ("extra.grading.notes[0]", "be brief"),
        ("extra.grading.notes[3].deep", "yes"),
    ]
    assert by_path(segments)["extra.reference_answer"].context == (Turn("user", USER["content"]),)


def test_as_input_uses_the_normalised_text_when_given() -> None:
    segment = segments_of(example({"messages": [USER, ANSWER]}))[1]
    assert segment.as_input() == ClassifierInput(ANSWER["content"], SegmentKind.ASSISTANT, segment.context)
    assert segment.as_input("clean").text == "clean"
