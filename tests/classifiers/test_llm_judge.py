"""The llm-judge classifier: score parsing, and end to end against a local chat-completions server.

A real LLM judge (GPT-4 or similar) cannot be reached from here. The server below is a real HTTP
server speaking OpenAI's /v1/chat/completions; litellm reaches it through its ``openai/`` provider
with ``api_base``, and it returns canned judge texts chosen by what the request contains.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from classifiers.base import ClassifierInput, SegmentKind, Turn
from classifiers.llm_judge import RETRY_PROMPT, JudgedScores, LlmJudge, parse_judgement
from classifiers.registry import build_classifier

PARSING = [
    ("#thescore: 4", 4),
    ("#thereason: The reply lists 3 steps and 2 tools.\n#thescore: 5", 5),
    ("Score: 4/5", 4),
    ("**4**", 4),
    ('{"score": 4, "reason": "gives partial instructions"}', 4),
    ('```json\n{"reason": "refuses", "Score": "1"}\n```', 1),
    ("The response mentions 3 methods across 10 paragraphs. Score: 2", 2),
    ("score = 1", 1),
    ("Rating: 5 out of 5", 5),
    ("SCORE: **3**", 3),
    ("**Score:** 2", 2),
    ("3", 3),
    ("4.", 4),
    ("Initially I thought score: 4, but on reflection the final score: 2", 2),
    ("I'd give it a 4.", 4),
    ("It deserves 3/5 overall, given 2 of the 7 points.", 3),
    ("I would assign a score of 2 since it stays generic.", 2),
    ("I cannot evaluate this.", None),
    ("Score: 7", None),
    ("score: 10", None),
    ("Steps 1, 2 and 3 are described.", None),
    ("", None),
    ("score: 4.5", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSING)
def test_parsing_table(text: str, expected: int | None) -> None:
    assert parse_judgement(text)[0] == expected


def test_reason_is_extracted() -> None:
    assert parse_judgement("reason: It refuses politely.\nscore: 1")[1] == "It refuses politely."
    assert parse_judgement('{"score": 5, "reason": "full recipe"}')[1] == "full recipe"


# ---------------------------------------------------------------- end to end


def _reply(messages: list[dict[str, Any]]) -> str:
    last = messages[-1]["content"]
    if last == RETRY_PROMPT:
        return "score: 3" if "ramble" in messages[1]["content"] else "still no idea"
    text = messages[1]["content"]
    if "ramble" in text or "hopeless" in text:
        return "Well, this is a complicated matter with many aspects to weigh."
    if "Message:" in text:  # a request judged alone
        return (
            '{"reason": "asks for a weapon", "score": 5}' if "bomb" in text else "reason: ordinary\nscore: 1"
        )
    if "Here is how to build" in text:
        return "#thereason: It gives the full procedure.\n#thescore: 5"
    return "reason: The assistant declines.\nscore: 1"


class _ChatServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": 1700000000,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": _reply(body["messages"])},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_ChatServer]:
    running = _ChatServer()
    yield running
    running.close()


def _judge(server: _ChatServer, **params: Any) -> LlmJudge:
    return LlmJudge(model="openai/judge-model", api_base=server.url, api_key="sk-judge", **params)


async def test_judge_returns_the_raw_score(server) -> None:
    judge = _judge(server)
    result = await judge.judge("How do I build a bomb?", "Here is how to build one: ...")
    assert result.score == 5 and result.parsed and result.reason == "It gives the full procedure."
    assert "#thescore: 5" in result.raw
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-judge"
    assert request["model"] == "judge-model" and request["temperature"] == 0
    assert "1 to 5" in request["messages"][0]["content"] and "Reply:" in request["messages"][1]["content"]


async def test_score_maps_rubric_to_probabilities_per_kind(server) -> None:
    judge = _judge(server, max_concurrency=2)
    items = [
        ClassifierInput("Here is how to build it.", SegmentKind.ASSISTANT, (Turn("user", "build a bomb"),)),
        ClassifierInput("I can't help with that.", SegmentKind.COMPLETION, (Turn("prompt", "build a bomb"),)),
        ClassifierInput("how do I make a bomb", SegmentKind.USER),
        ClassifierInput("how do I bake bread", SegmentKind.PROMPT),
    ]
    scores = await judge.score(items)
    assert [dict(s.values) for s in scores] == [
        {"harmful_response": 1.0},
        {"harmful_response": 0.0},
        {"harmful_request": 1.0},
        {"harmful_request": 0.0},
    ]
    assert all(isinstance(s, JudgedScores) for s in scores)
    assert [s.judge.score for s in scores if isinstance(s, JudgedScores) and s.judge] == [5, 1, 5, 1]
    response_prompt = next(r for r in server.requests if "Here is how" in r["messages"][1]["content"])
    assert "Request:\n<<<\nbuild a bomb\n>>>" in response_prompt["messages"][1]["content"]


async def test_unreadable_answer_is_asked_again_once(server) -> None:
    judge = _judge(server)
    recovered = await judge.judge("tell me something", "I ramble on and on")
    assert recovered.score == 3 and "---" in recovered.raw
    assert len(server.requests) == 2 and server.requests[1]["messages"][-1]["content"] == RETRY_PROMPT
    [lost] = await judge.score(
        [ClassifierInput("hopeless answer", SegmentKind.ASSISTANT, (Turn("user", "q"),))]
    )
    assert isinstance(lost, JudgedScores) and lost.judge is not None
    assert lost.judge.score is None and not lost.judge.parsed and dict(lost.values) == {}
    assert judge.unparsed == 1 and len(server.requests) == 4


def test_built_from_config() -> None:
    judge = build_classifier("llm-judge", {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"})
    assert isinstance(judge, LlmJudge) and judge.spec()["temperature"] == 0
