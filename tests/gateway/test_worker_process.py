"""``tunegate worker``: its own /metrics port, and a clean stop on SIGTERM (it may run as PID 1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from tests.support.processes import REPO, free_port


def test_worker_serves_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "tunegate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "data"),
                "trainer": {"embedded": False},
                "worker": {"metrics_port": port, "idle_sleep": 0.1},
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--config", str(config), "worker"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline and "tunegate_policies_loaded" not in body:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.2)
        assert "tunegate_policies_loaded" in body and "tunegate_work_processed" in body
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
