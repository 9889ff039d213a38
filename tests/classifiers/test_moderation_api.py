"""The moderation-api classifier against a local HTTP server that speaks OpenAI's /v1/moderations.

The hosted OpenAI API cannot be reached from here; litellm (and the OpenAI SDK under it) talk to
this real server instead, through ``api_base``. The JSON is the documented response shape.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from classifiers.base import ClassifierInput, SegmentKind
from classifiers.moderation_api import CATEGORIES, ModerationApi, category_name
from classifiers.registry import build_classifier


def _result(text: str) -> dict[str, Any]:
    scores = {name: 0.001 for name in CATEGORIES}
    if "kill" in text:
        scores["violence"] = 0.91
    if "hate" in text:
        scores["hate"] = 0.72
    if "hurt myself" in text:
        scores["self-harm/intent"] = 0.66
    return {
        "flagged": max(scores.values()) > 0.5,
        "categories": {name: value > 0.5 for name, value in scores.items()},
        "category_scores": scores,
        "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
    }


class _ModerationServer:
    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if len(server.requests) <= server.fail_first:
                    status, payload = 429, {"error": {"message": "slow down", "type": "rate_limit"}}
                else:
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    status = 200
                    payload = {
                        "id": "modr-1",
                        "model": body["model"],
                        "results": [_result(t) for t in inputs],
                    }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_ModerationServer]:
    running = _ModerationServer()
    yield running
    running.close()


def test_category_names_in_both_spellings() -> None:
    assert category_name("self_harm_intent") == "self-harm/intent"
    assert category_name("self-harm/intent") == "self-harm/intent"
    assert category_name("harassment_threatening") == "harassment/threatening"
    assert category_name("illicit_violent") == "illicit/violent"
    assert category_name("sexual_minors") == "sexual/minors"
    assert category_name("self_harm") == "self-harm"


async def test_scores_map_to_openai_categories_in_order(server) -> None:
    classifier = ModerationApi(api_key="sk-test", api_base=server.url)
    items = [
        ClassifierInput("I will kill him", SegmentKind.USER),
        ClassifierInput("a nice day", SegmentKind.ASSISTANT),
        ClassifierInput("I hate them", SegmentKind.COMPLETION),
        ClassifierInput("I want to hurt myself", SegmentKind.PROMPT),
    ]
    scores = await classifier.score(items)
    assert len(scores) == 4
    assert set(scores[0].values) == set(CATEGORIES)
    assert scores[0].top == ("violence", pytest.approx(0.91))
    assert scores[1].top[1] == pytest.approx(0.001)
    assert scores[2].top == ("hate", pytest.approx(0.72))
    assert scores[3].top == ("self-harm/intent", pytest.approx(0.66))
    [request] = server.requests
    assert request["path"] == "/v1/moderations" and request["auth"] == "Bearer sk-test"
    assert request["model"] == "omni-moderation-2024-09-26"
    assert request["input"] == [item.text for item in items]


async def test_large_batches_are_split_at_the_endpoint_limit(server) -> None:
    classifier = ModerationApi(api_key="sk-test", api_base=server.url)
    items = [ClassifierInput("kill" if i % 2 else "calm", SegmentKind.USER) for i in range(40)]
    scores = await classifier.score(items)
    assert [len(r["input"]) for r in server.requests] == [32, 8]
    assert [s.get("violence") > 0.5 for s in scores] == [bool(i % 2) for i in range(40)]


async def test_rate_limited_request_is_retried() -> None:
    server = _ModerationServer(fail_first=1)
    try:
        classifier = build_classifier("moderation-api", {"api_key": "sk-test", "api_base": server.url})
        [result] = await classifier.score([ClassifierInput("kill", SegmentKind.USER)])
        assert result.get("violence") == pytest.approx(0.91)
        assert len(server.requests) == 2
    finally:
        server.close()
