"""``python -m bench.load_driver PLAN.json RESULT.json``: the client side of ``bench.load``, in a process.

Chat is open-loop: request ``i`` is sent at ``start + i / rate`` whatever happened to the ones
before, so a slow gateway meets more load, not less (a closed loop would hide its queueing). Each
chat is paired: the same body goes through the gateway (under the released model's gateway name)
and straight to the upstream (under its upstream name) at the same moment, so the difference of
the two latencies is what the gateway adds, under the same machine load. Uploads are multipart
``POST /v1/files`` streamed from disk, all started at once at ``upload_at`` seconds. aiohttp is the
client because its per-request cost is a fraction of httpx's, and the driver shares the cores.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp


async def _chat(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any], limit: float
) -> tuple[float, int, str]:
    """(seconds, HTTP status or 0, error text); the answer is read whole and its shape checked."""
    started = time.perf_counter()
    try:
        async with session.post(
            url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=limit)
        ) as r:
            payload = await r.read()
            elapsed = time.perf_counter() - started
            if r.status != 200:
                return elapsed, r.status, payload[:200].decode(errors="replace")
            answer = json.loads(payload)
            if not answer.get("choices") or answer.get("model") != body["model"]:
                return elapsed, r.status, f"unexpected answer: {payload[:200]!r}"
            return elapsed, r.status, ""
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return time.perf_counter() - started, 0, f"{type(exc).__name__}: {exc}"[:200]


async def _pair(
    plan: dict[str, Any],
    sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    index: int,
    due: float,
) -> dict[str, Any]:
    """One chat through the gateway; every ``pair_every``-th also straight to the upstream, at once."""
    gateway_name, upstream_name = plan["models"][index % len(plan["models"])]
    messages = [{"role": "user", "content": f"What is {index} plus {index}?"}]
    body = {"messages": messages, "max_tokens": plan["max_tokens"], "temperature": 0}
    limit = plan["request_timeout"]
    sent = time.perf_counter()
    calls = [
        _chat(
            sessions[0],
            plan["gateway_chat_url"],
            plan["gateway_headers"],
            {**body, "model": gateway_name},
            limit,
        )
    ]
    if index % plan["pair_every"] == 0:
        direct_body = {**body, "model": upstream_name}
        calls.append(
            _chat(sessions[1], plan["upstream_chat_url"], plan["upstream_headers"], direct_body, limit)
        )
    results = await asyncio.gather(*calls)
    record = {"due": due, "lag": sent - plan["origin"] - due}
    for name, (seconds, status, error) in zip(("gateway", "direct"), results, strict=False):
        record.update({name: seconds, f"{name}_status": status, f"{name}_error": error})
    return record


async def _chat_load(
    plan: dict[str, Any], sessions: Any, origin: float, seconds: float, offset: int
) -> list[Any]:
    """Send ``rate`` pairs a second for ``seconds`` (open loop), wait for them; times from ``origin``."""
    rate = plan["rate"]
    start = time.perf_counter()
    tasks = []
    for i in range(int(seconds * rate)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(_pair(plan, sessions, offset + i, due - origin)))
    return list(await asyncio.gather(*tasks))


async def _upload(
    session: aiohttp.ClientSession, plan: dict[str, Any], index: int, origin: float
) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"start": started - origin, "status": 0, "error": "", "file_id": None}
    try:
        handle = await asyncio.to_thread(open, plan["upload_path"], "rb")
        with handle:
            form = aiohttp.FormData()
            form.add_field("purpose", "fine-tune")
            form.add_field("file", handle, filename=f"load-{index}.jsonl", content_type="application/jsonl")
            async with session.post(
                plan["gateway_files_url"],
                data=form,
                headers=plan["gateway_headers"],
                timeout=aiohttp.ClientTimeout(total=plan["upload_timeout"]),
            ) as response:
                payload = await response.read()
                result["status"] = response.status
                if response.status == 200:
                    result["file_id"] = json.loads(payload)["id"]
                else:
                    result["error"] = payload[:200].decode(errors="replace")
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
    result["end"] = time.perf_counter() - origin
    return result


async def _uploads(plan: dict[str, Any], origin: float) -> list[dict[str, Any]]:
    await asyncio.sleep(max(0.0, origin + plan["upload_at"] - time.perf_counter()))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(
            await asyncio.gather(*(_upload(session, plan, i, origin) for i in range(plan["uploads"])))
        )


async def drive(plan: dict[str, Any]) -> dict[str, Any]:
    """Warm up (connections, caches; not recorded), then chat for ``seconds`` with the uploads inside."""
    connectors = [aiohttp.TCPConnector(limit=0, keepalive_timeout=60) for _ in range(2)]
    async with (
        aiohttp.ClientSession(connector=connectors[0]) as gw,
        aiohttp.ClientSession(connector=connectors[1]) as up,
    ):
        sessions = (gw, up)
        plan["origin"] = time.perf_counter()
        await _chat_load(plan, sessions, plan["origin"], plan["warmup_seconds"], offset=10**6)
        origin = plan["origin"] = time.perf_counter()
        origin_wall = time.time()  # the RSS samples' zero
        uploads = asyncio.ensure_future(_uploads(plan, origin))
        pairs = await _chat_load(plan, sessions, origin, plan["seconds"], offset=0)
        chat_done = time.perf_counter() - origin
        upload_results = await uploads
    return {
        "origin_wall": origin_wall,
        "chat_seconds": chat_done,
        "wall_seconds": time.perf_counter() - origin,
        "pairs": pairs,
        "uploads": upload_results,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    plan = json.loads(Path(args[0]).read_text())
    try:
        import uvloop

        result = uvloop.run(drive(plan))
    except ImportError:
        result = asyncio.run(drive(plan))
    Path(args[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
