"""Every secret the test session hands out, and every log its processes write: checked once at the end.

``tests/support/processes.py`` registers each API key it creates, each provider key it gives a
trainer or a gateway's upstream, and the log file of each process it starts. ``pytest_sessionfinish``
(``tests/conftest.py``) calls ``findings()``: a registered secret, or anything shaped like a tunegate
key (``tg-`` and 43 URL-safe characters, so keys made elsewhere are caught too), in any of those logs
fails the run. Findings name the file and line and show only a secret's first six characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# secrets.token_urlsafe(32) is 43 characters; the lookarounds keep longer tokens from matching in part.
KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])tg-[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
MIN_SECRET_CHARS = 8  # shorter "secrets" (test placeholders) would match ordinary words

_secrets: dict[str, str] = {}  # value -> where it came from
_logs: set[Path] = set()


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    secret: str
    origin: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {mask(self.secret)}... ({self.origin})"


def mask(secret: str) -> str:
    return secret[:6]


def register_secret(value: str | None, origin: str) -> None:
    """Remember a secret the session handed out (API key, provider key)."""
    if value and len(value) >= MIN_SECRET_CHARS:
        _secrets.setdefault(value, origin)


def register_log(path: Path) -> None:
    """Remember a file a started process writes its stdout and stderr to."""
    _logs.add(Path(path))


def secrets() -> dict[str, str]:
    return dict(_secrets)


def logs() -> set[Path]:
    return set(_logs)


def scan_text(text: str, *, known: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    """(line, secret, origin) for each registered secret or key-shaped token in ``text``."""
    known = _secrets if known is None else known
    present = [(value, origin) for value, origin in known.items() if value in text]
    shaped = KEY_SHAPE.search(text) is not None
    if not present and not shaped:  # the common case: one pass per secret over the whole text
        return []
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        seen = set()
        for value, origin in present:
            if value in line:
                hits.append((number, value, origin))
                seen.add(value)
        for match in KEY_SHAPE.finditer(line):
            if match.group() not in seen:
                hits.append((number, match.group(), "shaped like a tunegate API key"))
    return hits


def findings() -> list[Finding]:
    """Every secret found in every registered log that still exists."""
    found = []
    for path in sorted(_logs):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found += [Finding(path, line, secret, origin) for line, secret, origin in scan_text(text)]
    return found
