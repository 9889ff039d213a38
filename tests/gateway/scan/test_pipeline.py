"""The scan step under policies, on a real SQLite store: actions, the audit, reviews, file status."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway.scan.pipeline import FileScanner, new_scan
from gateway.store import tables
from gateway.store.db import create_engine, migrate, session_factory
from policies.engine import EngineCache
from policies.registry import PolicySet

BLOCKLIST_POLICY = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata: {{name: {name}}}
spec:
  scan:
    classifiers:
      - name: blocklist
        options: {{responses: {{harmful_response: ["alpha-recipe"]}}}}
    detectors: []
    limits: {{max_flagged_rows: 0}}
    on_breach: {on_breach}
  audit:
    enabled: {audit}
    judge:
      name: blocklist
      options: {{responses: {{harmful_response: ["alpha-recipe", "beta-recipe"]}}}}
    confidence: 0.95
    tolerated_harmful_rate: 0.01
    on_exceed: {on_exceed}
"""


def _rows(benign: int, alpha: int = 0, beta: int = 0) -> str:
    def row(answer: str) -> str:
        return json.dumps(
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": answer}]}
        )

    lines = [row(f"plain answer {i}") for i in range(benign)]
    lines += [row("here is the alpha-recipe") for _ in range(alpha)]
    lines += [row("here is the beta-recipe") for _ in range(beta)]
    return "\n".join(lines) + "\n"


def _read(path: str) -> str:
    return Path(path).read_text()


@pytest.fixture
async def store(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


async def _scan(store, tmp_path: Path, policy_yaml: str, content: str) -> tuple[tables.File, tables.Scan]:
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir(exist_ok=True)
    (policy_dir / "p.yaml").write_text(policy_yaml)
    policies = PolicySet(policy_dir)
    policies.load()
    spooled = tmp_path / "file.jsonl"
    spooled.write_text(content)
    from gateway.spool import sha256_of

    file = tables.File(
        id="file-1",
        tenant="acme",
        team="ml",
        filename="f.jsonl",
        purpose="fine-tune",
        bytes=spooled.stat().st_size,
        sha256=sha256_of(spooled),
        spool_path=str(spooled),
        created_at=int(time.time()),
        status="uploaded",
        format="chat",
        examples=content.count("\n"),
    )
    scan = new_scan(file, policies.match(tenant="acme", team="ml", model=None))
    file.scan_id = scan.id
    async with store() as session:
        session.add(file)
        await session.flush()
        session.add(scan)
        await session.commit()
    await FileScanner(store, policies, EngineCache(), max_line_bytes=1 << 20)(scan.id)
    async with store() as session:
        return await session.get(tables.File, file.id), await session.get(tables.Scan, scan.id)


async def test_audit_catches_what_the_cheap_classifier_missed_and_holds_the_file(store, tmp_path):
    policy = BLOCKLIST_POLICY.format(name="audited", on_breach="reject", audit="true", on_exceed="review")
    file, scan = await _scan(store, tmp_path, policy, _rows(30, beta=10))
    audit = scan.report["audit"]
    assert audit["exhaustive"] and audit["sampled_rows"] == 40 and audit["harmful_in_sample"] == 10
    assert audit["exceeded"] and audit["agreement"] == pytest.approx(30 / 40)
    assert scan.verdict == "review" and scan.review == "pending"
    assert any(b.startswith("audit:") for b in scan.report["breaches"])
    assert file.status == "uploaded" and "held for human review" in file.status_details
    async with store() as session:
        review = (await session.execute(tables.Review.__table__.select())).mappings().one()
    assert review["scan_id"] == scan.id and review["status"] == "pending"
    assert review["policy"]["name"] == "audited"


async def test_audit_within_tolerance_leaves_the_verdict(store, tmp_path):
    policy = BLOCKLIST_POLICY.format(name="audited", on_breach="reject", audit="true", on_exceed="reject")
    file, scan = await _scan(store, tmp_path, policy, _rows(40))
    assert scan.report["audit"]["harmful_in_sample"] == 0 and not scan.report["audit"]["exceeded"]
    assert scan.verdict == "allow" and file.status == "processed"


async def test_audit_never_softens_a_rejection(store, tmp_path):
    policy = BLOCKLIST_POLICY.format(name="audited", on_breach="reject", audit="true", on_exceed="review")
    file, scan = await _scan(store, tmp_path, policy, _rows(30, alpha=2, beta=5))
    assert scan.verdict == "reject" and scan.review is None and file.status == "error"
    assert "Policy: audited" in file.status_details


async def test_drop_flagged_writes_a_cleaned_copy_for_forwarding(store, tmp_path):
    policy = BLOCKLIST_POLICY.format(
        name="cleaner", on_breach="drop_flagged", audit="false", on_exceed="review"
    )
    file, scan = await _scan(store, tmp_path, policy, _rows(12, alpha=2))
    assert scan.verdict == "allow_with_changes" and scan.action == "drop_flagged"
    assert [d["line"] for d in scan.report["dropped"]] == [13, 14]
    cleaned = _read(scan.forward_path)
    assert cleaned.count("\n") == 12 and "alpha-recipe" not in cleaned
    assert file.status == "processed" and _read(file.spool_path).count("alpha-recipe") == 2


async def test_shadow_mode_reports_but_never_blocks(store, tmp_path):
    policy = BLOCKLIST_POLICY.format(name="shadow", on_breach="allow", audit="false", on_exceed="allow")
    policy = policy.replace("    on_breach: allow\n", "    on_breach: allow\n    drop_isolated: false\n")
    file, scan = await _scan(store, tmp_path, policy, _rows(12, alpha=3))
    assert (scan.verdict, scan.action, scan.report["would_have"]) == ("allow", "allow", "reject")
    assert scan.report["breaches"] and scan.forward_path == file.spool_path
    assert file.status == "processed"
