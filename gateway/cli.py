"""The ``tunegate`` command line: serve, worker, migrate, keys, scan, eval, policy, trainer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from gateway.errors import ConfigError, GatewayError
from gateway.settings import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return load_settings(args.config, **overrides)


@contextlib.contextmanager
def _embedded_trainer(settings: Settings) -> Iterator[None]:
    """Start the reference trainer beside the gateway (``trainer.embedded``), stop it on exit."""
    if not settings.trainer.embedded:
        yield
        return
    command = [
        sys.executable,
        "-m",
        "trainer",
        "--host",
        settings.trainer.host,
        "--port",
        str(settings.trainer.port),
        "--data-dir",
        str(settings.data_dir / "trainer"),
    ]
    process = subprocess.Popen(command)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app

    settings = _settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings, run_worker=not args.no_worker)
    with _embedded_trainer(settings):
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.app import run_worker_forever

    settings = _settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker_forever(settings))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from gateway.store.db import migrate_sync

    settings = _settings(args)
    migrate_sync(settings.resolved_database_url)
    print(f"database at revision head: {settings.resolved_database_url.split('@')[-1]}", file=sys.stderr)
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from gateway.auth import Role, create_key
    from gateway.store.db import create_engine, migrate, session_factory

    settings = _settings(args)

    async def run() -> str:
        engine = create_engine(settings.resolved_database_url)
        try:
            await migrate(engine)
            async with session_factory(engine)() as session:
                return await create_key(session, tenant=args.tenant, team=args.team, role=Role(args.role))
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from gateway.scan.cli import EXIT_INVALID, run_scan
    from policies.engine import ClassifierCache, scan_profile
    from policies.loader import PolicyError, load_file
    from policies.registry import PolicySet

    if not Path(args.file).is_file():
        print(f"tunegate scan: {args.file} is not a file", file=sys.stderr)
        return EXIT_INVALID
    settings = load_settings(args.config)
    try:
        if args.policy and Path(args.policy).is_file():
            policy = load_file(Path(args.policy))
        else:
            policies = PolicySet(settings.resolved_policy_dir)
            policies.load()
            policy = policies.get(args.policy or "default")
            if policy is None:
                names = ", ".join(p.name for p in policies.policies) or "none"
                print(f"tunegate scan: unknown policy {args.policy!r}; available: {names}", file=sys.stderr)
                return EXIT_INVALID
    except PolicyError as exc:
        print(f"tunegate scan: invalid policy:\n{exc}", file=sys.stderr)
        return EXIT_INVALID
    return run_scan(
        Path(args.file),
        profile=scan_profile(policy, ClassifierCache()),
        fmt=args.format,
        output=Path(args.output) if args.output else None,
        max_line_bytes=settings.max_line_bytes,
    )


def cmd_eval(args: argparse.Namespace) -> int:
    """The model gate's evaluation of any OpenAI-compatible endpoint (exit 0 pass, 1 fail, 3 bad input)."""
    from gateway.evals import cli as eval_cli
    from policies.loader import PolicyError, load_file
    from policies.registry import SHIPPED_DIR

    try:
        policy = load_file(Path(args.policy) if args.policy else SHIPPED_DIR / "default.yaml")
    except PolicyError as exc:
        print(f"tunegate eval: invalid policy:\n{exc}", file=sys.stderr)
        return 3
    try:
        return eval_cli.main(args, policy)
    except Exception as exc:  # bad input, an unreachable endpoint, too many unanswerable prompts
        print(f"tunegate eval: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


def cmd_policy_validate(args: argparse.Namespace) -> int:
    """Exit 0 when every file is a valid policy; else print ``file:line: field: message`` lines, exit 1."""
    from policies.loader import PolicyError, load_directory, load_file

    problems = 0
    for target in map(Path, args.paths):
        try:
            loaded = load_directory(target) if target.is_dir() else [load_file(target)]
        except PolicyError as exc:
            problems += len(exc.problems)
            print(exc, file=sys.stderr)
            continue
        for policy in loaded:
            print(f"{policy.source}: ok ({policy.name}, version {policy.version})")
    return 1 if problems else 0


def cmd_policy_schema(args: argparse.Namespace) -> int:
    from policies.schema import PolicyDocument

    schema = PolicyDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tunegate Policy (tunegate.io/v1)"
    text = json.dumps(schema, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return 0


def cmd_train_heads(args: argparse.Namespace) -> int:
    from classifiers.heads.train import train_heads

    metrics = train_heads(Path(args.data_dir), Path(args.out), seed=args.seed)
    print(json.dumps(metrics, indent=2, default=str))
    return 0


def cmd_trainer_serve(args: argparse.Namespace) -> int:
    from trainer.config import TrainerConfig
    from trainer.server import serve

    config = TrainerConfig(data_dir=Path(args.data_dir), api_key=args.api_key)
    serve(config, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunegate", description=__doc__)
    parser.add_argument(
        "--config", help="path to tunegate.yaml (default: $TUNEGATE_CONFIG or ./tunegate.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="serve the HTTP API (and run background work unless --no-worker)"
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--no-worker", action="store_true", help="serve HTTP only; run `tunegate worker` elsewhere"
    )
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run background work only (scans, forwarding, polling)")
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create an API key and print it (only the key, on stdout)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--team", required=True)
    create.add_argument("--role", choices=["user", "reviewer", "admin"], default="user")
    create.set_defaults(func=cmd_keys_create)

    scan = commands.add_parser("scan", help="scan a training file with the data gate and print the report")
    scan.add_argument("file")
    scan.add_argument(
        "--policy", help="a policy file, or a policy name in the policy directory (default: default)"
    )
    scan.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    scan.add_argument("--output", help="write the report here instead of stdout")
    scan.set_defaults(func=cmd_scan)

    evaluate = commands.add_parser(
        "eval", help="evaluate a model's harmfulness on an OpenAI-compatible endpoint (exit 0 pass, 1 fail)"
    )
    evaluate.add_argument("--model", required=True, help="the model to evaluate")
    evaluate.add_argument("--base", help="its base model, for the regression comparison")
    evaluate.add_argument(
        "--benchmark", action="append", help="builtin:NAME, hex-phi:DIR or a CSV/JSONL file (repeatable)"
    )
    evaluate.add_argument("--base-url", required=True, help="OpenAI-compatible API, e.g. http://host:8000/v1")
    evaluate.add_argument("--api-key", help="default: $OPENAI_API_KEY")
    evaluate.add_argument("--policy", help="a policy file whose release section to apply (default: default)")
    evaluate.add_argument("--training-file", help="evaluate also under this file's prompt formats")
    evaluate.add_argument("--max-prompts", type=int, help="prompts per benchmark (default: the policy's)")
    evaluate.add_argument("--format", choices=["json", "markdown", "html"], default="markdown")
    evaluate.add_argument("--output", help="write the report here instead of stdout")
    evaluate.set_defaults(func=cmd_eval)

    policy = commands.add_parser("policy", help="check and describe policy files").add_subparsers(
        dest="policy_command", required=True
    )
    validate = policy.add_parser("validate", help="check policy files or directories (exit 1 on problems)")
    validate.add_argument("paths", nargs="+")
    validate.set_defaults(func=cmd_policy_validate)
    schema = policy.add_parser("schema", help="print the policy JSON Schema (for editors)")
    schema.add_argument("--output", help="write it here instead of stdout")
    schema.set_defaults(func=cmd_policy_schema)

    heads = commands.add_parser("train-heads", help="train the harm-embedding heads (seeded, reproducible)")
    heads.add_argument("--data-dir", default="../shared/data", help="the data sets' directory")
    heads.add_argument("--out", default="classifiers/weights", help="where to write the weights")
    heads.add_argument("--seed", type=int, default=0)
    heads.set_defaults(func=cmd_train_heads)

    trainer = commands.add_parser("trainer", help="the reference fine-tuning server").add_subparsers(
        dest="trainer_command", required=True
    )
    trainer_serve = trainer.add_parser("serve", help="serve the reference trainer's OpenAI-compatible API")
    trainer_serve.add_argument("--host", default="127.0.0.1")
    trainer_serve.add_argument("--port", type=int, default=8090)
    trainer_serve.add_argument("--data-dir", default=".tunegate/trainer")
    trainer_serve.add_argument("--api-key", default=None)
    trainer_serve.set_defaults(func=cmd_trainer_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        # argparse's usage error is 2, which `tunegate scan` reserves for "review".
        if exc.code == 2 and "scan" in argv:
            return 3
        raise
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"tunegate: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"tunegate: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
