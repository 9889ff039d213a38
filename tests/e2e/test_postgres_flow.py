"""The same road on PostgreSQL, with the HTTP server and the worker in separate processes."""

from __future__ import annotations

from tests.support.data import chat_rows, write_jsonl
from tests.support.processes import GatewayProcess
from tests.support.waiting import wait_job


def test_job_succeeds_on_postgres_with_split_roles(trainer, pg_url, tmp_path):
    api = GatewayProcess(tmp_path / "api", trainer_url=trainer.url, database_url=pg_url, run_worker=False)
    worker = GatewayProcess(tmp_path / "worker", trainer_url=trainer.url, database_url=pg_url)
    api.start()
    try:
        client = api.client(api.create_key("initech", "research"))
        path = write_jsonl(tmp_path / "train.jsonl", chat_rows(10))
        file = client.files.create(file=path.open("rb"), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=file.id, suffix="pg", hyperparameters={"n_epochs": 1}
        )
        # No worker yet: the job waits, nothing is lost.
        assert client.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
        worker.start_worker()
        finished = wait_job(client, job.id)
        assert finished.status == "succeeded", finished.error
        assert finished.fine_tuned_model in [m.id for m in client.models.list().data]
    finally:
        api.stop()
        worker.stop()
