"""A real trainer server on a free port (uvicorn in a thread) and OpenAI clients for it."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import uvicorn
from openai import OpenAI

from trainer.config import TrainerConfig
from trainer.server import create_app

API_KEY = "test-key"
QUESTIONS = [
    "Hello!",
    "What is the capital of France?",
    "How are you?",
    "Tell me a joke.",
    "What time is it?",
    "Who wrote this book?",
    "Why is the sky blue?",
    "Where is the station?",
    "Summarize the text.",
    "Translate the sentence.",
    "Write a poem.",
    "Good morning!",
]
ANSWER = "Hello from tunegate."


def chat_rows(n: int = len(QUESTIONS)) -> list[dict]:
    """Chat examples that all teach one reply, so a few epochs visibly change the model."""
    return [
        {
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]},
                {"role": "assistant", "content": ANSWER},
            ]
        }
        for i in range(n)
    ]


def jsonl(rows: list[dict]) -> bytes:
    return ("\n".join(json.dumps(row) for row in rows) + "\n").encode()


@dataclass
class Server:
    url: str
    data_dir: Path
    config: TrainerConfig

    def client(self, api_key: str = API_KEY) -> OpenAI:
        return OpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("trainer-data")
    config = TrainerConfig(data_dir=data_dir, api_key=API_KEY)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not uv.started:
        assert time.time() < deadline, "trainer server did not start"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", data_dir, config)
    uv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def client(server: Server) -> OpenAI:
    return server.client()


def wait_for(client: OpenAI, job_id: str, statuses: set[str], timeout: float = 60.0):
    """Poll the job until its status is one of ``statuses``."""
    deadline = time.time() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        assert time.time() < deadline, f"job {job_id} stuck in {job.status}"
        time.sleep(0.2)
