"""Provider keys and tunegate API keys never show in responses, errors, events, metrics, logs or the store.

One gateway (log level DEBUG) with four upstreams, each holding a provider key from the environment
(``${ENV}`` in the YAML, as operators write it):

- ``local``: a real reference trainer started with a provider API key: a job is forwarded to it and
  cancelled there, and chat goes through it (stream and not); the ``slow`` variant trains the job to
  the end, through the model gate (litellm calls with the key), and chats with the released model;
- ``wrong``: the same trainer with a wrong key: its 401 fails the job and the model list;
- ``echo`` and ``echo-azure``: a tiny local HTTP server that answers every request with a 401 whose
  body echoes the credential headers back (``Authorization`` / ``api-key``) in the message and the
  param. It stands in for a misbehaving hosted provider (one cannot be reached from here); the
  gateway must redact the key from whatever it passes on.

Clients also present wrong, malformed and revoked keys. Everything is collected (every response
body and header, job errors and events, /metrics, CLI output, the settings' repr and dumps, the
gateway's and trainer's logs, every row of the gateway's SQLite store as text) and no secret may
occur in any of it. The one allowed place is ``tunegate keys create``'s stdout, which prints the new
key once by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role, create_key
from gateway.settings import load_settings
from gateway.store.db import create_engine, session_factory
from tests.support import secrets_watch
from tests.support.data import chat_rows
from tests.support.processes import GatewayProcess, TrainerProcess, free_port
from tests.support.waiting import wait_for

TENANT = "keyholder"
TRAINING = "".join(json.dumps(row) + "\n" for row in chat_rows(12)).encode()
LIGHT_POLICY = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {name: secrets-light}
spec:
  scan:
    classifiers:
      - name: blocklist
        options: {responses: {harmful_response: ["step one: acquire the precursor"]}}
    detectors: []
  release:
    benchmarks: ["builtin:advbench-v1", "builtin:benign-v1"]
    judge: {name: refusal-keywords}
    templates: [plain]
    max_prompts_per_benchmark: 2
    max_tokens: 4
    on_failure: allow
"""
ENV = {
    "local": "TG_SECRETS_PROVIDER_KEY",
    "wrong": "TG_SECRETS_WRONG_KEY",
    "echo": "TG_SECRETS_ECHO_KEY",
    "echo-azure": "TG_SECRETS_AZURE_KEY",
}


def _ref(upstream: str) -> str:
    """The YAML value for an upstream's key: a reference to the environment variable that holds it."""
    return "${" + ENV[upstream] + "}"


def _provider_key() -> str:
    return "sk-tgtest-" + secrets.token_urlsafe(24)


class _EchoHandler(BaseHTTPRequestHandler):
    """401 for everything, with the credential headers copied into the error (a leaky provider)."""

    def _answer(self) -> None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while (size := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        else:
            self.rfile.read(int(self.headers.get("content-length") or 0))
        presented = self.headers.get("authorization") or self.headers.get("api-key") or ""
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {presented}. Headers: {dict(self.headers)}",
                    "type": "invalid_request_error",
                    "param": presented,
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@dataclass
class Captured:
    """Everything the scenario saw, as (where, text) pairs."""

    items: list[tuple[str, str]] = field(default_factory=list)
    allowed: list[tuple[str, str]] = field(default_factory=list)  # keys create's stdout: the key, once

    def add(self, where: str, text: str) -> None:
        self.items.append((where, text))

    def record(self, response: httpx.Response) -> None:
        response.read()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        self.add(where, f"{headers}\n\n{response.text}")


@dataclass
class Scenario:
    gateway: GatewayProcess
    trainer: TrainerProcess
    provider_keys: dict[str, str]
    api_keys: list[str]
    presented: list[str]  # keys clients sent that the gateway does not accept
    captured: Captured

    @property
    def all_secrets(self) -> list[str]:
        return [*self.provider_keys.values(), *self.api_keys, *self.presented]


def _client(gw: GatewayProcess, captured: Captured, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(
        base_url=gw.url, headers=headers, timeout=120, event_hooks={"response": [captured.record]}
    )


def _store_as_text(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db, timeout=30) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [
            (f"table {name}", "\n".join(map(repr, conn.execute(f'SELECT * FROM "{name}"')))) for name in names
        ]


def _run_job(client: httpx.Client, model: str, file_id: str) -> dict:
    job = client.post(
        "/fine_tuning/jobs",
        json={
            "model": model,
            "training_file": file_id,
            "suffix": "sec",
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
        },
    )
    assert job.status_code == 200, job.text
    return job.json()


def _finished(client: httpx.Client, job_id: str) -> dict:
    return wait_for(
        lambda: client.get(f"/fine_tuning/jobs/{job_id}").json(),
        lambda j: j["status"] in ("succeeded", "failed", "cancelled"),
        timeout=240,
        every=0.5,
    )


def _in_process_keys(db: Path, *roles: Role) -> list[str]:
    """More keys straight through ``gateway.auth.create_key`` (one CLI start costs seconds)."""

    async def make() -> list[str]:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with session_factory(engine)() as session:
                return [await create_key(session, tenant=TENANT, team="ops", role=role) for role in roles]
        finally:
            await engine.dispose()

    keys = asyncio.run(make())
    for key in keys:
        secrets_watch.register_secret(key, "API key made in test_secrets")
    return keys


@contextlib.contextmanager
def _scenario(root: Path, shared_models: Path, *, full_job: bool) -> Iterator[Scenario]:
    provider_keys = {name: _provider_key() for name in ENV}
    captured = Captured()
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_url = f"http://127.0.0.1:{echo.server_address[1]}/v1"

    policy_dir = root / "policies"
    policy_dir.mkdir()
    (policy_dir / "light.yaml").write_text(LIGHT_POLICY)
    trainer = TrainerProcess(root / "trainer", port=free_port(), api_key=provider_keys["local"])
    if shared_models.is_dir():  # the session trainer's tiny model: no second build
        shutil.copytree(shared_models, trainer.workdir / "data" / "models")
    with pytest.MonkeyPatch.context() as env:
        for name, variable in ENV.items():
            env.setenv(variable, provider_keys[name])
        gw = GatewayProcess(
            root / "gw",
            trainer_url=trainer.url,
            extra_config={
                "policy_dir": str(policy_dir),
                "log_level": "debug",
                "worker": {"poll_interval": 0.3, "idle_sleep": 0.1, "lease_seconds": 5, "max_attempts": 2},
                "upstreams": [
                    {"name": "local", "base_url": trainer.url, "api_key": _ref("local")},
                    {
                        "name": "wrong",
                        "base_url": trainer.url,
                        "api_key": _ref("wrong"),
                        "max_attempts": 1,
                    },
                    {
                        "name": "echo",
                        "base_url": echo_url,
                        "api_key": _ref("echo"),
                        "base_models": ["echo-model"],
                        "max_attempts": 1,
                    },
                    {
                        "name": "echo-azure",
                        "base_url": echo_url,
                        "api_key": _ref("echo-azure"),
                        "key_header": "api-key",
                        "extra_query": {"api-version": "2024-10-21"},
                        "base_models": ["azure-model"],
                        "max_attempts": 1,
                    },
                ],
                "routes": [
                    {"model": "tiny-llama", "upstream": "local"},
                    {"model": "wrong-*", "upstream": "wrong"},
                    {"model": "echo-*", "upstream": "echo"},
                    {"model": "azure-*", "upstream": "echo-azure"},
                ],
            },
        )
        # The settings as `serve` loads them (the keys resolved from the environment), then their dumps.
        settings = load_settings(gw.config_path)
        assert settings.upstreams[0].api_key.get_secret_value() == provider_keys["local"]
        for name, text in (
            ("repr(settings)", repr(settings)),
            ("str(settings)", str(settings)),
            ("settings.model_dump()", str(settings.model_dump())),
            ("settings.model_dump(mode='json')", json.dumps(settings.model_dump(mode="json"))),
            ("settings.model_dump_json()", settings.model_dump_json()),
        ):
            captured.add(name, text)
        try:
            with ThreadPoolExecutor(
                1
            ) as starting:  # both start at once: the gateway needs no trainer to boot
                trainer_up = starting.submit(trainer.start)
                gw.start()
                trainer_up.result()
            yield _play(gw, trainer, provider_keys, captured, full_job=full_job)
        finally:
            gw.stop()
            trainer.stop()
            echo.shutdown()


def _shared_models(trainer: TrainerProcess) -> Path:
    return trainer.workdir / "data" / "models"


@pytest.fixture(scope="module")
def scenario(trainer: TrainerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with _scenario(tmp_path_factory.mktemp("secrets"), _shared_models(trainer), full_job=False) as played:
        yield played


def _play(
    gw: GatewayProcess,
    trainer: TrainerProcess,
    provider_keys: dict[str, str],
    captured: Captured,
    *,
    full_job: bool,
) -> Scenario:
    # -- API keys: the CLI prints the new key and nothing else -----------------------------------------
    made = gw.cli("keys", "create", "--tenant", TENANT, "--team", "ml", "--role", "user")
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and secrets_watch.KEY_SHAPE.fullmatch(key), "keys create prints the key"
    secrets_watch.register_secret(key, "API key printed by tunegate keys create (test_secrets)")
    captured.allowed.append(("tunegate keys create stdout", made.stdout))
    captured.add("tunegate keys create stderr", made.stderr)
    db = gw.workdir / "data" / "tunegate.db"
    admin, revoked = _in_process_keys(db, Role.ADMIN, Role.USER)
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?",
            (int(time.time()), hashlib.sha256(revoked.encode()).hexdigest()),
        )

    # -- keys the gateway refuses: the 401 must not echo them ----------------------------------------
    wrong = "tg-" + secrets.token_urlsafe(32)
    presented = [wrong, revoked, "sk-not-a-tunegate-key-" + secrets.token_urlsafe(12)]
    for value in presented:
        secrets_watch.register_secret(value, "key presented by test_secrets")
    refused = {
        "wrong": {"Authorization": f"Bearer {wrong}"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "foreign": {"Authorization": f"Bearer {presented[2]}"},
        "basic": {"Authorization": f"Basic {key}"},
        "no scheme": {"Authorization": key},
        "extra words": {"Authorization": f"Bearer {key} {wrong}"},
        "azure header": {"api-key": key},
        "none": {},
    }
    upload = {"files": {"file": ("t.jsonl", TRAINING)}, "data": {"purpose": "fine-tune"}}
    with httpx.Client(base_url=gw.url, timeout=60, event_hooks={"response": [captured.record]}) as raw:
        for name, headers in refused.items():
            for method, path, kwargs in (
                ("GET", "/models", {}),
                ("GET", f"/files?api_key={wrong}", {}),
                ("POST", "/chat/completions", {"json": {"model": "tiny-llama", "messages": []}}),
                ("POST", "/files", upload),
            ):
                response = raw.request(method, path, headers=headers, **kwargs)
                assert response.status_code == 401, (name, path, response.text)
                assert response.json()["error"]["code"] == "invalid_api_key"

    with _client(gw, captured, key) as client, _client(gw, captured, admin) as admin_client:
        created = client.post("/files", **upload)
        assert created.status_code == 200, created.text
        file_id = created.json()["id"]

        # -- a job on the keyed trainer, and jobs the providers refuse ---------------------------------
        good = _run_job(client, "tiny-llama", file_id)["id"]
        refused_jobs = [
            _run_job(client, m, file_id)["id"] for m in ("wrong-model", "echo-model", "azure-model")
        ]
        for job_id in refused_jobs:
            done = _finished(client, job_id)
            assert done["status"] == "failed" and done["error"]["message"], done
            # A refusal fails the job at once with the provider's reason, not as "unreachable".
            assert done["error"]["message"].startswith("The fine-tuning provider refused"), done
        if full_job:
            done = _finished(client, good)
            assert done["status"] == "succeeded", done["error"]
            model = done["fine_tuned_model"]
            assert model in {m["id"] for m in client.get("/models").json()["data"]}
        else:  # forwarded with the key and created on the trainer, then cancelled there
            wait_for(
                lambda: client.get(f"/fine_tuning/jobs/{good}").json(),
                lambda j: j["status"] in ("queued", "running", "succeeded", "failed"),
                timeout=120,
            )
            assert client.post(f"/fine_tuning/jobs/{good}/cancel").status_code in (200, 409)
            model = "tiny-llama"

        for job_id in [good, *refused_jobs]:
            client.get(f"/fine_tuning/jobs/{job_id}")
            client.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 1000})
            client.get(f"/fine_tuning/jobs/{job_id}/checkpoints")
            for fmt in ("json", "markdown", "html"):
                client.get(f"/fine_tuning/jobs/{job_id}/safety_report", params={"format": fmt})
        client.get("/fine_tuning/jobs")
        client.get("/files")
        client.get(f"/files/{file_id}/scan")
        client.get("/models")
        message = {"messages": [{"role": "user", "content": "What is 2 plus 2?"}], "max_tokens": 4}
        assert client.post("/chat/completions", json={"model": model, **message}).status_code == 200
        streamed = client.post("/chat/completions", json={"model": model, "stream": True, **message})
        assert streamed.status_code == 200 and "data:" in streamed.text
        for name in ("wrong-model", "echo-model", "azure-model"):  # the providers' refusals reach the client
            answer = client.post("/chat/completions", json={"model": name, **message})
            assert answer.status_code >= 400, answer.text
            # A streamed request is refused before any byte is streamed: an error envelope, not a 200.
            refused = client.post("/chat/completions", json={"model": name, "stream": True, **message})
            assert refused.status_code >= 400 and "error" in refused.json(), refused.text
        admin_client.get("/tunegate/audit-log")
        admin_client.get("/tunegate/reviews")

    captured.record(httpx.get(gw.url.removesuffix("/v1") + "/metrics", timeout=30))
    gw.stop()  # flushes the logs, and the store is read after the gateway wrote its last row
    trainer.stop()
    for where, text in _store_as_text(db):
        captured.add(where, text)
    for log in (gw.log, trainer.log):
        captured.add(str(log), log.read_text(errors="replace"))
    return Scenario(gw, trainer, provider_keys, [key, admin, revoked], presented, captured)


def _leaks(scenario: Scenario, items: list[tuple[str, str]]) -> list[str]:
    return [
        f"{secrets_watch.mask(secret)}... in {where}"
        for where, text in items
        for secret in scenario.all_secrets
        if secret in text
    ]


def test_no_secret_anywhere_the_scenario_looked(scenario: Scenario):
    assert len(scenario.captured.items) > 100  # bodies, headers, rows and logs were really collected
    assert _leaks(scenario, scenario.captured.items) == []


def test_key_shaped_strings_only_where_allowed(scenario: Scenario):
    # A tunegate key in any captured text is a leak, whether or not this test made it.
    shaped = [
        f"{where}: {match.group()[:6]}..."
        for where, text in scenario.captured.items
        for match in secrets_watch.KEY_SHAPE.finditer(text)
    ]
    assert shaped == []
    [(_, printed)] = scenario.captured.allowed
    assert secrets_watch.KEY_SHAPE.fullmatch(printed.strip())


def test_provider_refusals_are_reported_without_the_key(scenario: Scenario):
    # The echo server put the key in the message and the param; what reached the client says why
    # the provider refused, with the key redacted.
    refusals = [text for where, text in scenario.captured.items if "Incorrect API key provided" in text]
    assert refusals, "no provider refusal reached the client or the store"
    assert any("[redacted]" in text for text in refusals)


def test_the_settings_hide_provider_keys(scenario: Scenario):
    dumps = [item for item in scenario.captured.items if item[0].startswith(("repr(", "str(", "settings."))]
    assert len(dumps) == 5
    assert _leaks(scenario, dumps) == []
    assert all("**********" in text for _, text in dumps)


def test_the_gateway_logged_at_debug(scenario: Scenario):
    # Otherwise the log check above proves little.
    log = scenario.gateway.log.read_text(errors="replace")
    assert " DEBUG " in log
    assert _leaks(scenario, [("gateway log", log)]) == []


@pytest.mark.slow
def test_a_full_job_leaks_no_secret(trainer: TrainerProcess, tmp_path: Path):
    """The same scenario with the job trained to the end, through the model gate, and its model served."""
    with _scenario(tmp_path, _shared_models(trainer), full_job=True) as played:
        assert _leaks(played, played.captured.items) == []
        assert [m for w, t in played.captured.items for m in secrets_watch.KEY_SHAPE.findall(t)] == []


def test_the_session_watch_finds_registered_and_key_shaped_secrets(tmp_path: Path):
    # What pytest_sessionfinish relies on: a registered secret and an unregistered key-shaped string are
    # found with their line, and a finding shows only the first six characters.
    provider, stray = _provider_key(), "tg-" + secrets.token_urlsafe(32)
    text = f"started\nPOST /v1/files with {provider}\nok\nAuthorization: Bearer {stray}\n"
    hits = secrets_watch.scan_text(text, known={provider: "a provider key"})
    assert [(line, secret) for line, secret, _ in hits] == [(2, provider), (4, stray)]
    shown = str(secrets_watch.Finding(tmp_path / "process.log", 2, provider, "a provider key"))
    assert provider[:6] in shown and provider not in shown
    assert secrets_watch.scan_text("tg-" + "a" * 44 + "\nfile-abc\n", known={}) == []  # too long: not a key
