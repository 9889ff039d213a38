"""A tiny Llama model and tokenizer built in code, so the trainer works with no model hub.

Everything is seeded, so two builds give the same files. The build happens in a temporary
directory beside the target and is renamed into place, so concurrent callers never see half a
model and the first one to finish wins.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL_TOKENS = [
    "<|pad|>",
    "<|bos|>",
    "<|eos|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|tool|>",
    "<|end|>",
]
VOCAB_SIZE = 1000
SEED = 1234

# Each message is "<|role|>\n{content}<|end|>\n"; an assistant turn is trained up to <|end|>.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% elif message['content'] %}"
    "{% for part in message['content'] %}{{ part['text'] }}{% endfor %}"
    "{% endif %}"
    "{% if message.get('tool_calls') %}{{ message['tool_calls'] | tojson }}{% endif %}"
    "{{ '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

_SUBJECTS = ["The cat", "A small dog", "My friend", "The teacher", "Our team", "The assistant", "A farmer"]
_VERBS = ["reads", "writes", "finds", "likes", "answers", "builds", "watches", "helps with"]
_OBJECTS = ["a short book", "the question", "the red house", "a simple answer", "the weather", "the model"]
_TEXT = """
Hello! How are you today? I am fine, thank you. What can I help you with?
The capital of France is Paris. The capital of Italy is Rome. The capital of Japan is Tokyo.
Water boils at one hundred degrees. The sun rises in the east and sets in the west.
Please answer the question in one sentence. Sure, here is a short and helpful answer.
Training a language model means showing it many examples and adjusting its weights.
A fine-tuned model follows the style of the examples it was trained on.
One, two, three, four, five, six, seven, eight, nine, ten. Monday, Tuesday, Wednesday.
I do not know the answer to that, but I can try to find out. Thanks for asking!
Summarize the text. Translate the sentence. Write a poem about the sea and the sky.
Good morning, good afternoon, good evening and good night. See you tomorrow.
Spring, summer, autumn and winter are the four seasons of the year.
Numbers like 0, 1, 2, 3, 4, 5, 6, 7, 8 and 9 are digits; 42 and 100 are numbers too.
The computer runs a program that reads a file, sorts the lines and prints the result.
Python, JavaScript and Rust are programming languages used by developers around the world.
Always be polite, honest and careful. Never share private information or passwords.
The river flows through the valley, past green fields, old bridges and quiet villages.
She opened the window, looked at the mountains and smiled because the weather was warm.
Customers can return a product within thirty days if they keep the receipt.
To reset your password, click the link in the email and choose a new one.
Bread, milk, cheese, apples, oranges, rice, coffee and tea are on the shopping list.
The meeting starts at nine o'clock and should finish before lunch at noon.
Scientists study plants, animals, stars, planets, oceans and the human body.
Could you explain this again more slowly? Of course, let me go step by step.
Yes. No. Maybe. Certainly! Absolutely not. I think so. It depends on the context.
The library is open from Monday to Friday; on weekends it is closed.
Doctors, nurses, engineers, artists, musicians and writers all work hard.
What time is it? Where is the station? Why is the sky blue? Who wrote this book?
"""


def _corpus() -> list[str]:
    """A few hundred lines of plain English: enough for ~1000 BPE tokens."""
    lines = [line.strip() for line in _TEXT.strip().splitlines()]
    for subject, verb, obj in itertools.product(_SUBJECTS, _VERBS, _OBJECTS):
        lines.append(f"{subject} {verb} {obj}. Does {subject.lower()} {verb.split()[0]} it every day?")
    return lines


def build_tokenizer(
    texts: Iterable[str] | None = None, *, vocab_size: int = VOCAB_SIZE
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts`` (default: the built-in corpus); add the chat template."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus() if texts is None else texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<|pad|>",
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        additional_special_tokens=SPECIAL_TOKENS[3:],
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_model(
    tokenizer: PreTrainedTokenizerFast,
    *,
    hidden: int = 64,
    intermediate: int = 128,
    layers: int = 2,
    seed: int = SEED,
) -> LlamaForCausalLM:
    """A small Llama (2 layers by default) with random (seeded) weights sized to the tokenizer."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|end|>")],
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def ensure_tiny_model(models_dir: Path, name: str = "tiny-llama") -> Path:
    """Return models_dir/name, building the tiny model and tokenizer there on first use."""
    target = Path(models_dir) / name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        tokenizer = build_tokenizer()
        model = build_model(tokenizer)
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        tokenizer.save_pretrained(tmp)
        model.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
