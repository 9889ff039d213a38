"""Start the gateway and the trainer as real processes on free ports, as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from openai import OpenAI

from tests.support import secrets_watch

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s:\n{log.read_text()[-4000:]}")


def fast_gate_policies(target: Path, **release: Any) -> Path:
    """The shipped policies with a model gate small enough for tests: a few prompts, short answers.

    Scan rules are the shipped ones, so data-gate tests see the real defaults.
    """
    target.mkdir(parents=True, exist_ok=True)
    for source in (REPO / "policies").glob("*.yaml"):
        document = yaml.safe_load(source.read_text())
        document["spec"]["release"] = {
            **document["spec"].get("release", {}),
            "max_prompts_per_benchmark": 3,
            "max_tokens": 8,
            "templates": ["plain"],
            **release,
        }
        (target / source.name).write_text(yaml.safe_dump(document, sort_keys=False))
    return target


class _Process:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.log = workdir / "process.log"
        secrets_watch.register_log(self.log)  # scanned for secrets at session end

    def _spawn(self, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        with self.log.open("ab") as log:
            return subprocess.Popen(
                command, cwd=self.workdir, env=full_env, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """``kill -9``: no shutdown hooks run."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class TrainerProcess(_Process):
    def __init__(self, workdir: Path, *, port: int, api_key: str | None = None) -> None:
        super().__init__(workdir)
        self.port = port
        self.api_key = api_key
        secrets_watch.register_secret(api_key, "provider key of a TrainerProcess")
        self.url = f"http://127.0.0.1:{port}/v1"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "trainer",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.workdir / "data"),
        ]
        if self.api_key:
            command += ["--api-key", self.api_key]
        self.process = self._spawn(command)
        _wait_http(f"{self.url}/models", self.process, self.log, timeout=180)


class GatewayProcess(_Process):
    """A ``tunegate serve`` process with its own config file, data dir and database."""

    def __init__(
        self,
        workdir: Path,
        *,
        trainer_url: str,
        database_url: str | None = None,
        port: int | None = None,
        extra_config: dict[str, Any] | None = None,
        run_worker: bool = True,
        startup_timeout: float = 120.0,
    ) -> None:
        super().__init__(workdir)
        self.startup_timeout = startup_timeout
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.run_worker = run_worker
        config: dict[str, Any] = {
            "data_dir": str(workdir / "data"),
            "trainer": {"embedded": False},
            "upstreams": [{"name": "local", "base_url": trainer_url, "max_attempts": 3}],
            "routes": [{"model": "*", "upstream": "local"}],
            "worker": {"poll_interval": 0.3, "idle_sleep": 0.1, "lease_seconds": 5},
        }
        if database_url:
            config["database_url"] = database_url
        config["policy_dir"] = str(fast_gate_policies(workdir / "policies"))
        config.update(extra_config or {})
        for upstream in config.get("upstreams", []):
            key = str(upstream.get("api_key") or "")
            key = os.environ.get(key[2:-1], "") if key.startswith("${") else key
            secrets_watch.register_secret(key, "provider key of a gateway upstream")
        self.config_path = workdir / "tunegate.yaml"
        self.config_path.write_text(yaml.safe_dump(config))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", "--config", str(self.config_path), *args],
            cwd=self.workdir,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gateway.cli",
            "--config",
            str(self.config_path),
            "serve",
            "--port",
            str(self.port),
        ]
        if not self.run_worker:
            command.append("--no-worker")
        self.process = self._spawn(command)
        _wait_http(f"http://127.0.0.1:{self.port}/healthz", self.process, self.log, self.startup_timeout)

    def start_worker(self) -> None:
        """``tunegate worker``: background work only, no HTTP port."""
        command = [sys.executable, "-m", "gateway.cli", "--config", str(self.config_path), "worker"]
        self.process = self._spawn(command)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_key(self, tenant: str = "acme", team: str = "ml", role: str = "user") -> str:
        result = self.cli("keys", "create", "--tenant", tenant, "--team", team, "--role", role)
        key = result.stdout.strip()
        secrets_watch.register_secret(key, "API key from GatewayProcess.create_key")
        return key

    def client(self, key: str) -> OpenAI:
        return OpenAI(base_url=self.url, api_key=key, max_retries=0, timeout=60)
