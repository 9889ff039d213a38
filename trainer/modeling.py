"""Loading a model directory for training or serving: full weights or a LoRA adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

# Used when a model's tokenizer has no chat template of its own.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] + ': ' + (message['content'] or '') + (eos_token or '') + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
)

hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def is_adapter(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def load_tokenizer(path: Path) -> Any:
    """The directory's tokenizer, with a chat template and a pad token guaranteed."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    if not tokenizer.chat_template:
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: Path, *, merge_adapter: bool = True) -> Any:
    """A causal LM from a model directory; an adapter directory is loaded on its base model."""
    if not is_adapter(path):
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    from peft import PeftConfig, PeftModel

    base_dir = PeftConfig.from_pretrained(path).base_model_name_or_path
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, path)
    return model.merge_and_unload() if merge_adapter else model


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a reply: the tokenizer's eos and the model's generation eos ids."""
    ids: set[int] = set()
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids
