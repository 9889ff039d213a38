"""Settings of the reference fine-tuning server; one object passed to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.tiny import ensure_tiny_model


@dataclass
class TrainerConfig:
    """Where state lives, which base models exist, and the training defaults ("auto" values).

    ``base_models`` maps a model id to a local Hugging Face model directory; left as None it
    becomes ``{"tiny-llama": <built tiny model>}`` under ``data_dir/models``. ``aligned`` also
    builds ``tiny-aligned`` there (``trainer.aligned``: trained to refuse harmful requests; a
    couple of minutes on first use) and serves it beside them.
    """

    data_dir: Path
    base_models: dict[str, Path] | None = None
    api_key: str | None = None
    organization: str = "trainer"
    n_epochs: int = 3
    batch_size: int = 4
    learning_rate: float = 1e-3
    max_seq_len: int = 256
    use_lora: bool = False
    lora_rank: int = 8
    # Jobs beyond this wait in "queued"; training is CPU-heavy, so one at a time by default.
    max_running_jobs: int = 1
    # Checkpoints kept per job (the newest ones, like OpenAI's last three epochs).
    keep_checkpoints: int = 3
    model_cache_size: int = 4
    max_file_bytes: int = 512 * 1024 * 1024
    aligned: bool = False

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.base_models is None:
            self.base_models = {"tiny-llama": ensure_tiny_model(self.data_dir / "models")}
        self.base_models = {name: Path(path) for name, path in self.base_models.items()}
        if self.aligned:
            from trainer.aligned import ALIGNED_NAME, ensure_aligned_model

            self.base_models.setdefault(
                ALIGNED_NAME, ensure_aligned_model(self.data_dir / "models" / ALIGNED_NAME)
            )

    def base_model_dir(self, model_id: str) -> Path | None:
        """The directory of a base model id, or None when it is not one."""
        return (self.base_models or {}).get(model_id)
