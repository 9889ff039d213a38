"""Shared fixtures: real processes on free ports, real databases, the real openai client."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from tests.support import secrets_watch
from tests.support.postgres import postgres_database
from tests.support.processes import GatewayProcess, TrainerProcess, free_port

__all__ = ["free_port"]


@pytest.fixture(scope="session")
def trainer(tmp_path_factory: pytest.TempPathFactory):
    """The reference trainer on a free port, shared by the whole session (it builds the tiny model once)."""
    process = TrainerProcess(tmp_path_factory.mktemp("trainer"), port=free_port())
    process.start()
    yield process
    process.stop()


@pytest.fixture
def gateway(tmp_path, trainer):
    """A gateway process on SQLite with the trainer as its upstream; stopped after the test."""
    process = GatewayProcess(tmp_path / "gw", trainer_url=trainer.url)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    with postgres_database() as url:
        yield url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a secret the session handed out shows up in a process log (secrets_watch)."""
    found = secrets_watch.findings()
    if not found:
        return
    title = "secrets found in process logs (first 6 characters shown)"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", title, red=True)
        for finding in found:
            reporter.write_line(str(finding), red=True)
    else:
        print(title, *found, sep="\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
