"""Past ``max_inflight_requests`` the gateway answers 503 ``overloaded`` at once, then recovers.

A real gateway process (SQLite) with a limit of 2, in front of a small upstream in this process
that holds each chat completion until the test lets it go: the provider's slowness is what cannot
be arranged otherwise without timing. Requests go over real HTTP (httpx and the openai client).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.envelope import check_api_error, check_error
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_for

MODEL = "held-model"


class HeldUpstream:
    """An OpenAI-style chat upstream whose answers wait until ``release()``; it counts arrivals."""

    def __init__(self) -> None:
        self.arrived = 0
        self.released = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.arrived += 1
                upstream.released.wait(timeout=120)
                answer = json.dumps(
                    {
                        "id": "chatcmpl-held",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "Done."},
                                "finish_reason": "stop",
                            }
                        ],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def held() -> Iterator[HeldUpstream]:
    upstream = HeldUpstream()
    upstream.thread.start()
    try:
        yield upstream
    finally:
        upstream.release()
        upstream.server.shutdown()
        upstream.server.server_close()


def test_past_the_limit_answers_503_overloaded_and_recovers(tmp_path: Path, held: HeldUpstream) -> None:
    gateway = GatewayProcess(
        tmp_path,
        trainer_url=held.url,
        run_worker=False,
        extra_config={
            "max_inflight_requests": 2,
            "upstreams": [{"name": "local", "base_url": held.url, "max_attempts": 1, "base_models": [MODEL]}],
        },
    )
    gateway.start()
    try:
        key = gateway.create_key()
        client = gateway.client(key)
        chat = {"model": MODEL, "messages": [{"role": "user", "content": "Say done."}]}
        with ThreadPoolExecutor(max_workers=2) as pool:
            waiting = [pool.submit(client.chat.completions.create, **chat) for _ in range(2)]
            wait_for(lambda: held.arrived, lambda n: n == 2, timeout=60, every=0.05)

            # Two requests are in flight: a third is refused at once, with the envelope and Retry-After.
            with pytest.raises(openai.InternalServerError) as refused:
                client.chat.completions.create(**chat)
            check_api_error(
                refused.value,
                503,
                phrase="too many requests",
                param=None,
                code="overloaded",
                type="server_error",
            )
            assert refused.value.response.headers["retry-after"] == "1"
            other_route = httpx.get(f"{gateway.url}/files", headers={"Authorization": f"Bearer {key}"})
            check_error(
                other_route,
                503,
                phrase="too many requests",
                param=None,
                code="overloaded",
                type="server_error",
            )
            # Probes still answer: an overloaded gateway is alive.
            assert httpx.get(f"http://127.0.0.1:{gateway.port}/healthz").status_code == 200
            assert held.arrived == 2  # nothing refused reached the provider

            held.release()
            answers = [future.result(timeout=60) for future in waiting]
        assert [a.choices[0].message.content for a in answers] == ["Done.", "Done."]
        assert {a.model for a in answers} == {MODEL}

        # The slots are free again: the same request now goes through.
        again = client.chat.completions.create(**chat)
        assert again.choices[0].message.content == "Done."
        assert held.arrived == 3
        metrics = httpx.get(f"http://127.0.0.1:{gateway.port}/metrics").text
        # The refused requests are counted, under no route (the app never ran for them).
        assert 'tunegate_http_requests_total{method="POST",route="unmatched",status="503"} 1.0' in metrics
        assert 'tunegate_http_requests_total{method="GET",route="unmatched",status="503"} 1.0' in metrics
        assert (
            'tunegate_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 3.0'
            in metrics
        )
    finally:
        gateway.stop()
