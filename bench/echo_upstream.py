"""``python -m bench.echo_upstream --port N``: a near-free OpenAI-compatible chat upstream for ``bench.load``.

The load benchmark measures what the gateway adds to a chat request. Behind it, the reference
trainer generates with a real model on the CPU, and at 200 requests/s (twice that with the direct
comparison requests) its generation would saturate a small machine and drown the gateway's few
milliseconds in its own queueing. This upstream answers every chat completion at once with a
canned reply (in the upstream model's name, as a provider would), so the direct and the gateway
paths differ only by the gateway. It is a bare ASGI app on uvicorn: no framework cost to subtract.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
BASE_MODELS = ("tiny-llama",)
HEADERS = [(b"content-type", b"application/json")]


def completion(model: str, prompt_chars: int) -> dict[str, Any]:
    """One non-streaming chat completion, shaped like OpenAI's."""
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Four.", "refusal": None},
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_chars // 4 + 1,
            "completion_tokens": 1,
            "total_tokens": prompt_chars // 4 + 2,
        },
        "system_fingerprint": None,
    }


def sse(model: str) -> bytes:
    """The same reply as an SSE stream: role, content, finish reason, [DONE]."""
    meta = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
    }
    deltas = [({"role": "assistant", "content": ""}, None), ({"content": "Four."}, None), ({}, "length")]
    lines = [
        json.dumps({**meta, "model": model, "choices": [{"index": 0, "delta": d, "finish_reason": f}]})
        for d, f in deltas
    ]
    return "".join(f"data: {line}\n\n" for line in [*lines, "[DONE]"]).encode()


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # uvicorn runs it with lifespan="off"
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path, status, headers = scope["path"].rstrip("/"), 200, HEADERS
    if path.endswith("/models"):
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "system"} for m in BASE_MODELS]
        payload = json.dumps({"object": "list", "data": data}).encode()
    elif path.endswith("/chat/completions") and scope["method"] == "POST":
        try:
            request = json.loads(body)
            model = str(request["model"])
        except (ValueError, KeyError, TypeError):
            status, request, model = 400, {}, ""
        if status != 200:
            payload = json.dumps(
                {"error": {"message": "bad request", "type": "invalid_request_error"}}
            ).encode()
        elif request.get("stream"):
            payload, headers = sse(model), [(b"content-type", b"text/event-stream")]
        else:
            payload = json.dumps(completion(model, len(body))).encode()
    else:
        status = 404
        payload = json.dumps({"error": {"message": "not found", "type": "invalid_request_error"}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m bench.echo_upstream", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
