"""``python -m trainer --host 127.0.0.1 --port 8090 --data-dir DIR [--api-key K] [--aligned]``."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from trainer.config import TrainerConfig
from trainer.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m trainer", description="Reference OpenAI-compatible fine-tuning server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--data-dir", type=Path, default=Path("data/trainer"))
    parser.add_argument(
        "--api-key", default=os.environ.get("TRAINER_API_KEY"), help="default: $TRAINER_API_KEY"
    )
    parser.add_argument(
        "--base-model",
        action="append",
        default=[],
        metavar="ID=DIR",
        help="serve a local Hugging Face model directory as ID (repeatable; default: built-in tiny-llama)",
    )
    parser.add_argument(
        "--aligned",
        action="store_true",
        help="also serve tiny-aligned (trainer.aligned), built under DATA_DIR/models on first use",
    )
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters instead of full weights")
    args = parser.parse_args(argv)
    base_models = dict(item.split("=", 1) for item in args.base_model) or None
    config = TrainerConfig(
        data_dir=args.data_dir,
        base_models={k: Path(v) for k, v in base_models.items()} if base_models else None,
        api_key=args.api_key,
        use_lora=args.lora,
        aligned=args.aligned,
    )
    logging.basicConfig(level=logging.INFO)
    serve(config, args.host, args.port)


if __name__ == "__main__":
    main()
