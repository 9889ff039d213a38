from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_openai import FakeOpenAI, RunningServer


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
def server(fake: FakeOpenAI) -> Iterator[RunningServer]:
    running = RunningServer(fake)
    yield running
    running.stop()
