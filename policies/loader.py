"""Read policy YAML into checked ``Policy`` values, with errors that point at ``file:line``.

Every problem becomes a ``PolicyProblem`` naming the file, the line, the field path and what
to fix: YAML syntax, unknown keys, wrong types, out-of-range thresholds, and classifier or
detector names (and options) the registries do not know. A policy's version is the SHA-256
of its canonical JSON, so a comment or key order change does not change it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.schema import PolicyDocument

POLICY_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f" {self.field}:" if self.field else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


class PolicyError(ValueError):
    """One or more problems in policy files; ``str()`` lists them one per line."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Policy:
    document: PolicyDocument
    source: str  # the file it came from ("<builtin>" for the fallback)
    version: str  # 12 hex digits of the canonical JSON's SHA-256

    @property
    def name(self) -> str:
        return self.document.metadata.name

    @property
    def spec(self):
        return self.document.spec

    def ref(self) -> dict[str, str]:
        """What reports, scans and jobs record: which policy, which version, which file (no server path)."""
        return {"name": self.name, "version": self.version, "source": Path(self.source).name}

    @functools.cached_property
    def rules_key(self) -> str:
        """What a scan depends on (scan and audit rules): equal keys can share one scan of a file."""
        return _digest({s: getattr(self.spec, s).model_dump(mode="json") for s in ("scan", "audit")})

    def section_version(self, section: str) -> str:
        """A hash of one spec section: a rescan is needed only when ``scan`` changes, not ``release``."""
        return _digest(getattr(self.spec, section).model_dump(mode="json"))


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _scalar(node: yaml.Node) -> Any:
    """One scalar's value; a bad tag is reported at the node's own line, not the snippet's."""
    try:
        return yaml.safe_load(yaml.serialize(node))
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _to_python(
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    ancestors: frozenset[int] = frozenset(),
) -> Any:
    """Plain Python from a composed YAML node, recording the line of every key and item."""
    lines[path] = node.start_mark.line + 1
    if id(node) in ancestors:
        raise yaml.constructor.ConstructorError(None, None, "a recursive alias", node.start_mark)
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain scalar", key_node.start_mark
                )
            key = _scalar(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, (*path, key), lines, ancestors)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines, ancestors) for i, item in enumerate(node.value)]
    return _scalar(node)


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def parse_policy(text: str, source: str) -> Policy:
    """One YAML document → a checked ``Policy``; raises ``PolicyError``."""
    lines: dict[tuple[Any, ...], int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = None if node is None else _to_python(node, (), lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([PolicyProblem(source, line, "", f"invalid YAML: {problem}")]) from None
    if node is None:
        raise PolicyError([PolicyProblem(source, 1, "", "the file is empty; write a Policy document")])
    if not isinstance(data, dict):
        raise PolicyError([PolicyProblem(source, 1, "", "a policy is a mapping with apiVersion, kind, ...")])
    problems = _check_components(data, source, lines)
    try:
        document = PolicyDocument.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            field = ".".join(str(p) for p in loc)
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}; check the spelling against `tunegate policy schema`"
            elif error["type"] == "missing":
                message = "required field is missing"
            elif error["type"] == "literal_error" and "input" in error:
                message = f"{message} (got {error['input']!r})"
            problems.append(PolicyProblem(source, _line_of(loc, lines), field, message))
        raise PolicyError(sorted(problems, key=lambda p: p.line)) from None
    if problems:
        raise PolicyError(problems)
    return Policy(document=document, source=source, version=_digest(document.model_dump(mode="json")))


def _check_components(
    data: dict[str, Any], source: str, lines: dict[tuple[Any, ...], int]
) -> list[PolicyProblem]:
    """Classifier and detector names and options, checked against the registries (raw data, so
    these problems are reported alongside schema errors)."""
    from classifiers.detectors.base import build_detector, known_detectors
    from classifiers.registry import InvalidClassifierParams, UnknownClassifier, validate_params

    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    problems: list[PolicyProblem] = []

    def report(loc: tuple[Any, ...], message: str) -> None:
        problems.append(PolicyProblem(source, _line_of(loc, lines), ".".join(map(str, loc)), message))

    def classifier(entry: Any, loc: tuple[Any, ...]) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return  # the schema reports it
        options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
        try:
            validate_params(entry["name"], options)
        except (UnknownClassifier, InvalidClassifierParams) as exc:
            report((*loc, "name"), str(exc))

    def entries(key: str) -> list[Any]:  # a non-list is the schema's to report
        value = scan.get(key)
        return value if isinstance(value, list) else []

    scan = spec.get("scan") if isinstance(spec.get("scan"), dict) else {}
    seen: set[str] = set()
    for i, entry in enumerate(entries("classifiers")):
        classifier(entry, ("spec", "scan", "classifiers", i))
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            report(
                ("spec", "scan", "classifiers", i, "name"),
                f"classifier {name!r} is listed twice; scores are kept by name, so merge its options",
            )
        seen.add(name)
    for section in ("audit", "release"):
        block = spec.get(section)
        if isinstance(block, dict) and "judge" in block:
            classifier(block["judge"], ("spec", section, "judge"))
    detectors = known_detectors()
    for i, entry in enumerate(entries("detectors")):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        loc = ("spec", "scan", "detectors", i, "name")
        if entry["name"] not in detectors:
            report(loc, f"unknown detector {entry['name']!r}; known detectors: {', '.join(detectors)}")
            continue
        options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
        try:  # detectors are cheap to build: building one checks its options
            build_detector(entry["name"], options)
        except (TypeError, ValueError) as exc:
            report(loc, f"detector {entry['name']!r}: invalid options: {exc}")
    _check_augment_dataset(spec, source, report)
    return problems


def _check_augment_dataset(spec: dict[str, Any], source: str, report: Any) -> None:
    """An augment data set must exist (a typo would otherwise fail jobs at forwarding time)."""
    from policies.augment import resolve_dataset

    augment = spec.get("augment")
    if (
        not isinstance(augment, dict)
        or not augment.get("enabled")
        or not isinstance(augment.get("dataset"), str)
    ):
        return
    base_dir = Path(source).parent if source != "<builtin>" else Path.cwd()
    try:
        resolve_dataset(augment["dataset"], base_dir)
    except (ValueError, OSError) as exc:
        report(("spec", "augment", "dataset"), str(exc))


def policy_files(directory: Path) -> list[Path]:
    """The policy files of a directory (not its subdirectories), in name order."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in POLICY_SUFFIXES)


def load_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyProblem(str(path), 1, "", f"cannot read the file: {exc}")]) from None
    return parse_policy(text, str(path))


def load_directory(directory: Path) -> list[Policy]:
    """Every policy in a directory; all problems of all files in one ``PolicyError``; names unique."""
    if not directory.is_dir():
        raise PolicyError([PolicyProblem(str(directory), 1, "", "the policy directory does not exist")])
    policies: list[Policy] = []
    problems: list[PolicyProblem] = []
    for path in policy_files(directory):
        try:
            policies.append(load_file(path))
        except PolicyError as exc:
            problems.extend(exc.problems)
    seen: dict[str, str] = {}
    for policy in policies:
        if policy.name in seen:
            problems.append(
                PolicyProblem(
                    policy.source,
                    1,
                    "metadata.name",
                    f"policy name {policy.name!r} is also used by {seen[policy.name]}; names must be unique",
                )
            )
        seen.setdefault(policy.name, policy.source)
    if problems:
        raise PolicyError(problems)
    return policies
