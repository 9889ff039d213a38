"""LoRA training served on its base, and what a server restart does to unfinished jobs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.trainer.conftest import ANSWER, chat_rows, jsonl
from trainer.config import TrainerConfig
from trainer.inference import Generation, ModelCache, Sampling
from trainer.jobdir import JobDir
from trainer.jsonio import write_json
from trainer.server import create_app
from trainer.tiny import ensure_tiny_model
from trainer.train import Training


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_model(tmp_path_factory.mktemp("models"))


def _spec(tiny: Path, **overrides: object) -> dict:
    spec = {
        "base_model_dir": str(tiny),
        "fine_tuned_model": "ft:tiny-llama:trainer::lora0001",
        "seed": 1,
        "n_epochs": 8,
        "batch_size": 4,
        "learning_rate": 1e-2,
        "max_seq_len": 128,
        "use_lora": True,
        "lora_rank": 8,
        "keep_checkpoints": 2,
    }
    return {**spec, **overrides}


def test_lora_adapter_trains_and_serves_on_its_base(tmp_path: Path, tiny: Path) -> None:
    job = JobDir(tmp_path / "ftjob-lora")
    job.path.mkdir()
    write_json(job.spec_file, _spec(tiny))
    job.training_data.write_bytes(jsonl(chat_rows()))
    Training(job).run()

    assert (job.model_dir / "adapter_config.json").is_file()
    assert not (job.model_dir / "model.safetensors").exists()  # only the adapter is saved
    assert [c["step_number"] for c in job.checkpoints()] == [21, 24]  # keep_checkpoints=2
    assert not job.checkpoint_dir(18).exists()
    assert job.result()["status"] == "succeeded"

    loaded = ModelCache(1).get(job.model_dir)
    messages = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hello!"}]
    assert Generation(loaded, messages, Sampling(max_tokens=12)).text() == ANSWER


def _stale_job(config: TrainerConfig, job_id: str, status: str) -> JobDir:
    job = JobDir(config.data_dir / "jobs" / job_id)
    job.path.mkdir(parents=True)
    write_json(job.spec_file, {"fine_tuned_model": f"ft:tiny-llama:trainer::{job_id[-8:]}"})
    record = {"id": job_id, "object": "fine_tuning.job", "created_at": 1, "status": status}
    record.update(organization_id="trainer", model="tiny-llama", fine_tuned_model=None, metadata=None)
    record.update(finished_at=None, estimated_finish=None, trained_tokens=None, error=None, result_files=[])
    write_json(job.job_file, record)
    job.pid_file.write_text("999999999")
    return job


def test_restart_fails_interrupted_jobs_and_keeps_finished_ones(tmp_path: Path, tiny: Path) -> None:
    config = TrainerConfig(data_dir=tmp_path, base_models={"tiny-llama": tiny})
    _stale_job(config, "ftjob-interrupted", "running")
    done = _stale_job(config, "ftjob-finishedwhiledown", "running")
    shutil.copytree(tiny, done.model_dir)
    write_json(done.result_file, {"status": "succeeded", "trained_tokens": 99, "finished_at": 2})
    (done.path / "results.csv").write_text("step,train_loss\n1,2.0\n")

    with TestClient(create_app(config)) as http:
        failed = http.get("/v1/fine_tuning/jobs/ftjob-interrupted").json()
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "training_interrupted"
        assert "restarted" in failed["error"]["message"]
        succeeded = http.get("/v1/fine_tuning/jobs/ftjob-finishedwhiledown").json()
        assert succeeded["status"] == "succeeded" and succeeded["trained_tokens"] == 99
        assert succeeded["fine_tuned_model"] == "ft:tiny-llama:trainer::hiledown"
        models = [m["id"] for m in http.get("/v1/models").json()["data"]]
        assert models == ["tiny-llama", "ft:tiny-llama:trainer::hiledown"]
    assert json.loads((done.path / "job.json").read_text())["status"] == "succeeded"
