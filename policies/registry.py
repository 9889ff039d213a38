"""The live set of policies: matching, and hot reload that never drops the last good set.

Matching picks, among the policies whose tenant, team and base-model globs all match, the one
with the highest ``priority`` (ties: name order). A file is scanned at upload, before any job
names a base model, so only policies that match every model (``models`` holds ``"*"``) can
govern an upload; the job's own match (with its base model) governs the job, and the job gets
a rescan when its policy's scan rules differ. Nothing matching → the policy named ``default``,
else the built-in defaults.

Reload reads the whole directory; if any file is broken, the previous set stays in force and
the error is logged and counted. Requests in flight keep the ``Policy`` objects they hold.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import hashlib
import logging
import threading
from pathlib import Path

from gateway import metrics
from policies.loader import Policy, PolicyError, load_directory, parse_policy, policy_files

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent
DEFAULT_NAME = "default"
BUILTIN_YAML = "apiVersion: tunegate.io/v1\nkind: Policy\nmetadata:\n  name: builtin-default\n"


@functools.cache
def builtin_policy() -> Policy:
    """The schema's defaults, used when no directory policy matches and none is named ``default``
    (parsed once: ``match`` may fall back to it on every request)."""
    return parse_policy(BUILTIN_YAML, "<builtin>")


def _matches(patterns: list[str], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


class PolicySet:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._policies: list[Policy] = []
        self._fingerprint = ""
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def policies(self) -> list[Policy]:
        return list(self._policies)

    def load(self) -> None:
        """The first load: a broken policy directory stops startup (raises ``PolicyError``)."""
        policies = load_directory(self.directory) if self.directory else []
        self._install(policies, self._current_fingerprint())

    def reload(self, *, reason: str = "change") -> bool:
        """Re-read the directory; keep the last good set on any error. True when the new set is in force."""
        with self._lock:
            fingerprint = self._current_fingerprint()
            try:
                policies = load_directory(self.directory) if self.directory else []
            except PolicyError as exc:
                self.last_error = str(exc)
                self._fingerprint = fingerprint  # do not retry the same broken bytes every poll
                metrics.POLICY_RELOADS.labels(outcome="failed").inc()
                metrics.POLICY_RELOAD_OK.set(0)
                log.error("policy reload (%s) failed; keeping the last good policies:\n%s", reason, exc)
                return False
            self._install(policies, fingerprint)
            metrics.POLICY_RELOADS.labels(outcome="ok").inc()
            log.info(
                "policies reloaded (%s): %s", reason, ", ".join(f"{p.name}@{p.version}" for p in policies)
            )
            return True

    def _install(self, policies: list[Policy], fingerprint: str) -> None:
        self._policies = policies
        self._fingerprint = fingerprint
        self.last_error = None
        metrics.POLICY_RELOAD_OK.set(1)
        metrics.POLICIES_LOADED.set(len(policies))

    def _current_fingerprint(self) -> str:
        if not self.directory or not self.directory.is_dir():
            return ""
        digest = hashlib.sha256()
        for path in policy_files(self.directory):
            digest.update(path.name.encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                continue
        return digest.hexdigest()

    def changed(self) -> bool:
        return self._current_fingerprint() != self._fingerprint

    async def watch(self, interval: float) -> None:
        """Poll the directory and reload on change (cheap: one read of a few small files)."""
        while True:
            await asyncio.sleep(interval)
            try:
                if self.directory and await asyncio.to_thread(self.changed):
                    await asyncio.to_thread(self.reload)
            except Exception:  # an unreadable directory must not end the watch
                log.exception("checking the policy directory failed; will retry")

    def get(self, name: str) -> Policy | None:
        for policy in self._policies:
            if policy.name == name:
                return policy
        return None

    def match(self, *, tenant: str, team: str, model: str | None) -> Policy:
        """The policy for a file (``model=None``: upload time) or a job (its base model)."""
        candidates = [
            p
            for p in self._policies
            if _matches(p.spec.match.tenants, tenant)
            and _matches(p.spec.match.teams, team)
            and ("*" in p.spec.match.models if model is None else _matches(p.spec.match.models, model))
        ]
        if candidates:
            return sorted(candidates, key=lambda p: (-p.spec.match.priority, p.name))[0]
        return self.get(DEFAULT_NAME) or builtin_policy()

    def current(self, recorded: dict | None, *, tenant: str, team: str, model: str | None) -> Policy:
        """The policy a scan or job recorded, as it is now (a reload may have changed it); matched
        afresh when it was renamed or removed."""
        return self.get((recorded or {}).get("name", "")) or self.match(tenant=tenant, team=team, model=model)
