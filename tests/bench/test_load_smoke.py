"""Smoke test of the load benchmark's machinery (``bench.load.measure``): the real driver process,
a real API-only gateway in front of the session's real trainer, a few chats and a few small uploads.

The full benchmark first gets fine-tuned models released (minutes on this machine); here the chats
go to the trainer's base model through the gateway, which takes the same forwarding path.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import GatewayProcess


def test_quick_load_reports_every_field_and_no_errors(tmp_path: Path, trainer) -> None:
    from bench import load

    gateway = GatewayProcess(tmp_path / "gw", trainer_url=trainer.url, run_worker=False)
    gateway.start()
    try:
        key = gateway.create_key("load", "bench")
        settings = load.Settings(
            rate=10, seconds=2, warmup_seconds=0.5, uploads=3, upload_bytes=32 * 1024, upload_at=0.5, models=1
        )
        summary = load.measure(
            settings,
            gateway_url=gateway.url,
            gateway_pid=gateway.process.pid,
            key=key,
            upstream_url=trainer.url,
            models=[("tiny-llama", "tiny-llama")],
            workdir=tmp_path / "load",
        )
    finally:
        gateway.stop()

    chat, errors, uploads, memory = summary["chat"], summary["errors"], summary["uploads"], summary["memory"]
    assert errors["gateway_chat_errors"] == 0 and errors["direct_chat_errors"] == 0, errors
    assert errors["upload_errors"] == 0 and summary["verdict"]["no_errors"], errors
    assert chat["requests"] == 20 and chat["paired_ok"] == 20  # every chat paired (pair_every=1)
    for field in ("gateway_p50_ms", "gateway_p99_ms", "direct_p50_ms", "direct_p99_ms", "added_p99_ms"):
        assert chat[field] is not None and chat[field] > 0, field
    assert set(summary["phases"]) == {"before uploads", "during uploads", "after uploads"}
    assert uploads["ok"] == 3 and uploads["stored"] == 3  # recorded whole by the gateway
    assert memory["start_mib"] and memory["hwm_mib"] and memory["hwm_mib"] >= memory["start_mib"]
    assert memory["samples"] > 5 and memory["growth_mib"] is not None
    assert set(summary["verdict"]) == {"no_errors", "p99_added_ms", "p99_target_met", "memory_flat"}

    result = load.LoadResult(models=[{"name": "tiny-llama"}], sequential={}, **summary)
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nold header\n\n## Other benchmark\n\nkept as it was\n")
    body = load.render(result, "python -m bench.load --quick")
    load.write_doc(body, doc)
    text = doc.read_text()
    assert "## Other benchmark\n\nkept as it was" in text and "## Load\n" in text
    assert "old header" in text  # the opening says where the other sections were measured
    assert "| target | wanted | measured | reached |" in body and "p99 added latency" in body
