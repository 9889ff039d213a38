"""A seeded reverse proxy that puts a flaky network between the gateway and the trainer.

For a configured fraction of calls per route class it answers 429 (with ``Retry-After``) or 500,
hangs past the client's timeout, resets the TCP connection, or sends truncated JSON; every other
call goes through unchanged. Hangs, resets and truncated bodies come "before" the trainer sees
the call or "after" it acted on it (the answer is lost: the case that tempts a client to create
a job twice). It counts what it did, so a test can check that each fault really happened.

Plain asyncio in a background thread: the test process keeps its own blocking code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterable

import httpx

KINDS = ("429", "500", "hang", "reset", "malformed")
ROUTE_CLASSES = ("files", "create", "find", "poll", "control", "chat", "models", "other")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
_REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}


def route_class(method: str, path: str) -> str:
    """What a call does, as far as faults are planned: upload, job creation, lookup, polling, chat."""
    path = path.split("?", 1)[0].rstrip("/")
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["v1"]:
        parts = parts[1:]
    if parts[:1] == ["files"]:
        return "files"
    if parts[:2] == ["fine_tuning", "jobs"]:
        if len(parts) == 2:
            return "create" if method == "POST" else "find"
        return "control" if method == "POST" else "poll"
    if parts[:2] == ["chat", "completions"]:
        return "chat"
    if parts[:1] == ["models"]:
        return "models"
    return "other"


class FaultProxy:
    """``start()`` it, point the gateway at ``url``; ``configure`` changes the plan at any time."""

    def __init__(
        self,
        target_url: str,
        *,
        rates: dict[str, float] | None = None,
        kinds: Iterable[str] = KINDS,
        seed: int = 0,
        hang_seconds: float = 30.0,
        retry_after: float = 1.0,
    ) -> None:
        self.target = target_url.rstrip("/").removesuffix("/v1")
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._rates: dict[str, float] = {}
        self._kinds: tuple[str, ...] = ()
        self._kinds_for: dict[str, tuple[str, ...]] = {}
        self._deck: list[str] = []
        self._script: dict[str, list[str]] = {}
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.injected: Counter[tuple[str, str]] = Counter()  # (route class, kind) → times
        self.forwarded: Counter[str] = Counter()  # route class → calls the trainer saw
        self.configure(rates=rates or {}, kinds=kinds)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._client: httpx.AsyncClient | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def configure(
        self,
        *,
        rates: dict[str, float],
        kinds: Iterable[str] = KINDS,
        kinds_for: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Fault fractions per route class (missing: 0), the kinds drawn, and kinds for some classes."""
        kinds_for = {route: tuple(chosen) for route, chosen in (kinds_for or {}).items()}
        named = set(kinds).union(*kinds_for.values())
        unknown = (
            (set(rates) - set(ROUTE_CLASSES)) | (set(kinds_for) - set(ROUTE_CLASSES)) | (named - set(KINDS))
        )
        if unknown:
            raise ValueError(f"unknown route classes or fault kinds: {sorted(unknown)}")
        with self._lock:
            self._rates = dict(rates)
            self._kinds = tuple(kinds)
            self._kinds_for = kinds_for
            self._deck = []

    @property
    def rates(self) -> dict[str, float]:
        with self._lock:
            return dict(self._rates)

    def script(self, faults: dict[str, list[str]]) -> None:
        """Faults for the next calls of a class, in order, ahead of the random ones.

        A fault is a kind, or ``kind@before`` / ``kind@after`` to fix when a hang or reset comes.
        """
        for route, listed in faults.items():
            kinds = {fault.split("@")[0] for fault in listed}
            if route not in ROUTE_CLASSES or kinds - set(KINDS):
                raise ValueError(f"unknown route class or fault kinds: {route} {sorted(kinds)}")
        with self._lock:
            for route, listed in faults.items():
                self._script.setdefault(route, []).extend(listed)

    def kinds_injected(self) -> set[str]:
        with self._lock:
            return {kind for (_, kind), count in self.injected.items() if count}

    def _plan(self, route: str) -> tuple[str, str] | None:
        """(kind, "before" | "after") for this call, or None to pass it through.

        Kinds come from a shuffled deck, so each one appears once in every ``len(kinds)`` faults
        (a class with kinds of its own draws from those).
        """
        with self._lock:
            scripted, when = self._script.get(route), ""
            if scripted:
                kind, _, when = scripted.pop(0).partition("@")
            elif self._random.random() >= self._rates.get(route, 0.0):
                return None
            elif route in self._kinds_for:
                kind = self._random.choice(self._kinds_for[route])
            else:
                if not self._deck:
                    self._deck = list(self._kinds)
                    self._random.shuffle(self._deck)
                kind = self._deck.pop()
            if kind in ("429", "500"):
                when = "before"
            elif kind == "malformed":
                when = "after"
            else:
                when = when or self._random.choice(("before", "after"))
            self.injected[(route, kind)] += 1
            return kind, when

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(timeout=10)
        return self

    async def _open(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(120.0))
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            if self._client is not None:
                await self._client.aclose()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    # -- one connection ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                if not await self._answer(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, httpx.HTTPError):
            pass  # the client or the trainer went away: so does this connection
        finally:
            if not writer.is_closing():
                writer.close()

    async def _answer(
        self,
        request: tuple[str, str, dict[str, str], bytes],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; False when the connection must end (a fault cut it)."""
        method, path, headers, body = request
        route = route_class(method, path)
        plan = self._plan(route)
        kind, when = plan if plan else (None, None)
        if kind == "429":
            error = {"message": "Rate limit reached (injected).", "type": "rate_limit_error"}
            payload = json.dumps({"error": {**error, "param": None, "code": "rate_limit_exceeded"}})
            extra = {"content-type": "application/json", "retry-after": f"{self.retry_after:g}"}
            await _write(writer, 429, payload.encode(), extra)
            return True
        if kind == "500":
            error = {"message": "The server had an error (injected).", "type": "server_error"}
            payload = json.dumps({"error": {**error, "param": None, "code": None}})
            await _write(writer, 500, payload.encode(), {"content-type": "application/json"})
            return True
        if when == "before" and kind in ("hang", "reset"):
            await self._cut(kind, reader, writer)
            return False

        forward = {k: v for k, v in headers.items() if k not in _HOP_HEADERS}
        assert self._client is not None
        response = await self._client.request(method, self.target + path, headers=forward, content=body)
        content = await response.aread()
        with self._lock:
            self.forwarded[route] += 1
        if kind in ("hang", "reset"):  # the trainer acted; its answer is lost
            await self._cut(kind, reader, writer)
            return False
        out_headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS}
        if kind == "malformed":
            content = content[: len(content) // 2] if len(content) > 2 else b'{"id": '
            out_headers["content-type"] = "application/json"
        await _write(writer, response.status_code, content, out_headers)
        return True

    async def _cut(self, kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if kind == "hang":  # say nothing until the client gives up (or hang_seconds pass)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(1), timeout=self.hang_seconds)
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, target, headers, body


async def _write(writer: asyncio.StreamWriter, status: int, body: bytes, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"content-length: {len(body)}", "connection: keep-alive", "", ""]
    writer.write("\r\n".join(lines).encode("latin-1") + body)
    await writer.drain()
