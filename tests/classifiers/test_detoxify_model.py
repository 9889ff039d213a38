"""The detoxify classifier on a tiny Detoxify-format checkpoint built here (no hub, no release download).

The checkpoint is the real format — a pickled dict with ``config`` and ``state_dict`` saved by
``torch.save`` — around a 2-layer BERT with random weights and a WordPiece tokenizer trained in code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from classifiers.base import ClassifierInput, SegmentKind
from classifiers.detoxify_model import ChecksumMismatch, DetoxifyClassifier
from classifiers.registry import build_classifier

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
CORPUS = [
    "you are a wonderful person and I like your work",
    "what a stupid idiot, I hate you and your whole family",
    "the weather is nice today, let us go for a walk",
    "shut up you moron, nobody wants you here",
]


def _tokenizer(directory: Path) -> int:
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.train_from_iterator(
        CORPUS * 20, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    )
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    ).save_pretrained(directory)
    return tokenizer.get_vocab_size()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("detoxify")
    config_dir = root / "bert-tiny"
    vocab = _tokenizer(config_dir)
    config = BertConfig(
        vocab_size=vocab,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,  # a short window, so long texts must be windowed (or crash)
    )
    config.save_pretrained(config_dir)
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(**config.to_dict(), num_labels=len(CLASSES)))
    path = root / "toxic_tiny.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        path,
    )
    return path, config_dir, hashlib.sha256(path.read_bytes()).hexdigest()


def _classifier(checkpoint: tuple[Path, Path, str], **params: object) -> DetoxifyClassifier:
    path, config_dir, digest = checkpoint
    return DetoxifyClassifier(checkpoint=str(path), config_dir=str(config_dir), sha256=digest, **params)


async def test_loads_and_scores_one_result_per_input_in_range(checkpoint) -> None:
    classifier = _classifier(checkpoint)
    items = [ClassifierInput(text, SegmentKind.USER) for text in [*CORPUS, ""]]
    scores = await classifier.score(items)
    assert len(scores) == len(items)
    assert classifier.labels == (
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
    )
    for result in scores:
        assert set(result.values) == set(classifier.labels)
        assert all(0.0 <= value <= 1.0 for value in result.values.values())
    # Batch order: each text scored alone gives the same numbers as in the batch.
    alone = await classifier.score([items[1]])
    assert alone[0].values == pytest.approx(dict(scores[1].values), abs=1e-5)


async def test_long_text_is_windowed_and_takes_the_max(checkpoint) -> None:
    classifier = _classifier(checkpoint, max_tokens=512, overlap=8)
    long_text = " ".join(CORPUS * 12)  # far past the 64-position model: truncation-free or an index error
    [result] = await classifier.score([ClassifierInput(long_text, SegmentKind.ASSISTANT)])
    assert classifier._window == 64
    encoded = classifier._tokenizer(
        [long_text],
        truncation=True,
        max_length=64,
        stride=8,
        return_overflowing_tokens=True,
        padding=True,
        return_tensors="pt",
    )
    windows = encoded["input_ids"].shape[0]
    assert windows > 3
    token_count = len(classifier._tokenizer(long_text, add_special_tokens=False)["input_ids"])
    assert (windows - 1) * (62 - 8) + 62 >= token_count  # the windows (62 tokens, 8 shared) cover every token
    per_window = classifier.forward(
        {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded}
    )
    for position, label in enumerate(classifier.labels):
        column = per_window[:, position]
        assert result.get(label) == pytest.approx(float(column.max()), abs=1e-5)
        assert all(result.get(label) >= float(value) - 1e-6 for value in column)


async def test_hash_mismatch_is_refused_before_unpickling(checkpoint, monkeypatch) -> None:
    path, config_dir, _ = checkpoint

    def no_unpickling(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.load called before the hash check")

    monkeypatch.setattr(torch, "load", no_unpickling)
    classifier = DetoxifyClassifier(checkpoint=str(path), config_dir=str(config_dir), sha256="0" * 64)
    with pytest.raises(ChecksumMismatch, match="refusing to unpickle"):
        await classifier.score([ClassifierInput("hello", SegmentKind.USER)])


def test_bad_hash_format_is_refused(checkpoint) -> None:
    path, config_dir, _ = checkpoint
    with pytest.raises(ValueError, match="64 hex digits"):
        DetoxifyClassifier(checkpoint=str(path), config_dir=str(config_dir), sha256="abc")


async def test_lightning_prefixed_state_dict_loads(checkpoint, tmp_path) -> None:
    path, config_dir, _ = checkpoint
    loaded = torch.load(path, weights_only=False)
    loaded["state_dict"] = {f"model.{key}": value for key, value in loaded["state_dict"].items()}
    prefixed = tmp_path / "prefixed.ckpt"
    torch.save(loaded, prefixed)
    digest = hashlib.sha256(prefixed.read_bytes()).hexdigest()
    classifier = DetoxifyClassifier(checkpoint=str(prefixed), config_dir=str(config_dir), sha256=digest)
    reference = _classifier(checkpoint)
    item = [ClassifierInput(CORPUS[1], SegmentKind.USER)]
    assert (await classifier.score(item))[0].values == pytest.approx(
        dict((await reference.score(item))[0].values)
    )


def test_built_from_config_through_the_registry(checkpoint) -> None:
    path, config_dir, digest = checkpoint
    classifier = build_classifier(
        "detoxify",
        {"checkpoint": str(path), "config_dir": str(config_dir), "sha256": digest, "device": "cpu"},
    )
    assert isinstance(classifier, DetoxifyClassifier)
    assert classifier.spec()["sha256"] == digest
