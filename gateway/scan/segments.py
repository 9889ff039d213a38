"""Cutting a parsed example into the segments classifiers judge one by one.

Every text in a row that could teach the model something is a segment: system prompts, user
turns, assistant turns, tool calls and results, tool definitions, DPO outputs, grader fields.
Each records where in the row it came from (``path``, for reports) and, when it answers
something, the turns before it as context: "Sure, here is how" is harmless or not depending on
the question.

Context is for judging only, so it is kept small: at most the last ``CONTEXT_TURNS`` turns, each
cut to its last ``CONTEXT_CHARS`` characters. The segment's own text is never cut; long texts are
split into overlapping chunks later (``normalise.chunks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.base import ClassifierInput, SegmentKind, Turn
from gateway.scan.examples import Example, ExampleFormat, Message

CONTEXT_TURNS = 6
CONTEXT_CHARS = 2000

_KIND_OF_ROLE = {
    "system": SegmentKind.SYSTEM,
    "user": SegmentKind.USER,
    "assistant": SegmentKind.ASSISTANT,
    "tool": SegmentKind.TOOL_RESULT,
    "function": SegmentKind.TOOL_RESULT,
}
# Kinds that answer the conversation so far, and so are judged with it as context.
_ANSWERS = frozenset({SegmentKind.ASSISTANT, SegmentKind.TOOL_ARGUMENTS})


@dataclass(frozen=True, slots=True)
class Segment:
    line: int  # the example's 1-based line in the file
    kind: str  # a SegmentKind value
    path: str  # where in the row: "messages[2]", "messages[3].tool_calls[0].arguments", "extra.answer"
    text: str  # the text to judge, as written (before normalisation)
    context: tuple[Turn, ...] = ()  # the turns before it, for answers; () for everything else
    # False for an assistant turn with weight 0 (and its tool calls): judged, but the model
    # does not learn it, so reports keep its findings apart.
    trained: bool = True

    def as_input(self, text: str | None = None) -> ClassifierInput:
        """The classifier input for this segment; ``text`` replaces its own (the normalised text)."""
        return ClassifierInput(text=self.text if text is None else text, kind=self.kind, context=self.context)


def segments_of(example: Example) -> list[Segment]:
    """Every non-blank text of the example, in row order, as a segment."""
    return _Segments(example.line).of(example)


class _Segments:
    def __init__(self, line: int) -> None:
        self.line = line
        self.found: list[Segment] = []

    def add(
        self, kind: str, path: str, text: str, context: Sequence[Turn] = (), *, trained: bool = True
    ) -> None:
        if text.strip():
            self.found.append(Segment(self.line, kind, path, text, tuple(context), trained))

    def of(self, example: Example) -> list[Segment]:
        if example.format is ExampleFormat.COMPLETION:
            prompt, completion = example.prompt or "", example.completion or ""
            self.add(SegmentKind.PROMPT, "prompt", prompt)
            context = _context([Turn("user", prompt)] if prompt.strip() else [])
            self.add(SegmentKind.COMPLETION, "completion", completion, context)
            return self.found
        prefix = "input." if example.format is ExampleFormat.DPO else ""
        for index, definition in enumerate(example.tools):
            self.add(SegmentKind.TOOL_DEFINITION, f"{prefix}tools[{index}]", definition)
        history = self.conversation(example.messages, f"{prefix}messages")
        outputs = (
            (SegmentKind.PREFERRED, "preferred_output", example.preferred),
            (SegmentKind.NON_PREFERRED, "non_preferred_output", example.non_preferred),
        )
        for kind, key, messages in outputs:
            for index, message in enumerate(messages):
                self.answer(kind, f"{key}[{index}]", message, history)
        if example.extra:
            self.extras(example.extra, history)
        return self.found

    def conversation(self, messages: Sequence[Message], field: str) -> tuple[Turn, ...]:
        """Segments for each message; returns the (capped) conversation, the context of what follows."""
        turns: list[Turn] = []
        for index, message in enumerate(messages):
            path = f"{field}[{index}]"
            kind = _KIND_OF_ROLE[message.role]
            if kind in _ANSWERS:
                self.answer(kind, path, message, _context(turns))
            else:
                self.add(kind, path, message.content)
            text = _turn_text(message)
            if text.strip():
                turns.append(Turn(message.role, text[-CONTEXT_CHARS:]))
                del turns[:-CONTEXT_TURNS]  # older turns are never context again
        return _context(turns)

    def answer(self, kind: str, path: str, message: Message, context: tuple[Turn, ...]) -> None:
        """An assistant message and its tool calls, judged with the turns before them."""
        trained = message.weight != 0
        self.add(kind, path, message.content, context, trained=trained)
        for index, call in enumerate(message.tool_calls):
            # A legacy function_call is parsed as a single tool call, so it is reported here too.
            call_path = f"{path}.tool_calls[{index}].arguments"
            self.add(SegmentKind.TOOL_ARGUMENTS, call_path, call.arguments, context, trained=trained)

    def extras(self, extra: Mapping[str, Any], context: tuple[Turn, ...]) -> None:
        """Each string leaf of a reinforcement row's grader fields (a reference answer, say).

        The grader rewards the model for matching these, so they are judged like answers, with
        the conversation as context. Walked with a stack: JSON may nest deeper than recursion allows.
        """
        stack: list[tuple[str, Any]] = _children("extra.", extra.items())
        while stack:
            path, value = stack.pop()
            if isinstance(value, str):
                self.add(SegmentKind.EXTRA, path, value, context)
            elif isinstance(value, Mapping):
                stack += _children(f"{path}.", value.items())
            elif isinstance(value, list):
                stack += _children(path, ((f"[{index}]", item) for index, item in enumerate(value)))


def _children(prefix: str, items: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Paths and values, reversed so that popping them from a stack visits them in order."""
    return [(f"{prefix}{key}", value) for key, value in items][::-1]


def _context(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    return tuple(
        turn if len(turn.text) <= CONTEXT_CHARS else Turn(turn.role, turn.text[-CONTEXT_CHARS:])
        for turn in turns[-CONTEXT_TURNS:]
    )


def _turn_text(message: Message) -> str:
    """A message as context: its text, then each tool call it makes as ``name(arguments)``."""
    calls = [f"{call.name}({call.arguments})" for call in message.tool_calls]
    return "\n".join(part for part in (message.content, *calls) if part) if calls else message.content
