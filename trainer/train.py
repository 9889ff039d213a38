"""The training process: ``python -m trainer.train <job dir>``.

It runs apart from the server so serving stays responsive, and reports only through files in
the job directory (see ``trainer.jobdir``). A plain seeded torch loop: shuffle, pad, loss on
the trained tokens, AdamW with linear decay, a checkpoint at the end of every epoch (the last
one is the final model), at most ``keep_checkpoints`` of them kept.
"""

from __future__ import annotations

import math
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from trainer.data import IGNORE, DataError, Encoded, encode, read_examples
from trainer.jobdir import JobDir
from trainer.jsonio import write_json
from trainer.modeling import device, load_model, load_tokenizer


def pad_batch(batch: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e.input_ids) for e in batch)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch]
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, float]:
    """Mean cross-entropy over trained tokens, and the share of them predicted right."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logits, labels = logits[:, :-1].float(), batch["labels"][:, 1:]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))
    trained = labels != IGNORE
    accuracy = ((logits.argmax(-1) == labels) & trained).sum().item() / max(trained.sum().item(), 1)
    return loss, accuracy


def evaluate(model: Any, examples: list[Encoded], batch_size: int, pad_id: int) -> dict[str, float]:
    model.eval()
    losses, accuracies = [], []
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = {
                k: v.to(device()) for k, v in pad_batch(examples[start : start + batch_size], pad_id).items()
            }
            loss, accuracy = batch_loss(model, batch)
            losses.append(loss.item())
            accuracies.append(accuracy)
    model.train()
    mean_loss, mean_accuracy = sum(losses) / len(losses), sum(accuracies) / len(accuracies)
    # The whole validation file is evaluated, so OpenAI's "valid" and "full_valid" agree here.
    return {
        "valid_loss": mean_loss,
        "valid_mean_token_accuracy": mean_accuracy,
        "full_valid_loss": mean_loss,
        "full_valid_mean_token_accuracy": mean_accuracy,
    }


def encode_file(path: Path, tokenizer: Any, max_len: int, param: str) -> list[Encoded]:
    try:
        encoded = [encode(tokenizer, example, max_len) for example in read_examples(path)]
    except DataError as exc:
        raise DataError(str(exc), exc.line, param) from None
    encoded = [e for e in encoded if e.trainable]
    if not encoded:
        raise DataError(f"No example has assistant tokens to train on within {max_len} tokens.", None, param)
    return encoded


class Training:
    """One job's run, from its spec to the final model."""

    def __init__(self, job: JobDir) -> None:
        self.job = job
        self.spec = job.spec()
        self.tokenizer: Any = None
        self.last: dict[str, float] = {}
        self.rows: list[str] = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]

    def run(self) -> None:
        spec = self.spec
        random.seed(spec["seed"])
        torch.manual_seed(spec["seed"])
        tokenizer = load_tokenizer(Path(spec["base_model_dir"]))
        self.tokenizer = tokenizer
        train = encode_file(self.job.training_data, tokenizer, spec["max_seq_len"], "training_file")
        valid = []
        if self.job.validation_data.is_file():
            valid = encode_file(self.job.validation_data, tokenizer, spec["max_seq_len"], "validation_file")
        model = self._model()
        batch_size = min(spec["batch_size"], len(train))
        steps_per_epoch = math.ceil(len(train) / batch_size)
        total = steps_per_epoch * spec["n_epochs"]
        optimizer = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=spec["learning_rate"]
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
        order = random.Random(spec["seed"])
        step, tokens, started = 0, 0, time.time()
        model.train()
        for epoch in range(spec["n_epochs"]):
            indices = list(range(len(train)))
            order.shuffle(indices)
            for start in range(0, len(indices), batch_size):
                chosen = [train[i] for i in indices[start : start + batch_size]]
                batch = {k: v.to(device()) for k, v in pad_batch(chosen, tokenizer.pad_token_id).items()}
                loss, accuracy = batch_loss(model, batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                tokens += sum(len(e.input_ids) for e in chosen)
                self._report_step(step, total, loss.item(), accuracy, tokens, started)
            metrics = evaluate(model, valid, batch_size, tokenizer.pad_token_id) if valid else {}
            self._checkpoint(model, step, last=epoch == spec["n_epochs"] - 1, metrics=metrics)
        self._finish(tokens)

    def _model(self) -> Any:
        model = load_model(Path(self.spec["base_model_dir"]))
        if self.spec["use_lora"]:
            from peft import LoraConfig, get_peft_model

            rank = self.spec["lora_rank"]
            config = LoraConfig(
                r=rank, lora_alpha=2 * rank, target_modules="all-linear", task_type="CAUSAL_LM"
            )
            model = get_peft_model(model, config)
        return model.to(device())

    def _report_step(
        self, step: int, total: int, loss: float, accuracy: float, tokens: int, started: float
    ) -> None:
        self.last = {"step": step, "train_loss": loss, "train_mean_token_accuracy": accuracy}
        data = {**self.last, "total_steps": total}
        self.job.add_event(f"Step {step}/{total}: training loss={loss:.2f}", type_="metrics", data=data)
        elapsed = time.time() - started
        finish = int(started + elapsed / step * total)
        write_json(
            self.job.progress_file,
            {"step": step, "total_steps": total, "trained_tokens": tokens, "estimated_finish": finish},
        )
        self.rows.append(f"{step},{loss:.6f},{accuracy:.6f},,")

    def _checkpoint(self, model: Any, step: int, *, last: bool, metrics: dict[str, float]) -> None:
        target = self.job.model_dir if last else self.job.checkpoint_dir(step)
        model.save_pretrained(target)
        self.tokenizer.save_pretrained(target)
        if metrics:
            self.rows[-1] = (
                f"{step},{self.last['train_loss']:.6f},{self.last['train_mean_token_accuracy']:.6f},"
            )
            self.rows[-1] += f"{metrics['valid_loss']:.6f},{metrics['valid_mean_token_accuracy']:.6f}"
        checkpoints = self.job.checkpoints()
        checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": f"ftckpt-{self.job.job_id.removeprefix('ftjob-')[:12]}-{step}",
                "created_at": int(time.time()),
                "fine_tuned_model_checkpoint": f"{self.spec['fine_tuned_model']}:ckpt-step-{step}",
                "fine_tuning_job_id": self.job.job_id,
                "metrics": {**self.last, **metrics},
                "step_number": step,
                "path": str(target.relative_to(self.job.path)),
            }
        )
        for old in checkpoints[: -self.spec["keep_checkpoints"]]:
            shutil.rmtree(self.job.path / old["path"], ignore_errors=True)
        self.job.write_checkpoints(checkpoints[-self.spec["keep_checkpoints"] :])
        self.job.add_event(f"Checkpoint created at step {step}")

    def _finish(self, tokens: int) -> None:
        self.job.results_csv.write_text("\n".join(self.rows) + "\n")
        self.job.add_event(f"New fine-tuned model created: {self.spec['fine_tuned_model']}")
        self.job.add_event("The job has successfully completed")
        write_json(
            self.job.result_file,
            {"status": "succeeded", "trained_tokens": tokens, "finished_at": int(time.time())},
        )


def main(argv: list[str]) -> int:
    job = JobDir(Path(argv[0]))
    try:
        Training(job).run()
    except DataError as exc:
        code = "invalid_training_file" if exc.param == "training_file" else "invalid_validation_file"
        error = {"code": code, "message": f"Invalid {exc.param.replace('_', ' ')}. {exc}", "param": exc.param}
        job.add_event(error["message"], level="error")
        write_json(job.result_file, {"status": "failed", "error": error, "finished_at": int(time.time())})
        return 1
    except Exception as exc:
        error = {
            "code": "training_error",
            "message": f"Training failed: {type(exc).__name__}: {exc}",
            "param": None,
        }
        job.add_event(error["message"], level="error")
        write_json(job.result_file, {"status": "failed", "error": error, "finished_at": int(time.time())})
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
