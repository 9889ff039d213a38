"""Shared fixtures for the security tests: a real gateway on the session trainer, keys, helpers.

The gateway's policies are the module's ``policies`` fixture (by default ``MARKER_POLICY``, which
flags one phrase deterministically, so "blocked" never depends on a model's recall); a module
overrides ``policies`` or ``gateway_config`` to change them. Keys are created once per
(tenant, team, role) and cached for the module.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from tests.support.processes import GatewayProcess

# The phrase every marker policy flags, in answers (whatever hides it: see test_bypass.py).
MARKER = "step one: acquire the precursor"
TENANT = "acme"
FAST_RELEASE = {"max_prompts_per_benchmark": 3, "max_tokens": 8, "templates": ["plain"]}
# A model gate that fails every tiny-model answer (the refusal-keyword judge) and holds the model
# for review: a trained job stays unreleased for as long as a test needs.
HOLD_RELEASE = {**FAST_RELEASE, "judge": {"name": "refusal-keywords"}, "on_failure": "review"}


def marker_policy(
    name: str = "security-marker",
    *,
    tenants: tuple[str, ...] = ("*",),
    teams: tuple[str, ...] = ("*",),
    release: dict[str, Any] | None = None,
    detectors: list[dict[str, Any]] | None = None,
) -> str:
    """A policy that rejects any file with ``MARKER`` in a trained answer (or in a weight-0 turn)."""
    document = {
        "apiVersion": "tunegate.io/v1",
        "kind": "Policy",
        "metadata": {"name": name, "owner": "security-tests"},
        "spec": {
            "match": {"tenants": list(tenants), "teams": list(teams)},
            "scan": {
                "classifiers": [
                    {"name": "blocklist", "options": {"responses": {"harmful_response": [MARKER]}}}
                ],
                "detectors": detectors or [],
                # Any flagged row breaches; any borderline row is more than may be dropped: both reject.
                "limits": {
                    "max_flagged_rows": 0,
                    "drop_borderline_max_rows": 0,
                    "drop_borderline_max_fraction": 0.0,
                },
                "on_breach": "reject",
                "on_many_borderline": "reject",
            },
            "release": release or HOLD_RELEASE,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture(scope="module")
def policies() -> dict[str, str]:
    """Policy files (name → YAML) of the module's gateway; override in a module to change them."""
    return {"marker.yaml": marker_policy()}


@pytest.fixture(scope="module")
def gateway_config() -> dict[str, Any]:
    """Extra ``tunegate.yaml`` keys of the module's gateway; override in a module to change them."""
    return {}


@pytest.fixture(scope="module")
def gw(
    trainer,
    tmp_path_factory: pytest.TempPathFactory,
    policies: dict[str, str],
    gateway_config: dict[str, Any],
) -> Iterator[GatewayProcess]:
    """One gateway process for the module, in front of the session's real trainer."""
    root = tmp_path_factory.mktemp("security")
    policy_dir = root / "policies"
    policy_dir.mkdir()
    for filename, text in policies.items():
        (policy_dir / filename).write_text(text)
    process = GatewayProcess(
        root / "gw", trainer_url=trainer.url, extra_config={"policy_dir": str(policy_dir), **gateway_config}
    )
    process.start()
    yield process
    process.stop()


class Keys:
    """API keys of the module's gateway, created on first use: ``keys("globex", "ml", "admin")``."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self._gateway = gateway
        self._made: dict[tuple[str, str, str], str] = {}

    def __call__(self, tenant: str = TENANT, team: str = "ml", role: str = "user") -> str:
        wanted = (tenant, team, role)
        if wanted not in self._made:
            self._made[wanted] = self._gateway.create_key(tenant, team, role)
        return self._made[wanted]


@pytest.fixture(scope="module")
def keys(gw: GatewayProcess) -> Keys:
    return Keys(gw)


@pytest.fixture(scope="module")
def client(gw: GatewayProcess, keys: Keys) -> openai.OpenAI:
    """The openai client of tenant ``acme``, team ``ml``, role ``user``."""
    return gw.client(keys())


@pytest.fixture(scope="module")
def http(gw: GatewayProcess, keys: Keys) -> Iterator[httpx.Client]:
    """Raw HTTP with the same key as ``client``, for routes and bodies the SDK cannot send."""
    with httpx.Client(base_url=gw.url, headers={"Authorization": f"Bearer {keys()}"}, timeout=60) as raw:
        yield raw


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def query(gateway: GatewayProcess, sql: str, *args: Any) -> list[tuple]:
    """Read the gateway's SQLite database: only for what the API deliberately never shows."""
    with contextlib.closing(sqlite3.connect(gateway.workdir / "data" / "tunegate.db")) as db:
        return db.execute(sql, args).fetchall()


def spool_path(gateway: GatewayProcess, file_id: str) -> Path:
    ((path,),) = query(gateway, "SELECT spool_path FROM files WHERE id = ?", file_id)
    return Path(path)
