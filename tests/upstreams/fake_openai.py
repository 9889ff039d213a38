"""A tiny OpenAI-shaped fine-tuning server on a real socket, with faults to inject.

It runs ``http.server`` in a thread so faults happen at the transport level, as they do in
production: a dropped connection, a response slower than the client's timeout, a body that is
not JSON. Each fault is consumed by the next request that matches its method and path.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "429-ms", "500", "400", "401-echo", "reset", "slow", "malformed", "drop-after", "sse-break")


@dataclass
class Recorded:
    method: str
    path: str  # after the API root, e.g. "/fine_tuning/jobs"
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeOpenAI:
    honour_metadata_filter: bool = True
    page_cap: int = 100  # the most items one page returns, whatever ``limit`` asks for
    echo_key: str = ""  # what the "401-echo" fault puts into its error message
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, method: str, path: str, *faults: str) -> None:
        """Queue faults for the next requests to ``method path`` (path after the API root)."""
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
            self.faults.append((method, path, fault))

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def add_job(self, metadata: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        with self.lock:
            job_id = f"ftjob-{len(self.jobs) + 1:04d}"
            job = {
                "object": "fine_tuning.job",
                "id": job_id,
                "status": "queued",
                "model": "gpt-4o-mini",
                "created_at": 1_700_000_000 + len(self.jobs),
                "fine_tuned_model": None,
                "error": None,
                "result_files": [],
                "trained_tokens": None,
                "finished_at": None,
                "metadata": metadata,
                **fields,
            }
            self.jobs[job_id] = job
            self.events[job_id] = [self._event(job_id, 0, "Created fine-tuning job")]
            return job

    def add_events(self, job_id: str, count: int) -> None:
        base = len(self.events[job_id])
        self.events[job_id] += [self._event(job_id, base + i, f"Step {base + i}") for i in range(count)]

    @staticmethod
    def _event(job_id: str, n: int, message: str) -> dict[str, Any]:
        return {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{job_id}-{n:03d}",
            "created_at": 1_700_000_000 + n,
            "level": "info",
            "message": message,
            "type": "message",
        }

    # -- request handling --------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> str | None:
        with self.lock:
            for index, (m, p, fault) in enumerate(self.faults):
                if m == method and p == path:
                    del self.faults[index]
                    return fault
        return None

    def route(self, req: Recorded) -> tuple[int, Any]:
        parts = req.path.strip("/").split("/")
        q = {key: values[-1] for key, values in req.query.items()}
        if req.path == "/files" and req.method == "POST":
            return 200, self._upload(req)
        if parts[0] == "files" and req.method == "DELETE":
            deleted = self.files.pop(parts[1], None) is not None
            return 200, {"id": parts[1], "object": "file", "deleted": deleted}
        if req.path == "/models":
            return 200, {
                "object": "list",
                "data": [
                    {"id": "gpt-4o-mini", "object": "model"},
                    {"id": "ft:gpt-4o-mini:acme::abc", "object": "model"},
                ],
            }
        if req.path == "/chat/completions":
            body = json.loads(req.body)
            return 200, {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
                ],
            }
        if req.path == "/fine_tuning/jobs" and req.method == "POST":
            body = json.loads(req.body)
            fields = {k: v for k, v in body.items() if k != "metadata"}
            return 200, self.add_job(body.get("metadata"), **fields)
        if req.path == "/fine_tuning/jobs":
            jobs = sorted(self.jobs.values(), key=lambda j: j["id"], reverse=True)  # newest first
            wanted = {k[len("metadata[") : -1]: v for k, v in q.items() if k.startswith("metadata[")}
            if self.honour_metadata_filter and wanted:
                jobs = [j for j in jobs if wanted.items() <= (j.get("metadata") or {}).items()]
            return 200, self._page(jobs, q)
        job = self.jobs.get(parts[2]) if len(parts) > 2 else None
        if job is None:
            return 404, {
                "error": {
                    "message": "No such job",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "not_found",
                }
            }
        action = parts[3] if len(parts) > 3 else None
        if action is None:
            return 200, job
        if action in ("cancel", "pause", "resume"):
            job["status"] = {"cancel": "cancelled", "pause": "paused", "resume": "running"}[action]
            return 200, job
        if action == "events":
            return 200, self._page(list(reversed(self.events[job["id"]])), q)  # newest first
        if action == "checkpoints":
            checkpoints = [
                {
                    "object": "fine_tuning.job.checkpoint",
                    "id": f"ftckpt-{s}",
                    "created_at": 1_700_000_100 + s,
                    "fine_tuned_model_checkpoint": f"ft:gpt-4o-mini:acme::x:ckpt-step-{s}",
                    "step_number": s,
                    "metrics": {"train_loss": 1.0 / s},
                    "fine_tuning_job_id": job["id"],
                }
                for s in (30, 20, 10)  # newest first, as OpenAI pages them
            ]
            return 200, self._page(checkpoints, q)
        return 404, {"error": {"message": "unknown route", "type": "invalid_request_error"}}

    def _page(self, items: list[dict[str, Any]], q: dict[str, str]) -> dict[str, Any]:
        if "after" in q:
            ids = [item["id"] for item in items]
            items = items[ids.index(q["after"]) + 1 :] if q["after"] in ids else []
        size = min(int(q.get("limit", 20)), self.page_cap)
        return {"object": "list", "data": items[:size], "has_more": len(items) > size}

    def _upload(self, req: Recorded) -> dict[str, Any]:
        head = f"Content-Type: {req.headers['content-type']}\r\n\r\n".encode()
        message = email.message_from_bytes(head + req.body, policy=email.policy.HTTP)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        filename, content = fields["file"]
        file_id = f"file-{len(self.files) + 1:04d}"
        purpose = fields["purpose"][1].decode()
        self.files[file_id] = {"filename": filename, "content": content, "purpose": purpose}
        return {
            "object": "file",
            "id": file_id,
            "bytes": len(content),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "sha256": hashlib.sha256(content).hexdigest(),
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams whose truncation is detectable
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_DELETE = do_GET

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        path = url.path.split("/v1", 1)[1] if "/v1" in url.path else url.path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Recorded(self.command, path, parse_qs(url.query), headers, body)
        with fake.lock:
            fake.requests.append(req)
        fault = fake.take_fault(self.command, path)
        with contextlib.suppress(OSError):  # the client went away (e.g. it timed out first)
            self._respond(fake, req, fault)

    def _respond(self, fake: FakeOpenAI, req: Recorded, fault: str | None) -> None:
        error = {"error": {"message": "Upstream overloaded", "type": "server_error", "code": None}}
        if fault == "429":
            return self._send(
                429, {"error": {"message": "Rate limit", "code": "rate_limit_exceeded"}}, {"Retry-After": "0"}
            )
        if fault == "429-ms":
            return self._send(429, {"error": {"message": "Rate limit"}}, {"retry-after-ms": "200"})
        if fault == "500":
            return self._send(500, error)
        if fault == "400":
            return self._send(
                400,
                {
                    "error": {
                        "message": "Invalid model",
                        "type": "invalid_request_error",
                        "param": "model",
                        "code": "model_not_found",
                    }
                },
            )
        if fault == "401-echo":
            return self._send(
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {fake.echo_key}",
                        "code": "invalid_api_key",
                    }
                },
            )
        if fault == "reset":
            return self._drop()
        if fault == "slow":
            time.sleep(1.0)
        if fault == "malformed":
            return self._send(200, b'{"id": "ftjob-1", "status": ')
        if req.path == "/chat/completions" and json.loads(req.body).get("stream"):
            return self._stream(broken=fault == "sse-break")
        status, payload = fake.route(req)
        if fault == "drop-after":  # the work is done, but the answer never arrives
            return self._drop()
        self._send(status, payload)

    def _stream(self, *, broken: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for word in ("Hel", "lo"):
            chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": word}}]}
            self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
            if broken:  # die mid-body: no terminating chunk
                return self._drop()
            time.sleep(0.01)
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:  # dropped sockets are the point
        pass


class RunningServer:
    """Start with ``RunningServer(fake)``; ``url`` is the API root ending in ``/v1``."""

    def __init__(self, fake: FakeOpenAI, prefix: str = "/v1") -> None:
        self.fake = fake
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = fake
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{prefix}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
