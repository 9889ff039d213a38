"""``python -m bench.load``: the gateway under load on loopback: chat for released models plus big uploads.

1. **Released models, for real.** The reference trainer and a gateway (with its worker) run as
   processes; small benign files are uploaded with the ``openai`` client, scanned by the data
   gate, fine-tuned on ``tiny-llama`` and released by the model gate (a fast policy: 3 prompts per
   benchmark, 8 tokens, the plain template). A few sequential chats compare the gateway with the
   trainer itself on the real tiny model (context for the numbers below, not the load).
2. **The load.** The gateway restarts API-only (``serve --no-worker``, as in the Helm chart: the
   data gate's scans run in worker processes, measured in the Throughput section) in front of
   ``bench.echo_upstream``, a near-free upstream, so the latency the gateway adds is not lost in
   the tiny model's own generation. A driver process (``bench.load_driver``) sends chat at a fixed
   open-loop rate, each request paired with the same one sent straight to the upstream, and starts
   the concurrent uploads a few seconds in. This process samples the gateway's RSS and CPU.

The table goes to the "Load" section of ``docs/benchmarks.md``. ``--quick`` is a smoke run
(a few chats, a few small uploads).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import DOC, ROOT, log, machine, markdown_table, write_section_keeping_opening
from bench.paper_repro import Service, create_key, free_port

SECTION = "Load"
TENANT, TEAM = "load", "bench"
TERMINAL = ("succeeded", "failed", "cancelled")
# The target set for the gateway (issue 8): no errors, p99 added latency on chat, memory flat.
TARGET_P99_MS = 10.0
FLAT_MIB = 64.0  # "flat": the peak stays within this of the RSS when the measured window opens


@dataclass(frozen=True)
class Settings:
    """What a full run and a ``--quick`` run differ in."""

    rate: float  # chat pairs per second
    seconds: float  # measured chat window
    warmup_seconds: float
    uploads: int
    upload_bytes: int
    upload_at: float  # seconds into the window when every upload starts
    models: int  # fine-tuned models released and chatted with, round robin
    pair_every: int = 1  # every n-th chat is also sent straight to the upstream
    max_tokens: int = 1

    @classmethod
    def of(cls, quick: bool) -> Settings:
        if quick:
            return cls(
                rate=20, seconds=3, warmup_seconds=1, uploads=3, upload_bytes=64 * 1024, upload_at=1, models=1
            )
        return cls(
            rate=200,
            seconds=60,
            warmup_seconds=5,
            uploads=50,
            upload_bytes=10 * 1024**2,
            upload_at=15,
            models=2,
            pair_every=4,
        )


def reference_settings(quick: bool) -> Settings:
    """A first, light pass (every chat paired, no uploads) at a rate a small shared machine sustains:
    what the gateway adds when it is not queueing, and its CPU cost per chat."""
    if quick:
        return Settings(
            rate=10, seconds=2, warmup_seconds=0.5, uploads=0, upload_bytes=0, upload_at=0, models=1
        )
    return Settings(rate=20, seconds=20, warmup_seconds=2, uploads=0, upload_bytes=0, upload_at=0, models=2)


# -- files ----------------------------------------------------------------------------------


def _row(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You are a concise calculator."},
            {"role": "user", "content": f"What is {i} plus {i + 3}?"},
            {"role": "assistant", "content": f"{i} plus {i + 3} is {2 * i + 3}."},
        ]
    }


def training_file(path: Path, size: int | None = None, rows: int = 12) -> Path:
    """A valid chat JSONL training file: ``rows`` rows, or as many as fit in ``size`` bytes."""
    with path.open("w", encoding="utf-8") as out:
        written, i = 0, 0
        while (size is None and i < rows) or (size is not None and written < size):
            line = json.dumps(_row(i)) + "\n"
            if size is not None and written + len(line) > size and i > 0:
                break
            out.write(line)
            written += len(line.encode())
            i += 1
    return path


def fast_policies(target: Path) -> Path:
    """The shipped policies with a model gate small enough for a benchmark's setup."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "policies").glob("*.yaml"):
        document = yaml.safe_load(source.read_text())
        document["spec"]["release"] = {
            **document["spec"].get("release", {}),
            "max_prompts_per_benchmark": 3,
            "max_tokens": 8,
            "templates": ["plain"],
        }
        (target / source.name).write_text(yaml.safe_dump(document, sort_keys=False))
    return target


# -- processes ------------------------------------------------------------------------------


def _write_config(workdir: Path, upstream_url: str) -> Path:
    config = {
        "data_dir": str(workdir / "gateway"),
        "policy_dir": str(fast_policies(workdir / "policies")),
        "trainer": {"embedded": False},
        "upstreams": [{"name": "local", "base_url": upstream_url, "max_attempts": 3, "timeout": 60}],
        "routes": [{"model": "*", "upstream": "local"}],
        "worker": {"poll_interval": 0.3, "idle_sleep": 0.1, "lease_seconds": 30},
        "log_level": "warning",
    }
    path = workdir / "tunegate.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _gateway(workdir: Path, config: Path, port: int, *, worker: bool, name: str) -> Service:
    command = [sys.executable, "-m", "gateway.cli", "--config", str(config), "serve", "--port", str(port)]
    service = Service(name, command if worker else [*command, "--no-worker"], workdir)
    service.wait_http(f"http://127.0.0.1:{port}/healthz")
    return service


@contextlib.contextmanager
def _stopping(*services: Service) -> Iterator[None]:
    try:
        yield
    finally:
        for service in reversed(services):
            service.stop()


# -- step 1: released models ----------------------------------------------------------------


@dataclass
class Released:
    name: str  # the gateway's name, what a tenant calls
    upstream_model: str  # the trainer's name, what the gateway forwards
    job_seconds: float


def release_models(count: int, workdir: Path, trainer_url: str, gateway_url: str, key: str) -> list[Released]:
    """Upload, fine-tune and wait for the model gate; every job must end released."""
    from openai import OpenAI

    client = OpenAI(base_url=gateway_url, api_key=key, max_retries=2, timeout=60)
    started = time.perf_counter()
    jobs = []
    for index in range(count):
        path = training_file(workdir / f"train-{index}.jsonl", rows=12 + index)
        with path.open("rb") as handle:
            file = client.files.create(file=handle, purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model="tiny-llama",
            training_file=file.id,
            suffix=f"load{index}",
            seed=index,
            method={
                "type": "supervised",
                "supervised": {"hyperparameters": {"n_epochs": 1, "batch_size": 4}},
            },
        )
        jobs.append(job.id)
    finished = {}
    deadline = time.monotonic() + 600
    while len(finished) < len(jobs):
        for job_id in jobs:
            if (
                job_id not in finished
                and (job := client.fine_tuning.jobs.retrieve(job_id)).status in TERMINAL
            ):
                finished[job_id] = (job, time.perf_counter() - started)
        if time.monotonic() > deadline:
            raise TimeoutError(f"fine-tuning jobs still running: {sorted(set(jobs) - set(finished))}")
        time.sleep(0.5)
    names = []
    for job, seconds in finished.values():
        release = (getattr(job, "safety", None) or {}).get("release")
        if job.status != "succeeded" or release != "released":
            raise RuntimeError(f"job {job.id} ended {job.status} (release: {release}, error: {job.error})")
        names.append((job.fine_tuned_model, seconds))
    with sqlite3.connect(workdir / "gateway" / "tunegate.db") as db:
        upstream = dict(db.execute("SELECT name, upstream_model FROM fine_tuned_models WHERE released = 1"))
    return [Released(name, upstream[name], round(seconds, 1)) for name, seconds in names]


def sequential_pairs(models: list[Released], gateway_url: str, trainer_url: str, key: str, n: int) -> dict:
    """Median latency of ``n`` one-token chats, one at a time, through the gateway and on the trainer."""
    gw, direct = [], []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=60) as http:
        for i in range(n):
            model = models[i % len(models)]
            body = {"messages": [{"role": "user", "content": f"What is {i} plus 1?"}], "max_tokens": 1}
            for url, name, into, auth in (
                (gateway_url, model.name, gw, headers),
                (trainer_url, model.upstream_model, direct, {}),
            ):
                started = time.perf_counter()
                response = http.post(f"{url}/chat/completions", json={**body, "model": name}, headers=auth)
                response.raise_for_status()
                into.append(time.perf_counter() - started)
    return {"n": n, "gateway_p50_ms": _ms(_pct(gw, 50)), "direct_p50_ms": _ms(_pct(direct, 50))}


# -- step 2: the load -----------------------------------------------------------------------


class Sampler:
    """RSS and CPU time of a process every ``every`` seconds, in a thread, with wall-clock stamps."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.every = every
        self.samples: list[tuple[float, int, float]] = []  # (time, rss bytes, cpu seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                cpu = self.process.cpu_times()
                self.samples.append((time.time(), self.process.memory_info().rss, cpu.user + cpu.system))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def high_water_mark(self) -> int | None:
        """The kernel's peak RSS of the process (VmHWM), which no sampling gap can miss."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        line = next((row for row in status.splitlines() if row.startswith("VmHWM:")), None)
        return int(line.split()[1]) * 1024 if line else None


def drive(plan: dict[str, Any], workdir: Path, timeout: float) -> dict[str, Any]:
    """Run the driver process on ``plan``; its JSON result."""
    plan_path, result_path = workdir / "load-plan.json", workdir / "load-result.json"
    plan_path.write_text(json.dumps(plan))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with (workdir / "driver.log").open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.load_driver", str(plan_path), str(result_path)],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=timeout,
        )
    return json.loads(result_path.read_text())


# -- numbers --------------------------------------------------------------------------------


def _pct(values: Sequence[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _latency(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Percentiles of the gateway's answers (all of them), the direct ones and the paired differences."""
    gw = [p["gateway"] for p in pairs if p["gateway_status"] == 200]
    ok = [p for p in pairs if p["gateway_status"] == 200 and p.get("direct_status") == 200]
    direct = [p["direct"] for p in ok]
    added = [p["gateway"] - p["direct"] for p in ok]
    out: dict[str, Any] = {"requests": len(pairs), "paired_ok": len(ok)}
    for q in (50, 99):
        out[f"gateway_p{q}_ms"] = _ms(_pct(gw, q))
        out[f"direct_p{q}_ms"] = _ms(_pct(direct, q))
        out[f"added_p{q}_ms"] = _ms(_pct(added, q))  # per request, from the paired samples
        if gw and direct:
            out[f"p{q}_difference_ms"] = round(out[f"gateway_p{q}_ms"] - out[f"direct_p{q}_ms"], 2)
    out["gateway_max_ms"] = _ms(max(gw)) if gw else None
    return out


@dataclass
class LoadResult:
    settings: dict[str, Any]
    models: list[dict[str, Any]]
    sequential: dict[str, Any]
    chat: dict[str, Any]
    phases: dict[str, dict[str, Any]]
    errors: dict[str, Any]
    uploads: dict[str, Any]
    memory: dict[str, Any]
    cpu: dict[str, Any]
    verdict: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    reference: dict[str, Any] = field(default_factory=dict)  # the low-rate pass: chat, cpu, settings


def summarise(
    raw: dict[str, Any], samples: list[tuple[float, int, float]], hwm: int | None, settings: Settings
) -> dict[str, Any]:
    """Everything the section reports, from the driver's raw pairs and uploads and the RSS samples."""
    pairs, uploads = raw["pairs"], raw["uploads"]
    errors = [p for p in pairs if p["gateway_status"] != 200 or p["gateway_error"]]
    direct_errors = [p for p in pairs if "direct" in p and (p["direct_status"] != 200 or p["direct_error"])]
    failed_uploads = [u for u in uploads if u["status"] != 200]
    first = min((u["start"] for u in uploads), default=None)
    last = max((u["end"] for u in uploads), default=None)
    phases = {}
    if first is not None and last is not None:
        phases = {
            "before uploads": _latency([p for p in pairs if p["due"] < first]),
            "during uploads": _latency([p for p in pairs if first <= p["due"] <= last]),
            "after uploads": _latency([p for p in pairs if p["due"] > last]),
        }
    dues = [p["due"] for p in pairs]
    lags = [p["lag"] for p in pairs]
    chat = {
        **_latency(pairs),
        "target_rate": settings.rate,
        "sent_rate": round((len(pairs) - 1) / (max(dues) - min(dues)), 1) if len(dues) > 1 else None,
        "send_lag_p99_ms": _ms(_pct(lags, 99)),
        "answered_rate": _answered_rate(pairs),
        "chat_seconds": round(raw["chat_seconds"], 1),
    }
    duration = (last - first) if first is not None and last is not None else None
    total_bytes = settings.upload_bytes * (len(uploads) - len(failed_uploads))
    upload_times = [u["end"] - u["start"] for u in uploads if u["status"] == 200]
    upload_summary = {
        "count": len(uploads),
        "ok": len(uploads) - len(failed_uploads),
        "bytes_each": settings.upload_bytes,
        "window_seconds": round(duration, 2) if duration is not None else None,
        "throughput_mib_s": round(total_bytes / 1024**2 / duration, 1) if duration else None,
        "each_p50_s": round(_pct(upload_times, 50), 2) if upload_times else None,
        "each_max_s": round(max(upload_times), 2) if upload_times else None,
        "started_at_s": round(first, 2) if first is not None else None,
    }
    origin = raw["origin_wall"]
    window = [(t - origin, rss, cpu) for t, rss, cpu in samples if t >= origin - 0.2]
    mib = 1024**2

    def rss_at(moment: float | None) -> float | None:
        near = [rss for t, rss, _ in window if moment is not None and t >= moment]
        return round(near[0] / mib, 1) if near else None

    start = window[0][1] / mib if window else None
    peak = max(rss for _, rss, _ in window) / mib if window else None
    memory = {
        "start_mib": round(start, 1) if start is not None else None,
        "before_uploads_mib": rss_at(first - 0.3 if first is not None else None),
        "peak_sampled_mib": round(peak, 1) if peak is not None else None,
        "after_uploads_mib": rss_at(last),
        "end_mib": round(window[-1][1] / mib, 1) if window else None,
        "hwm_mib": round(hwm / mib, 1) if hwm else None,
        "samples": len(window),
    }
    memory["growth_mib"] = round(peak - start, 1) if peak is not None and start is not None else None
    cpu = {}
    if len(window) > 1:
        seconds = window[-1][0] - window[0][0]
        cpu["gateway_cores_avg"] = round((window[-1][2] - window[0][2]) / seconds, 2)
        during = [(t, c) for t, _, c in window if first is not None and first <= t <= last]
        if len(during) > 1:
            cpu["gateway_cores_during_uploads"] = round(
                (during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0]), 2
            )
    error_summary = {
        "gateway_chat_errors": len(errors),
        "gateway_chat_error_rate": round(len(errors) / len(pairs), 5) if pairs else None,
        "direct_chat_errors": len(direct_errors),
        "upload_errors": len(failed_uploads),
        "examples": sorted({p["gateway_error"] or str(p["gateway_status"]) for p in errors})[:3]
        + sorted({u["error"] for u in failed_uploads})[:3],
    }
    p99 = chat.get("added_p99_ms")
    verdict = {
        "no_errors": not errors and not failed_uploads,
        "p99_added_ms": p99,
        "p99_target_met": p99 is not None and p99 <= TARGET_P99_MS,
        "memory_flat": None if memory["growth_mib"] is None else memory["growth_mib"] <= FLAT_MIB,
    }
    return {
        "chat": chat,
        "phases": phases,
        "errors": error_summary,
        "uploads": upload_summary,
        "memory": memory,
        "cpu": cpu,
        "verdict": verdict,
    }


def _answered_rate(pairs: list[dict[str, Any]]) -> float | None:
    """Successful gateway answers per second, from the first send to the last answer."""
    ok = [p for p in pairs if p["gateway_status"] == 200]
    if len(ok) < 2:
        return None
    first = min(p["due"] + p["lag"] for p in pairs)
    last = max(p["due"] + p["lag"] + p["gateway"] for p in ok)
    return round(len(ok) / (last - first), 1)


# -- the whole run --------------------------------------------------------------------------


def measure(
    settings: Settings,
    *,
    gateway_url: str,
    gateway_pid: int,
    key: str,
    upstream_url: str,
    models: list[tuple[str, str]],
    workdir: Path,
) -> dict[str, Any]:
    """The load itself against a running gateway: ``models`` are (gateway name, upstream name) pairs;
    returns the summary (chat, phases, errors, uploads, memory, cpu, verdict) and the settings used."""
    workdir.mkdir(parents=True, exist_ok=True)
    upload_path = training_file(workdir / "upload.jsonl", size=settings.upload_bytes)
    upload_bytes = upload_path.stat().st_size
    plan = {
        "gateway_chat_url": f"{gateway_url}/chat/completions",
        "gateway_files_url": f"{gateway_url}/files",
        "gateway_headers": {"Authorization": f"Bearer {key}"},
        "upstream_chat_url": f"{upstream_url}/chat/completions",
        "upstream_headers": {},
        "models": [list(m) for m in models],
        "pair_every": settings.pair_every,
        "rate": settings.rate,
        "seconds": settings.seconds,
        "warmup_seconds": settings.warmup_seconds,
        "max_tokens": settings.max_tokens,
        "uploads": settings.uploads,
        "upload_path": str(upload_path),
        "upload_at": settings.upload_at,
        "request_timeout": 30,
        "upload_timeout": 120,
    }
    log(
        f"[load] {settings.rate:g} chats/s for {settings.seconds:g}s, {settings.uploads} uploads"
        f" of {upload_bytes / 1024**2:.1f} MiB at {settings.upload_at:g}s"
    )
    bound = settings.warmup_seconds + settings.seconds + 180
    with Sampler(gateway_pid) as sampler:
        raw = drive(plan, workdir, timeout=bound)
        time.sleep(0.5)
    hwm = sampler.high_water_mark()
    load_average = os.getloadavg()[0]
    used = Settings(**{**asdict(settings), "upload_bytes": upload_bytes})
    summary = summarise(raw, sampler.samples, hwm, used)
    summary["uploads"]["stored"] = _count_uploads(gateway_url, key, upload_bytes) if settings.uploads else 0
    summary["cpu"]["load_average_1min"] = round(load_average, 1)
    summary["settings"] = asdict(used)
    return summary


def run(
    *,
    quick: bool = False,
    settings: Settings | None = None,
    workdir: Path | None = None,
    doc: Path | None = DOC,
    command: str = "python -m bench.load",
    json_out: Path | None = None,
) -> tuple[LoadResult, str]:
    """Release models through the real flow, then the load; returns the numbers and the section."""
    settings = settings or Settings.of(quick)
    wall_started = time.perf_counter()
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="load-bench-")
        workdir = Path(own_tmp.name)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        trainer_port, gateway_port, echo_port = free_port(), free_port(), free_port()
        trainer_url = f"http://127.0.0.1:{trainer_port}/v1"
        gateway_url = f"http://127.0.0.1:{gateway_port}/v1"
        echo_url = f"http://127.0.0.1:{echo_port}/v1"

        trainer_cmd = [sys.executable, "-m", "trainer", "--port", str(trainer_port)]
        trainer = Service("trainer", [*trainer_cmd, "--data-dir", str(workdir / "trainer")], workdir)
        with _stopping(trainer):
            trainer.wait_http(f"{trainer_url}/models")
            config = _write_config(workdir, trainer_url)
            gateway = _gateway(workdir, config, gateway_port, worker=True, name="gateway-setup")
            with _stopping(gateway):
                key = create_key(config, TENANT, TEAM)
                started = time.perf_counter()
                models = release_models(settings.models, workdir, trainer_url, gateway_url, key)
                log(f"[load] {len(models)} model(s) released in {time.perf_counter() - started:.0f}s")
                sequential = sequential_pairs(models, gateway_url, trainer_url, key, 6 if quick else 20)
                log(f"[load] sequential chats on the real trainer: {sequential}")

        echo_cmd = [sys.executable, "-m", "bench.echo_upstream", "--port", str(echo_port)]
        echo = Service("echo-upstream", echo_cmd, workdir)
        with _stopping(echo):
            echo.wait_http(f"{echo_url}/models")
            config = _write_config(workdir, echo_url)
            gateway = _gateway(workdir, config, gateway_port, worker=False, name="gateway")
            with _stopping(gateway):
                target = {
                    "gateway_url": gateway_url,
                    "gateway_pid": gateway.process.pid,
                    "key": key,
                    "upstream_url": echo_url,
                    "models": [(m.name, m.upstream_model) for m in models],
                    "workdir": workdir,
                }
                light = measure(reference_settings(quick), **target)
                reference = {k: light[k] for k in ("chat", "cpu", "settings", "errors")}
                log(f"[load] reference pass: {reference['chat']}")
                summary = measure(settings, **target)
        result = LoadResult(
            reference=reference,
            models=[asdict(m) for m in models],
            sequential=sequential,
            wall_seconds=round(time.perf_counter() - wall_started, 1),
            **summary,
        )
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()
    body = render(result, command)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(asdict(result), indent=2))
    if doc is not None:
        write_doc(body, doc)
    return result, body


def _count_uploads(gateway_url: str, key: str, size: int) -> int | None:
    """Files the gateway recorded from the load's uploads (the whole size, queued for the data gate);
    None when the gateway cannot say (still draining a backlog after a saturating load)."""
    try:
        response = httpx.get(
            f"{gateway_url}/files",
            params={"purpose": "fine-tune"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log(f"[load] could not list the uploaded files: {exc!r}")
        return None
    return sum(1 for f in response.json()["data"] if f["filename"].startswith("load-") and f["bytes"] == size)


# -- the section ------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:g}{unit}"


def _yes(flag: bool | None) -> str:
    return "–" if flag is None else "yes" if flag else "**no**"


def render(result: LoadResult, command: str) -> str:
    m = machine()
    s, chat, up, mem, err, v, cpu = (
        result.settings,
        result.chat,
        result.uploads,
        result.memory,
        result.errors,
        result.verdict,
        result.cpu,
    )
    ref = result.reference
    reference_row = []
    if ref:
        reference_row = [(f"reference pass: {ref['settings']['rate']:g}/s, no uploads", ref["chat"])]
    phase_rows = [
        [
            name,
            r["requests"],
            r["paired_ok"],
            _fmt(r.get("gateway_p50_ms")),
            _fmt(r.get("gateway_p99_ms")),
            _fmt(r.get("direct_p50_ms")),
            _fmt(r.get("direct_p99_ms")),
            _fmt(r.get("added_p50_ms")),
            _fmt(r.get("added_p99_ms")),
        ]
        for name, r in [*reference_row, *result.phases.items(), ("whole window", chat)]
    ]
    columns = ["chats sent", "requests", "paired", "gateway p50 ms", "gateway p99 ms"]
    columns += ["direct p50 ms", "direct p99 ms", "added p50 ms", "added p99 ms"]
    latency_table = markdown_table(columns, phase_rows)
    mib = s["upload_bytes"] / 1024**2
    memory = (
        f"{_fmt(mem['start_mib'])} at the start → peak {_fmt(mem['peak_sampled_mib'])} (VmHWM"
        f" {_fmt(mem['hwm_mib'])}) → {_fmt(mem['after_uploads_mib'])} after the uploads"
        f" → {_fmt(mem['end_mib'])} MiB at the end"
    )
    rate = err["gateway_chat_error_rate"]
    errors = (
        f"chat {err['gateway_chat_errors']} of {chat['requests']} ({_fmt(rate and round(100 * rate, 2))}%)"
    )
    errors += f", uploads {err['upload_errors']} of {up['count']}"
    target_rows = [
        ["errors", "none", errors, _yes(v["no_errors"])],
        [
            "p99 added latency, chat",
            f"≤ {TARGET_P99_MS:g} ms",
            f"{_fmt(v['p99_added_ms'])} ms",
            _yes(v["p99_target_met"]),
        ],
        ["gateway memory", f"flat (peak ≤ start + {FLAT_MIB:g} MiB)", memory, _yes(v["memory_flat"])],
    ]
    names = ", ".join(f"`{x['name']}`" for x in result.models)
    pairing = "each chat" if s["pair_every"] == 1 else f"every {s['pair_every']}th chat"
    lines = [
        f"Command: `{command}`. Measured {m['date']} on {m['cpu']}, {m['cores']} cores shared with other"
        f" jobs (1-minute load average {_fmt(cpu.get('load_average_1min'))} as the load ended),"
        f" {m['ram']} RAM; total wall time {result.wall_seconds / 60:.1f} min.",
        "",
        f"Setup, through the real flow: {len(result.models)} benign files uploaded with the `openai` client,"
        " scanned by the data gate, fine-tuned on the reference trainer's `tiny-llama` and released by the"
        f" model gate ({names}). Then, on loopback, chat at a fixed open-loop rate of {s['rate']:g}"
        f" requests/s for {s['seconds']:g} s (after {s['warmup_seconds']:g} s of warm-up), round robin over"
        f" the released models, one token each; {s['uploads']} uploads of a {mib:.1f} MiB valid chat JSONL"
        f" file (`POST /v1/files`, multipart) all start together {s['upload_at']:g} s in. A separate driver"
        f" process (aiohttp on uvloop) sends {pairing} also straight to the upstream at the same moment"
        " (under the model's upstream name): *added* is the gateway's latency minus the direct one, per"
        " pair. The gateway is one `tunegate serve --no-worker` process (SQLite, uvicorn, one event loop):"
        " the API side of a deployment whose data-gate scans run in worker processes (the Throughput"
        " section measures those); uploads are streamed to its spool with every line checked, as always.",
        "",
        "Upstream: the reference trainer generates with a real model on the CPU; at the load's rate its"
        " generation would saturate the cores and its queueing would drown the gateway's milliseconds. So"
        " during the load the gateway's upstream is `bench.echo_upstream`, a bare ASGI app that answers"
        " each chat completion at once with one canned token in the requested model's name: the direct and"
        " the gateway paths differ only by the gateway (auth, the released-model lookup, forwarding, the"
        " model renamed in the answer).",
    ]
    seq = result.sequential
    if seq:
        lines[-1] += (
            f" For scale, on the real trainer one request at a time ({seq['n']} one-token chats, no load):"
            f" median {_fmt(seq['gateway_p50_ms'])} ms through the gateway, {_fmt(seq['direct_p50_ms'])} ms"
            " direct."
        )
    per_request = None
    keeping_up = (chat.get("answered_rate") or 0) >= 0.9 * s["rate"]
    if cpu.get("gateway_cores_avg") and keeping_up:
        per_request = round(1000 * cpu["gateway_cores_avg"] / chat["answered_rate"], 1)
    lines += [
        "",
        latency_table,
        "",
        "Latencies are of the successful answers; *requests* counts every chat sent in the phase.",
        *_reference_sentence(ref),
        "",
        f"Chat: {chat['requests']} requests sent at {_fmt(chat['sent_rate'])}/s (target {s['rate']:g}/s;"
        f" the driver's send lag p99 {_fmt(chat['send_lag_p99_ms'])} ms), answered at"
        f" {_fmt(chat['answered_rate'])}/s; slowest gateway answer {_fmt(chat['gateway_max_ms'])} ms."
        f" Uploads: {up['ok']} of {up['count']} accepted and {_fmt(up.get('stored'))} recorded whole"
        f" (queued for the data gate); {up['ok'] * mib:.0f} MiB in {_fmt(up['window_seconds'])} s"
        f" ({_fmt(up['throughput_mib_s'])} MiB/s; each upload p50 {_fmt(up['each_p50_s'])} s, max"
        f" {_fmt(up['each_max_s'])} s). Gateway CPU: {_fmt(cpu.get('gateway_cores_avg'))} cores on average"
        " over the window"
        + (f" ({per_request:g} ms of CPU per answered chat, uploads included)," if per_request else ",")
        + f" {_fmt(cpu.get('gateway_cores_during_uploads'))} while the uploads ran.",
        "",
        markdown_table(["target", "wanted", "measured", "reached"], target_rows),
    ]
    if err["examples"]:
        examples = list(dict.fromkeys(err["examples"]))  # each distinct error once
        lines += ["", "Errors seen by the driver: " + "; ".join(f"`{e}`" for e in examples)]
    answered = chat.get("answered_rate")
    if answered is not None and answered < 0.9 * s["rate"]:
        lines += [
            "",
            f"The gateway did not keep up: it answered {answered:g} chats/s of the {s['rate']:g}/s sent, so"
            " under an open loop its backlog grew for the whole window and the latencies above are mostly"
            " queueing; the errors are what it refused (503 `overloaded` once `max_inflight_requests`"
            " were in flight) or what timed out. The driver, the upstream and the gateway share the"
            " machine's cores: where they are few, the numbers say where the machine saturates, not what"
            " the gateway adds on an idle one (the reference pass above measures that).",
        ]
    return "\n".join(lines)


def _reference_sentence(ref: dict[str, Any]) -> list[str]:
    """The light pass in words: its rate, errors and the gateway's CPU per chat."""
    if not ref:
        return []
    chat, cpu, rs = ref["chat"], ref["cpu"], ref["settings"]
    per_chat = None
    if cpu.get("gateway_cores_avg") and chat.get("answered_rate"):
        per_chat = round(1000 * cpu["gateway_cores_avg"] / chat["answered_rate"], 1)
    return [
        "",
        f"The reference pass ran first on the same processes: {rs['rate']:g} chats/s for {rs['seconds']:g} s,"
        f" each paired, no uploads; {ref['errors']['gateway_chat_errors']} errors, answered at"
        f" {_fmt(chat.get('answered_rate'))}/s, gateway CPU {_fmt(cpu.get('gateway_cores_avg'))} cores"
        f" ({_fmt(per_chat)} ms of CPU per chat; 1-minute load average"
        f" {_fmt(cpu.get('load_average_1min'))}).",
    ]


def write_doc(body: str, doc: Path) -> None:
    write_section_keeping_opening(SECTION, body, doc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few chats, a few small uploads")
    parser.add_argument(
        "--out", type=Path, default=DOC, help=f"the doc whose '{SECTION}' section is rewritten"
    )
    parser.add_argument("--no-doc", action="store_true", help="print the section, leave the doc alone")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs and state here")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the numbers here")
    parser.add_argument(
        "--render-json", type=Path, default=None, help="no run: write the section from a --json-out file"
    )
    args = parser.parse_args(argv)
    doc = None if args.no_doc else args.out
    if args.render_json:
        body = render(LoadResult(**json.loads(args.render_json.read_text())), "python -m bench.load")
        if doc is not None:
            write_doc(body, doc)
        print(f"## {SECTION}\n\n{body}\n")
        return 0
    _, body = run(
        quick=args.quick,
        workdir=args.workdir,
        doc=doc,
        command="python -m bench.load" + (" --quick" if args.quick else ""),
        json_out=args.json_out,
    )
    print(f"## {SECTION}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
