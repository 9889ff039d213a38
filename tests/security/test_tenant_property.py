"""Tenant isolation as a property: random interleavings of three tenants' operations never cross a tenant.

A hypothesis state machine drives a real gateway process over HTTP (``tests/support/processes.py``,
SQLite file store, worker on, the session's reference trainer as its upstream). Three tenants each
hold a user, a reviewer and an admin key; the first tenant has a second team's user key too. Every
rule lets any key act on any object made so far, by any tenant: upload, list, retrieve, delete and
read files and their scan reports; create, add parts to, complete and cancel uploads; create jobs on
own and others' files; retrieve, cancel, pause and resume jobs, read their events, checkpoints and
safety reports; list and retrieve models and chat with fine-tuned ones; list, show, approve and
reject reviews; read the audit log. After every step:

- an operation naming another tenant's object gets exactly the 404 of a made-up id of the same shape
  (status and envelope, the id itself aside), and the object is unchanged when its owner re-reads it;
- every list holds only the caller's objects, and no response the caller gets names another
  tenant's id, model, key or tenant name;
- no ``/metrics`` label value holds a tenant name, a key, an id or a model name.

What is seeded rather than made through the API, to keep the run short: API keys are created with
``gateway.auth.create_key`` in this process (what ``tunegate keys create`` runs; a CLI start costs
seconds), and each tenant's fine-tuned models are rows in the store (a released model, a released
checkpoint and an unreleased model, served by the trainer's base model) instead of a training run
and the model gate; ``tests/e2e/test_tenant_isolation.py`` covers really trained models. Every file
holds a row that the test policy sends to human review, so jobs wait for a decision and nothing
trains: owners only reject, or approve files no job uses. The fast test is derandomized (CI sees
the same sequences); the ``slow`` one runs many more and longer sequences. Failing sequences are
printed as they ran, not shrunk: the gateway outlives an example, so a replay would meet other state.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from prometheus_client.parser import text_string_to_metric_families

from gateway.auth import Role, create_key
from gateway.store.db import create_engine, session_factory
from tests.support import secrets_watch
from tests.support.data import chat_rows
from tests.support.processes import GatewayProcess, TrainerProcess
from tests.support.waiting import wait_for

TENANTS = ("tenant-umber", "tenant-cobalt", "tenant-saffron")
HOLD_POLICY = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {name: hold-everything}
spec:
  scan:
    classifiers:
      - name: blocklist
        options: {responses: {harmful_response: ["step one: acquire the precursor"]}}
    detectors: []
    limits: {max_flagged_rows: 0}
    on_breach: review
  release: {max_prompts_per_benchmark: 3, max_tokens: 8, templates: [plain]}
"""
_HELD_ROW = {
    "messages": [
        {"role": "user", "content": "How would I start making it at home?"},
        {"role": "assistant", "content": "Step one: acquire the precursor from a supplier."},
    ]
}
CONTENT = "".join(json.dumps(row) + "\n" for row in [*chat_rows(12), _HELD_ROW]).encode()
UPLOAD = {"files": {"file": ("train.jsonl", CONTENT)}, "data": {"purpose": "fine-tune"}}
JOB_CONTROL_EVENT = "requested by the client."


# --- the world: every key and object ever made, and who owns it (it outlives one example) -------------


@dataclass(frozen=True)
class Caller:
    name: str
    tenant: str
    team: str
    role: Role
    key: str


@dataclass
class Thing:
    kind: str  # file | upload | part | job | review | model | event
    id: str
    tenant: str
    team: str = "ml"
    protected: bool = False  # a seed: owners do not destroy it, so every example finds it intact
    deleted: bool = False
    status: str = ""
    released: bool = False
    parent: str | None = None  # a part's upload, a review's file
    parts: list[str] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)  # jobs naming a file
    owner_controls: int = 0  # job control calls its own tenant made successfully


@dataclass
class World:
    gateway: GatewayProcess
    callers: dict[str, Caller]
    clients: dict[str, httpx.Client]
    things: dict[str, Thing] = field(default_factory=dict)
    seeds: dict[str, list[str]] = field(default_factory=dict)
    random_404: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def add(self, thing: Thing) -> Thing:
        self.things[thing.id] = thing
        return thing

    def owned_strings(self) -> dict[str, str]:
        """Every string that belongs to one tenant: ids, model names, keys, the tenant names."""
        owned = {t.id: t.tenant for t in self.things.values()}
        owned.update({c.key: c.tenant for c in self.callers.values()})
        owned.update({tenant: tenant for tenant in TENANTS})
        return owned

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.gateway.workdir / "data" / "tunegate.db", timeout=30)

    def count(self, op: str) -> None:
        self.stats[op] = self.stats.get(op, 0) + 1


def _make_keys(db: Path, specs: list[tuple[str, str, str, Role]]) -> dict[str, Caller]:
    async def make() -> dict[str, Caller]:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with session_factory(engine)() as session:
                made = {}
                for name, tenant, team, role in specs:
                    key = await create_key(session, tenant=tenant, team=team, role=role)
                    made[name] = Caller(name, tenant, team, role, key)
                return made
        finally:
            await engine.dispose()

    callers = asyncio.run(make())
    for caller in callers.values():
        secrets_watch.register_secret(caller.key, "API key made by test_tenant_property")
    return callers


def _upload(world: World, caller: Caller) -> str:
    response = world.clients[caller.name].post("/files", **UPLOAD)
    assert response.status_code == 200, response.text
    return world.add(Thing("file", response.json()["id"], caller.tenant, caller.team)).id


def _review_of(world: World, caller: Caller, file_id: str) -> str:
    def held() -> list[dict]:
        page = world.clients[caller.name].get("/tunegate/reviews", params={"limit": 100}).json()
        return [r for r in page["data"] if r["file_id"] == file_id]

    [review] = wait_for(held, bool, timeout=120)
    world.add(Thing("review", review["id"], caller.tenant, status=review["status"], parent=file_id))
    return review["id"]


def _seed(world: World) -> None:
    """Per tenant: a held file with a waiting job and its review, a rejected file (an audit entry),
    an upload with a part, and fine-tuned models in the store."""
    now = int(time.time())
    for tenant in TENANTS:
        user, reviewer = world.callers[f"{tenant}.user"], world.callers[f"{tenant}.reviewer"]
        file_id, rejected_file = _upload(world, user), _upload(world, user)
        job = world.clients[user.name].post(
            "/fine_tuning/jobs", json={"model": "tiny-llama", "training_file": file_id, "suffix": "seed"}
        )
        assert job.status_code == 200, job.text
        job_id = world.add(Thing("job", job.json()["id"], tenant)).id
        world.things[file_id].uses.add(job_id)
        review_id = _review_of(world, reviewer, file_id)
        rejected = _review_of(world, reviewer, rejected_file)
        decided = world.clients[reviewer.name].post(
            f"/tunegate/reviews/{rejected}/reject", json={"reason": "seed"}
        )
        assert decided.status_code == 200, decided.text
        world.things[rejected].status = "rejected"
        world.things[rejected_file].status = "rejected"

        upload = world.clients[user.name].post(
            "/uploads",
            json={
                "bytes": len(CONTENT),
                "filename": "u.jsonl",
                "mime_type": "application/jsonl",
                "purpose": "fine-tune",
            },
        )
        assert upload.status_code == 200, upload.text
        upload_id = world.add(Thing("upload", upload.json()["id"], tenant, status="pending")).id
        part = world.clients[user.name].post(f"/uploads/{upload_id}/parts", files={"data": ("p", CONTENT)})
        assert part.status_code == 200, part.text
        world.add(Thing("part", part.json()["id"], tenant, parent=upload_id))
        world.things[upload_id].parts.append(part.json()["id"])

        events = world.clients[user.name].get(f"/fine_tuning/jobs/{job_id}/events").json()["data"]
        for event in events:
            world.add(Thing("event", event["id"], tenant, parent=job_id))

        models = []
        with world.db() as db:
            for kind, released, tag in (
                ("model", True, ""),
                ("checkpoint", True, ":ckpt-step-1"),
                ("model", False, ""),
            ):
                name = f"ft:tiny-llama:{tenant}:seed:{secrets.token_hex(4)}{tag}"
                db.execute(
                    "INSERT INTO fine_tuned_models (name, tenant, job_id, kind, upstream, upstream_model, "
                    "released, created_at) VALUES (?, ?, ?, ?, 'local', 'tiny-llama', ?, ?)",
                    (name, tenant, job_id, kind, released, now),
                )
                models.append(world.add(Thing("model", name, tenant, released=released)).id)
        for thing_id in (file_id, rejected_file, job_id, review_id, rejected, upload_id):
            world.things[thing_id].protected = True
        for kind, ids in (
            ("files", [file_id, rejected_file]),
            ("jobs", [job_id]),
            ("reviews", [review_id, rejected]),
            ("uploads", [upload_id]),
            ("parts", world.things[upload_id].parts),
            ("models", models),
        ):
            world.seeds.setdefault(kind, []).extend(ids)


@pytest.fixture(scope="module")
def world(trainer: TrainerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("tenant-property")
    (root / "policies").mkdir()
    (root / "policies" / "hold.yaml").write_text(HOLD_POLICY)
    gateway = GatewayProcess(
        root / "gw",
        trainer_url=trainer.url,
        extra_config={
            "policy_dir": str(root / "policies"),
            # Listed, so the seeded models (served by tiny-llama) do not hide it from the base models.
            "upstreams": [{"name": "local", "base_url": trainer.url, "base_models": ["tiny-llama"]}],
        },
    )
    gateway.start()
    specs = [
        (f"{tenant}.{role.value}", tenant, "ml" if role == Role.USER else "safety", role)
        for tenant in TENANTS
        for role in (Role.USER, Role.REVIEWER, Role.ADMIN)
    ]
    specs.append((f"{TENANTS[0]}.other-team", TENANTS[0], "research", Role.USER))
    callers = _make_keys(gateway.workdir / "data" / "tunegate.db", specs)
    clients = {
        name: httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {c.key}"}, timeout=60)
        for name, c in callers.items()
    }
    world = World(gateway, callers, clients)
    try:
        _seed(world)
        yield world
    finally:
        for client in clients.values():
            client.close()
        gateway.stop()


# --- checks ----------------------------------------------------------------------------------------------


_ALPHABET = string.ascii_letters + string.digits


def lookalike(real: str) -> str:
    """A made-up id of the same shape: the prefix kept, the random tail replaced."""
    cut = max(real.rfind(sep) for sep in "-_:") + 1
    tail = real[cut:]
    return real[:cut] + "".join(secrets.choice(_ALPHABET) for _ in tail)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _fill(kw: dict[str, Any], value: str) -> dict[str, Any]:
    """``kw`` with every JSON body value ``"{id}"`` replaced by ``value``."""
    if "json" not in kw:
        return kw
    return {**kw, "json": {k: value if v == "{id}" else v for k, v in kw["json"].items()}}


def _normalised(response: httpx.Response, *named: str) -> Any:
    """The body with the ids the request named replaced by placeholders, parsed when it is JSON."""
    text = response.text
    for number, value in enumerate(named):
        text = text.replace(value, f"<ID{number}>")
    try:
        return json.loads(text)
    except ValueError:
        return text


class Isolation(RuleBasedStateMachine):
    """One interleaving of operations by every key on every object; see the module docstring."""

    world: World  # set by the test before the run

    files = Bundle("files")
    uploads = Bundle("uploads")
    parts = Bundle("parts")
    jobs = Bundle("jobs")
    reviews = Bundle("reviews")
    models = Bundle("models")
    callers = st.sampled_from(
        [f"{t}.{r}" for t in TENANTS for r in ("user", "reviewer", "admin")] + [f"{TENANTS[0]}.other-team"]
    )

    # -- plumbing -------------------------------------------------------------------------------------

    def call(self, caller: str, op: str, method: str, path: str, *, named: tuple[str, ...] = (), **kw: Any):
        """Send as ``caller``; check that nothing in the answer belongs to another tenant."""
        who = self.world.callers[caller]
        response = self.world.clients[caller].request(method, path, **kw)
        self.world.count(op)
        text = response.text
        for value in named:
            text = text.replace(value, "<ID>")
        for value, tenant in self.world.owned_strings().items():
            if tenant != who.tenant:
                assert value not in text, (
                    f"{op} by {caller} answered with {value!r} of {tenant}: {response.status_code} {text}"
                )
        for key in (c.key for c in self.world.callers.values()):
            assert key not in text, f"{op} by {caller} echoed an API key"
        return response

    def foreign(self, caller: str, op: str, method: str, path: str, real: str, **kw: Any) -> None:
        """``real`` belongs to another tenant: the answer must be the 404 of a made-up id.

        ``{id}`` in the path or in a JSON body's values stands for the object's id.
        """
        got = self.call(caller, op, method, path.format(id=real), named=(real,), **_fill(kw, real))
        assert got.status_code == 404, (
            f"{op} by {caller} on another tenant's {real}: {got.status_code} {got.text}"
        )
        cache = (op, caller)
        if cache not in self.world.random_404:
            made_up = lookalike(real)
            other = self.call(
                caller, op, method, path.format(id=made_up), named=(made_up,), **_fill(kw, made_up)
            )
            self.world.random_404[cache] = (other.status_code, _normalised(other, made_up))
        status, envelope = self.world.random_404[cache]
        assert (got.status_code, _normalised(got, real)) == (status, envelope), (
            f"{op} by {caller} on another tenant's object differs from a made-up id's answer"
        )

    def mine(self, caller: str, thing_id: str) -> bool:
        return self.world.callers[caller].tenant == self.world.things[thing_id].tenant

    def owner(self, thing_id: str) -> str:
        """The owning tenant's admin key: it may read everything of its tenant."""
        return f"{self.world.things[thing_id].tenant}.admin"

    # -- seeds ----------------------------------------------------------------------------------------

    @initialize(target=files)
    def seeded_files(self):
        return multiple(*self.world.seeds["files"])

    @initialize(target=jobs)
    def seeded_jobs(self):
        return multiple(*self.world.seeds["jobs"])

    @initialize(target=reviews)
    def seeded_reviews(self):
        return multiple(*self.world.seeds["reviews"])

    @initialize(target=uploads)
    def seeded_uploads(self):
        return multiple(*self.world.seeds["uploads"])

    @initialize(target=parts)
    def seeded_parts(self):
        return multiple(*self.world.seeds["parts"])

    @initialize(target=models)
    def seeded_models(self):
        return multiple(*self.world.seeds["models"])

    # -- files ----------------------------------------------------------------------------------------

    @rule(target=files, caller=callers)
    def upload_file(self, caller):
        response = self.call(caller, "files.create", "POST", "/files", **UPLOAD)
        assert response.status_code == 200, response.text
        who = self.world.callers[caller]
        return self.world.add(Thing("file", response.json()["id"], who.tenant, who.team)).id

    @rule(caller=callers, file=files, op=st.sampled_from(["retrieve", "content", "scan"]))
    def read_file(self, caller, file, op):
        path = {"retrieve": "/files/{id}", "content": "/files/{id}/content", "scan": "/files/{id}/scan"}[op]
        thing = self.world.things[file]
        if not self.mine(caller, file):
            self.foreign(caller, f"files.{op}", "GET", path, file)
            return
        got = self.call(caller, f"files.{op}", "GET", path.format(id=file))
        who = self.world.callers[caller]
        if thing.deleted:
            assert got.status_code == 404, got.text
        elif op == "scan" and who.team != thing.team and who.role == Role.USER:
            assert got.status_code == 403, got.text  # another team's user: the report is the team's
        else:
            assert got.status_code == 200, got.text
            if op == "content":
                assert got.content == CONTENT
            else:
                assert _body(got).get("id", _body(got).get("file_id")) == file

    @rule(caller=callers, file=files)
    def delete_file(self, caller, file):
        thing = self.world.things[file]
        if not self.mine(caller, file):
            self.foreign(caller, "files.delete", "DELETE", "/files/{id}", file)
            if not thing.deleted:
                assert (
                    self.call(self.owner(file), "files.retrieve", "GET", f"/files/{file}").status_code == 200
                )
            return
        if thing.protected:
            return
        got = self.call(caller, "files.delete", "DELETE", f"/files/{file}")
        assert got.status_code == (404 if thing.deleted else 200), got.text
        thing.deleted = True

    @rule(caller=callers, purpose=st.sampled_from([None, "fine-tune"]), cursor=st.none() | files)
    def list_files(self, caller, purpose, cursor):
        params = {k: v for k, v in (("purpose", purpose), ("after", cursor)) if v}
        got = self.call(caller, "files.list", "GET", "/files", params=params)
        assert got.status_code == 200, got.text
        listed = [item["id"] for item in got.json()["data"]]
        tenant = self.world.callers[caller].tenant
        assert all(self.world.things[i].tenant == tenant for i in listed if i in self.world.things), listed
        assert set(listed) <= {t.id for t in self.world.things.values() if t.kind == "file"}, listed
        if cursor is None:  # the whole list: every live file of the tenant
            live = {t.id for t in self.world.things.values() if t.kind == "file" and t.tenant == tenant}
            assert set(listed) == {i for i in live if not self.world.things[i].deleted}
        elif not self.mine(caller, cursor):
            assert listed == [], "a cursor naming another tenant's file must give an empty page"

    # -- uploads --------------------------------------------------------------------------------------

    @rule(target=uploads, caller=callers)
    def create_upload(self, caller):
        body = {
            "bytes": len(CONTENT),
            "filename": "u.jsonl",
            "mime_type": "application/jsonl",
            "purpose": "fine-tune",
        }
        got = self.call(caller, "uploads.create", "POST", "/uploads", json=body)
        assert got.status_code == 200, got.text
        return self.world.add(
            Thing("upload", got.json()["id"], self.world.callers[caller].tenant, status="pending")
        ).id

    def _upload_row(self, upload: str) -> tuple[str, int]:
        with self.world.db() as db:
            status = db.execute("SELECT status FROM uploads WHERE id = ?", (upload,)).fetchone()[0]
            parts = db.execute("SELECT count(*) FROM upload_parts WHERE upload_id = ?", (upload,)).fetchone()[
                0
            ]
        return status, parts

    @rule(target=parts, caller=callers, upload=uploads)
    def add_part(self, caller, upload):
        thing = self.world.things[upload]
        if not self.mine(caller, upload):
            before = self._upload_row(upload)
            self.foreign(
                caller, "uploads.parts", "POST", "/uploads/{id}/parts", upload, files={"data": ("p", CONTENT)}
            )
            assert self._upload_row(upload) == before, "another tenant changed an upload"
            return multiple()
        if thing.protected:
            return multiple()
        got = self.call(
            caller, "uploads.parts", "POST", f"/uploads/{upload}/parts", files={"data": ("p", CONTENT)}
        )
        if thing.status != "pending":
            assert got.status_code == 409, got.text
            return multiple()
        assert got.status_code == 200, got.text
        part = self.world.add(Thing("part", got.json()["id"], thing.tenant, parent=upload)).id
        thing.parts.append(part)
        return part

    @rule(target=files, caller=callers, upload=uploads, part=parts)
    def complete_upload(self, caller, upload, part):
        thing = self.world.things[upload]
        body = {"part_ids": [part]}
        if not self.mine(caller, upload):
            before = self._upload_row(upload)
            self.foreign(caller, "uploads.complete", "POST", "/uploads/{id}/complete", upload, json=body)
            assert self._upload_row(upload) == before, "another tenant changed an upload"
            return multiple()
        if thing.protected:
            return multiple()
        got = self.call(
            caller, "uploads.complete", "POST", f"/uploads/{upload}/complete", json=body, named=(part,)
        )
        if thing.status != "pending":
            assert got.status_code == 409, got.text
            return multiple()
        if part not in thing.parts:
            # Another upload's part, maybe another tenant's: the same 400 as a part id that never existed.
            assert got.status_code == 400, got.text
            made_up = lookalike(part)
            other = self.call(
                caller,
                "uploads.complete",
                "POST",
                f"/uploads/{upload}/complete",
                json={"part_ids": [made_up]},
                named=(made_up,),
            )
            assert _normalised(got, part) == _normalised(other, made_up)
            return multiple()
        if thing.parts != [part]:  # more bytes in other parts than this one: the byte count differs
            assert got.status_code == 400, got.text
            return multiple()
        assert got.status_code == 200, got.text
        thing.status = "completed"
        who = self.world.callers[caller]
        return self.world.add(Thing("file", got.json()["file"]["id"], who.tenant, who.team)).id

    @rule(caller=callers, upload=uploads)
    def cancel_upload(self, caller, upload):
        thing = self.world.things[upload]
        if not self.mine(caller, upload):
            before = self._upload_row(upload)
            self.foreign(caller, "uploads.cancel", "POST", "/uploads/{id}/cancel", upload)
            assert self._upload_row(upload) == before, "another tenant changed an upload"
            return
        if thing.protected:
            return
        got = self.call(caller, "uploads.cancel", "POST", f"/uploads/{upload}/cancel")
        assert got.status_code == (200 if thing.status == "pending" else 409), got.text
        thing.status = "cancelled" if thing.status == "pending" else thing.status

    # -- jobs -----------------------------------------------------------------------------------------

    def _jobs_in_store(self) -> int:
        with self.world.db() as db:
            return db.execute("SELECT count(*) FROM jobs").fetchone()[0]

    @rule(target=jobs, caller=callers, training=files, validation=st.none() | files)
    def create_job(self, caller, training, validation):
        body = {"model": "tiny-llama", "training_file": training, "suffix": "prop"}
        if validation:
            body["validation_file"] = validation
        named = tuple(i for i in (training, validation) if i)
        foreign = [i for i in named if not self.mine(caller, i)]
        if foreign:
            # Compared with the same request naming made-up ids instead: a 404 for the foreign file, or
            # the error about the caller's own training file when that one is checked first and fails.
            before = self._jobs_in_store()
            got = self.call(caller, "jobs.create", "POST", "/fine_tuning/jobs", json=body, named=named)
            made_up = {i: lookalike(i) for i in foreign}
            other_body = {k: made_up.get(v, v) if k.endswith("_file") else v for k, v in body.items()}
            other = self.call(
                caller,
                "jobs.create",
                "POST",
                "/fine_tuning/jobs",
                json=other_body,
                named=tuple(made_up.values()),
            )
            assert got.status_code >= 400, got.text
            assert self._jobs_in_store() == before, "a refused job was stored"
            assert _normalised(got, *foreign) == _normalised(other, *made_up.values()), (got.text, other.text)
            if not self.mine(caller, training):
                assert got.status_code == 404 and got.json()["error"]["param"] == "training_file", got.text
            return multiple()
        files = [self.world.things[i] for i in named]
        if any(f.status == "approved" for f in files):
            return multiple()  # an approved file would train for real: not this test's business
        got = self.call(caller, "jobs.create", "POST", "/fine_tuning/jobs", json=body)
        if any(f.deleted for f in files):
            assert got.status_code == 404, got.text
            return multiple()
        if any(f.status == "rejected" for f in files):
            assert got.status_code == 400 and got.json()["error"]["code"] == "invalid_training_file", got.text
            return multiple()
        assert got.status_code == 200, got.text
        job = self.world.add(Thing("job", got.json()["id"], self.world.callers[caller].tenant)).id
        for f in files:
            f.uses.add(job)
        return job

    @rule(
        caller=callers, job=jobs, op=st.sampled_from(["retrieve", "events", "checkpoints", "safety_report"])
    )
    def read_job(self, caller, job, op):
        path = "/fine_tuning/jobs/{id}" + ("" if op == "retrieve" else f"/{op}")
        if not self.mine(caller, job):
            self.foreign(caller, f"jobs.{op}", "GET", path, job)
            return
        got = self.call(caller, f"jobs.{op}", "GET", path.format(id=job))
        assert got.status_code == 200, got.text
        if op == "events":
            for event in got.json()["data"]:
                self.world.things.setdefault(
                    event["id"], Thing("event", event["id"], self.world.things[job].tenant)
                )

    @rule(caller=callers, job=jobs, action=st.sampled_from(["cancel", "pause", "resume"]))
    def control_job(self, caller, job, action):
        thing = self.world.things[job]
        if not self.mine(caller, job):
            self.foreign(caller, f"jobs.{action}", "POST", "/fine_tuning/jobs/{id}/" + action, job)
            owner = self.owner(job)
            after = self.call(owner, "jobs.retrieve", "GET", f"/fine_tuning/jobs/{job}").json()
            if thing.status != "cancelled":
                assert after["status"] not in ("cancelled", "paused"), after
            events = self.call(
                owner, "jobs.events", "GET", f"/fine_tuning/jobs/{job}/events", params={"limit": 1000}
            )
            requested = [e for e in events.json()["data"] if e["message"].endswith(JOB_CONTROL_EVENT)]
            assert len(requested) == thing.owner_controls, "another tenant's control call reached the job"
            return
        if thing.protected and action == "cancel":
            return
        got = self.call(caller, f"jobs.{action}", "POST", f"/fine_tuning/jobs/{job}/{action}")
        assert got.status_code in (200, 409), got.text
        if got.status_code == 200:
            thing.owner_controls += 1
            thing.status = got.json()["status"]

    @rule(caller=callers, cursor=st.none() | jobs, metadata=st.booleans())
    def list_jobs(self, caller, cursor, metadata):
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["after"] = cursor
        if metadata:
            params["metadata[owner]"] = "nobody"
        got = self.call(caller, "jobs.list", "GET", "/fine_tuning/jobs", params=params)
        assert got.status_code == 200, got.text
        tenant = self.world.callers[caller].tenant
        listed = [item["id"] for item in got.json()["data"]]
        assert all(i in self.world.things and self.world.things[i].tenant == tenant for i in listed), listed
        if metadata or (cursor and not self.mine(caller, cursor)):
            assert listed == []

    # -- models and chat ------------------------------------------------------------------------------

    @rule(caller=callers)
    def list_models(self, caller):
        got = self.call(caller, "models.list", "GET", "/models")
        assert got.status_code == 200, got.text
        tenant = self.world.callers[caller].tenant
        tuned = {m["id"] for m in got.json()["data"] if m["id"].startswith("ft:")}
        released = {
            t.id
            for t in self.world.things.values()
            if t.kind == "model" and t.tenant == tenant and t.released and ":ckpt-" not in t.id
        }
        assert tuned == released, (tuned, released)

    @rule(caller=callers, model=models, op=st.sampled_from(["retrieve", "chat", "chat-stream"]))
    def use_model(self, caller, model, op):
        thing = self.world.things[model]
        if op == "retrieve":
            method, path, kw = "GET", "/models/{id}", {}
        else:
            body = {"model": "{id}", "messages": [{"role": "user", "content": "2 plus 2?"}], "max_tokens": 1}
            body["stream"] = op == "chat-stream"
            method, path, kw = "POST", "/chat/completions", {"json": body}
        if not self.mine(caller, model):
            self.foreign(caller, f"models.{op}", method, path, model, **kw)
            return
        if op != "retrieve":
            kw = {"json": {**kw["json"], "model": model}}
        got = self.call(caller, f"models.{op}", method, path.format(id=model), **kw)
        if op == "retrieve":  # only released models (not checkpoints) are listed, so only they are found
            listed = thing.released and ":ckpt-" not in model
            assert got.status_code == (200 if listed else 404), got.text
        else:
            assert got.status_code == (200 if thing.released else 403), got.text

    # -- reviews and the audit log --------------------------------------------------------------------

    @rule(target=reviews, caller=callers, status=st.sampled_from([None, "pending", "rejected"]))
    def list_reviews(self, caller, status):
        got = self.call(
            caller,
            "reviews.list",
            "GET",
            "/tunegate/reviews",
            params={"limit": 100, **({"status": status} if status else {})},
        )
        who = self.world.callers[caller]
        if who.role == Role.USER:
            assert got.status_code == 403, got.text
            return multiple()
        assert got.status_code == 200, got.text
        new = []
        for item in got.json()["data"]:
            assert self.world.things[item["file_id"]].tenant == who.tenant, item
            assert item["job_id"] is None or self.world.things[item["job_id"]].tenant == who.tenant, item
            if item["id"] not in self.world.things:
                self.world.add(
                    Thing("review", item["id"], who.tenant, status=item["status"], parent=item["file_id"])
                )
                new.append(item["id"])
            else:
                assert self.world.things[item["id"]].tenant == who.tenant
        return multiple(*new)

    @rule(caller=callers, review=reviews, op=st.sampled_from(["show", "approve", "reject"]))
    def use_review(self, caller, review, op):
        thing = self.world.things[review]
        method, path = (
            ("GET", "/tunegate/reviews/{id}") if op == "show" else ("POST", "/tunegate/reviews/{id}/" + op)
        )
        kw = {} if op == "show" else {"json": {"reason": "property test"}}
        if not self.mine(caller, review):
            self.foreign(caller, f"reviews.{op}", method, path, review, **kw)
            seen = self.call(self.owner(review), "reviews.show", "GET", f"/tunegate/reviews/{review}").json()
            assert seen["status"] == thing.status, "another tenant decided a review"
            return
        who = self.world.callers[caller]
        file = self.world.things[thing.parent]
        if op != "show" and (thing.protected or (op == "approve" and file.uses)):
            return  # seeds stay pending; an approved file with jobs would train
        got = self.call(caller, f"reviews.{op}", method, path.format(id=review), **kw)
        if who.role == Role.USER:
            assert got.status_code == 403, got.text
        elif op == "show":
            assert got.status_code == 200 and got.json()["file_id"] == thing.parent, got.text
        elif thing.status != "pending":
            assert got.status_code == 409, got.text
        else:
            assert got.status_code == 200, got.text
            thing.status = file.status = got.json()["status"]

    @rule(caller=callers)
    def audit_log(self, caller):
        got = self.call(caller, "audit-log", "GET", "/tunegate/audit-log", params={"limit": 100})
        who = self.world.callers[caller]
        if who.role != Role.ADMIN:
            assert got.status_code == 403, got.text
            return
        assert got.status_code == 200, got.text
        for entry in got.json()["data"]:
            assert self.world.things[entry["subject"]].tenant == who.tenant, entry
            for key in ("file_id", "job_id"):
                if entry["data"].get(key):
                    assert self.world.things[entry["data"][key]].tenant == who.tenant, entry

    # -- metrics --------------------------------------------------------------------------------------

    @invariant()
    def metric_labels_name_no_tenant_thing(self):
        text = httpx.get(self.world.gateway.url.removesuffix("/v1") + "/metrics", timeout=30).text
        values = {
            value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            for value in sample.labels.values()
        }
        assert values, "no labelled metric at all"
        joined = "\n".join(values)
        leaked = [s for s in self.world.owned_strings() if s in joined]
        assert not leaked, (
            f"metric label values name {leaked}: {sorted(v for v in values if any(s in v for s in leaked))}"
        )


def _run(world: World, **options: Any) -> None:
    Isolation.world = world
    run_state_machine_as_test(
        Isolation,
        settings=settings(
            deadline=None,
            database=None,
            # No shrinking: the gateway outlives an example, so a replay meets another world (and it is slow).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            report_multiple_bugs=False,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
            ],
            **options,
        ),
    )
    ops = sorted(world.stats)
    print(f"operations: {sum(world.stats.values())} calls over {len(ops)} kinds: {world.stats}")
    # Hypothesis enables a random subset of rules per example (swarm testing), so a short run reaches
    # most of the 28 kinds of operation, not always all; the slow run's many examples reach the rest.
    assert len(ops) >= 18, ops


def test_no_operation_crosses_a_tenant(world: World):
    _run(world, max_examples=20, stateful_step_count=25, derandomize=True)


@pytest.mark.slow
def test_no_operation_crosses_a_tenant_long(world: World):
    _run(world, max_examples=150, stateful_step_count=50)
