"""The live policy set: which policy governs a file or job, and hot reload that keeps the last good set."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from policies.loader import PolicyError
from policies.registry import SHIPPED_DIR, PolicySet, builtin_policy


def _policy(
    name: str,
    *,
    tenants: str = '["*"]',
    teams: str = '["*"]',
    models: str = '["*"]',
    priority: int = 0,
    flag: float = 0.8,
) -> str:
    return (
        "apiVersion: tunegate.io/v1\n"  # 1
        "kind: Policy\n"  # 2
        "metadata:\n"  # 3
        f"  name: {name}\n"  # 4
        "spec:\n"  # 5
        "  match:\n"  # 6
        f"    tenants: {tenants}\n"  # 7
        f"    teams: {teams}\n"  # 8
        f"    models: {models}\n"  # 9
        f"    priority: {priority}\n"  # 10
        "  scan:\n"  # 11
        "    rows:\n"  # 12
        f"      flag: {flag}\n"  # 13
    )


def _set(directory: Path, files: dict[str, str]) -> PolicySet:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    policies = PolicySet(directory)
    policies.load()
    return policies


def _reloads(outcome: str) -> float:
    return REGISTRY.get_sample_value("tunegate_policy_reloads_total", {"outcome": outcome}) or 0.0


def _reload_ok() -> float | None:
    return REGISTRY.get_sample_value("tunegate_policy_reload_ok")


# Matching -------------------------------------------------------------------------------------


def test_highest_priority_wins(tmp_path):
    policies = _set(
        tmp_path,
        {
            "a.yaml": _policy("low", priority=1),
            "b.yaml": _policy("high", priority=10),
            "c.yaml": _policy("middle", priority=5),
        },
    )
    assert policies.match(tenant="acme", team="ml", model="gpt-4o-mini").name == "high"
    assert policies.match(tenant="acme", team="ml", model=None).name == "high"


def test_ties_go_to_name_order(tmp_path):
    policies = _set(
        tmp_path,
        {
            "1.yaml": _policy("zulu", priority=3),
            "2.yaml": _policy("alpha", priority=3),
            "3.yaml": _policy("mike", priority=3),
            "4.yaml": _policy("lower", priority=2),
        },
    )
    assert policies.match(tenant="t", team="x", model="m").name == "alpha"


def test_negative_priority_loses_to_zero(tmp_path):
    policies = _set(tmp_path, {"a.yaml": _policy("aaa", priority=-1), "b.yaml": _policy("bbb")})
    assert policies.match(tenant="t", team="x", model="m").name == "bbb"


def test_tenant_team_and_model_must_all_match(tmp_path):
    policies = _set(
        tmp_path,
        {
            "narrow.yaml": _policy(
                "narrow", tenants='["acme"]', teams='["finance-*"]', models='["gpt-4o*"]', priority=10
            ),
            "default.yaml": _policy("default"),
        },
    )
    assert policies.match(tenant="acme", team="finance-eu", model="gpt-4o-mini").name == "narrow"
    assert policies.match(tenant="other", team="finance-eu", model="gpt-4o-mini").name == "default"
    assert policies.match(tenant="acme", team="research", model="gpt-4o-mini").name == "default"
    assert policies.match(tenant="acme", team="finance-eu", model="llama-3").name == "default"


def test_globs_are_case_sensitive_and_any_pattern_may_match(tmp_path):
    policies = _set(
        tmp_path,
        {
            "teams.yaml": _policy("teams", teams='["health-*", "kids"]', priority=10),
            "default.yaml": _policy("default"),
        },
    )
    assert policies.match(tenant="t", team="kids", model="m").name == "teams"
    assert policies.match(tenant="t", team="health-us", model="m").name == "teams"
    assert policies.match(tenant="t", team="Health-us", model="m").name == "default"
    assert policies.match(tenant="t", team="kids-2", model="m").name == "default"


def test_upload_time_only_considers_policies_for_every_model(tmp_path):
    policies = _set(
        tmp_path,
        {
            "gpt.yaml": _policy("gpt-only", models='["gpt-*"]', priority=50),
            "mixed.yaml": _policy("mixed", models='["llama-*", "*"]', priority=5),
            "default.yaml": _policy("default"),
        },
    )
    # At upload no base model is known: a model-specific policy cannot govern the file.
    assert policies.match(tenant="t", team="x", model=None).name == "mixed"
    # The job names its base model: now the model-specific policy applies.
    assert policies.match(tenant="t", team="x", model="gpt-4o").name == "gpt-only"
    assert policies.match(tenant="t", team="x", model="llama-3").name == "mixed"


def test_upload_time_without_a_wildcard_policy_falls_back_to_default(tmp_path):
    policies = _set(
        tmp_path,
        {
            "gpt.yaml": _policy("gpt-only", models='["gpt-*"]', priority=50),
            "default.yaml": _policy("default", teams='["nobody"]'),
        },
    )
    # "default" does not match the team, but it is the fallback when nothing matches.
    assert policies.match(tenant="t", team="x", model=None).name == "default"


def test_nothing_matches_falls_back_to_the_policy_named_default(tmp_path):
    policies = _set(
        tmp_path,
        {
            "a.yaml": _policy("finance", teams='["finance-*"]', priority=10),
            "b.yaml": _policy("default", teams='["platform"]', flag=0.6),
        },
    )
    chosen = policies.match(tenant="t", team="research", model="m")
    assert chosen.name == "default"
    assert chosen.spec.scan.rows.flag == 0.6
    assert chosen is policies.get("default")


def test_no_default_falls_back_to_the_builtin(tmp_path):
    policies = _set(tmp_path, {"a.yaml": _policy("finance", teams='["finance-*"]')})
    chosen = policies.match(tenant="t", team="research", model="m")
    assert chosen.name == "builtin-default"
    assert chosen.source == "<builtin>"
    assert chosen.version == builtin_policy().version
    assert chosen.spec.scan.rows.flag == 0.8


def test_empty_policy_set_uses_the_builtin(tmp_path):
    policies = PolicySet(None)
    policies.load()
    assert policies.policies == []
    assert policies.match(tenant="t", team="x", model=None).name == "builtin-default"
    empty_dir = _set(tmp_path / "empty", {})
    assert empty_dir.match(tenant="t", team="x", model="m").name == "builtin-default"


def test_shipped_directory_matching():
    policies = PolicySet(SHIPPED_DIR)
    policies.load()
    assert policies.match(tenant="t", team="finance-eu", model=None).name == "strict"
    assert policies.match(tenant="t", team="kids-apps", model="gpt-4o").name == "strict"
    assert policies.match(tenant="t", team="research", model="gpt-4o").name == "default"


def test_get_by_name(tmp_path):
    policies = _set(tmp_path, {"a.yaml": _policy("one"), "b.yaml": _policy("two")})
    assert policies.get("two").name == "two"
    assert policies.get("three") is None
    assert [p.name for p in policies.policies] == ["one", "two"]


# Loading and hot reload ---------------------------------------------------------------------


def test_load_on_a_broken_directory_raises(tmp_path):
    (tmp_path / "a.yaml").write_text(_policy("a", flag=1.5), encoding="utf-8")
    policies = PolicySet(tmp_path)
    with pytest.raises(PolicyError) as caught:
        policies.load()
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (
        str(tmp_path / "a.yaml"),
        13,
        "spec.scan.rows.flag",
    )
    assert policies.policies == []


def test_load_on_a_missing_directory_raises(tmp_path):
    with pytest.raises(PolicyError):
        PolicySet(tmp_path / "nowhere").load()


def test_reload_installs_an_edited_policy(tmp_path):
    policies = _set(tmp_path, {"team.yaml": _policy("team", teams='["ml"]', priority=5)})
    before = policies.match(tenant="t", team="ml", model="m")
    ok_before = _reloads("ok")
    assert not policies.changed()

    (tmp_path / "team.yaml").write_text(_policy("team", teams='["ml"]', priority=5, flag=0.7))
    assert policies.changed()
    assert policies.reload() is True
    assert not policies.changed()

    after = policies.match(tenant="t", team="ml", model="m")
    assert after.version != before.version
    assert after.spec.scan.rows.flag == 0.7
    assert before.spec.scan.rows.flag == 0.8  # what a request in flight holds is untouched
    assert policies.last_error is None
    assert _reloads("ok") == ok_before + 1
    assert _reload_ok() == 1


def test_new_and_removed_files_are_changes(tmp_path):
    policies = _set(tmp_path, {"a.yaml": _policy("a")})
    (tmp_path / "b.yaml").write_text(_policy("b", priority=3))
    assert policies.changed()
    assert policies.reload()
    assert [p.name for p in policies.policies] == ["a", "b"]
    (tmp_path / "a.yaml").unlink()
    assert policies.changed()
    assert policies.reload()
    assert [p.name for p in policies.policies] == ["b"]
    (tmp_path / "notes.txt").write_text("not a policy")
    assert not policies.changed()


def test_broken_edit_keeps_the_last_good_policies(tmp_path):
    path = tmp_path / "team.yaml"
    policies = _set(tmp_path, {"team.yaml": _policy("team", teams='["ml"]', priority=5)})
    good = policies.match(tenant="t", team="ml", model="m")
    failed_before = _reloads("failed")

    path.write_text(_policy("team", teams='["ml"]', priority=5, flag=1.5))
    assert policies.changed()
    assert policies.reload() is False

    # The previous set stays in force.
    still = policies.match(tenant="t", team="ml", model="m")
    assert still.version == good.version
    assert still.spec.scan.rows.flag == 0.8
    assert [p.version for p in policies.policies] == [good.version]
    # The error names the file and line, and is counted.
    assert policies.last_error is not None
    assert f"{path}:13: spec.scan.rows.flag:" in policies.last_error
    assert _reloads("failed") == failed_before + 1
    assert _reload_ok() == 0
    # The same broken bytes are not retried on every poll.
    assert not policies.changed()

    # Fixing it installs the new version.
    ok_before = _reloads("ok")
    path.write_text(_policy("team", teams='["ml"]', priority=5, flag=0.6))
    assert policies.changed()
    assert policies.reload() is True
    assert policies.last_error is None
    assert _reload_ok() == 1
    assert _reloads("ok") == ok_before + 1
    fixed = policies.match(tenant="t", team="ml", model="m")
    assert fixed.spec.scan.rows.flag == 0.6
    assert fixed.version != good.version


def test_broken_yaml_and_duplicate_names_also_keep_the_last_good_set(tmp_path):
    policies = _set(tmp_path, {"a.yaml": _policy("a")})
    good = policies.policies

    (tmp_path / "b.yaml").write_text("apiVersion: [\n")
    assert policies.reload() is False
    assert f"{tmp_path / 'b.yaml'}:" in policies.last_error
    assert "invalid YAML" in policies.last_error
    assert policies.policies == good

    (tmp_path / "b.yaml").write_text(_policy("a", priority=9))
    assert policies.reload() is False
    assert "names must be unique" in policies.last_error
    assert policies.policies == good


def test_a_wrongly_typed_component_list_is_a_failed_reload_not_a_crash(tmp_path):
    # Regression: `classifiers: 5` raised TypeError out of reload(), which ended watch() for good.
    policies = _set(tmp_path, {"a.yaml": _policy("a")})
    good = policies.policies
    (tmp_path / "a.yaml").write_text(_policy("a") + "    classifiers: 5\n")
    assert policies.reload() is False
    assert f"{tmp_path / 'a.yaml'}:14: spec.scan.classifiers:" in policies.last_error
    assert policies.policies == good


async def test_watch_picks_up_a_change_by_itself(tmp_path):
    policies = _set(tmp_path, {"team.yaml": _policy("team", flag=0.8)})
    before = policies.match(tenant="t", team="x", model=None).version
    task = asyncio.create_task(policies.watch(0.05))
    try:
        await asyncio.sleep(0.1)
        (tmp_path / "team.yaml").write_text(_policy("team", flag=0.65))
        for _ in range(200):
            if policies.match(tenant="t", team="x", model=None).version != before:
                break
            await asyncio.sleep(0.025)
        chosen = policies.match(tenant="t", team="x", model=None)
        assert chosen.version != before
        assert chosen.spec.scan.rows.flag == 0.65

        # A broken edit is noticed too, and the good set stays.
        (tmp_path / "team.yaml").write_text(_policy("team", flag=7))
        for _ in range(200):
            if policies.last_error is not None:
                break
            await asyncio.sleep(0.025)
        assert policies.last_error is not None and "spec.scan.rows.flag" in policies.last_error
        assert policies.match(tenant="t", team="x", model=None).version == chosen.version
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
