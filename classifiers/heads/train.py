"""``tunegate train-heads``: train, calibrate, evaluate and write the harm-embedding heads.

Seeded and deterministic: data order is fixed by hashes, the MLPs train with a seeded torch
generator and deterministic kernels, the screens with a seeded solver. Only ``ship`` sources
train (``data.py``); the calib split sets each head's score anchors (0.5 / 0.8 at the benign
false-positive rates below); the test split and the ``eval`` sources are only measured.

    python -m classifiers.heads.train --data-dir ../shared/data --out classifiers/weights
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from classifiers.heads import augment, evalsets
from classifiers.heads.data import Example, load_corpus
from classifiers.heads.encoder import EmbeddingStore, Encoder
from classifiers.heads.evaluate import eval_set_metrics, head_test_metrics, pairwise_metrics
from classifiers.heads.model import (
    HEADS,
    HeadSet,
    MLPHead,
    Screen,
    compliance_features,
    hashed,
    identity_features,
    request_features,
)

log = logging.getLogger("tunegate.heads")

HIDDEN = {"request": 128, "compliance": 256, "identity": 128}
# Benign false-positive rate per head at score 0.5 ("borderline") and 0.8 ("flag"), measured on the
# calib split. A row has up to three scored outputs, so each head gets a share of the row budget.
BORDER_FPR, FLAG_FPR = 0.003, 0.0005
SCREEN_RECALL = 0.998
MAX_SEQ_LENGTH = 256


def _features(name: str, examples: list[Example], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    texts = [e.text for e in examples]
    emb = encode(texts)
    if name == "request":
        return request_features(emb, texts)
    if name == "compliance":
        return compliance_features(encode([e.context for e in examples]), emb, texts)
    return identity_features(emb, texts, [e.kind for e in examples])


def fit_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, hidden: int, epochs: int, seed: int) -> MLPHead:
    """A one-hidden-layer MLP with class-balanced, weighted BCE; deterministic for a given seed."""
    import torch

    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-4
        xt = torch.from_numpy((x - mean) / std)
        yt = torch.from_numpy(y.astype(np.float32))
        balance = np.where(y == 1, w / w[y == 1].sum(), w / w[y == 0].sum()) * len(y) / 2
        wt = torch.from_numpy(balance.astype(np.float32))
        net = torch.nn.Sequential(
            torch.nn.Dropout(0.1),
            torch.nn.Linear(x.shape[1], hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.Linear(hidden, 1),
        )
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-3)
        loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
        for _ in range(epochs):
            order = torch.randperm(len(yt), generator=gen)
            for start in range(0, len(order), 256):
                batch = order[start : start + 256]
                opt.zero_grad()
                loss = (loss_fn(net(xt[batch]).squeeze(1), yt[batch]) * wt[batch]).mean()
                loss.backward()
                opt.step()
        lin1, lin2 = net[1], net[4]
        return MLPHead(
            mean.astype(np.float32),
            std.astype(np.float32),
            lin1.weight.detach().numpy().T.copy(),
            lin1.bias.detach().numpy().copy(),
            lin2.weight.detach().numpy().T.copy(),
            lin2.bias.detach().numpy().copy(),
        )
    finally:
        torch.use_deterministic_algorithms(previous)


def anchor(head: MLPHead, z_negative: np.ndarray) -> None:
    """Put 0.5 and 0.8 at the calib negatives' (1 - BORDER_FPR) and (1 - FLAG_FPR) quantiles."""
    z_border = float(np.quantile(z_negative, 1 - BORDER_FPR))
    z_flag = float(np.quantile(z_negative, 1 - FLAG_FPR))
    head.z_border, head.z_flag = z_border, max(z_flag, z_border + 0.5)


def fit_screen(examples: list[Example], name: str, seed: int, keep: np.ndarray) -> Screen:
    """A hashed n-gram logistic model; its threshold keeps SCREEN_RECALL of ``keep`` (what the head flags)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    pair = name == "compliance"
    train = [e for e in examples if e.split == "train"]
    x = hashed([e.text for e in train])
    if pair:
        x = sp.hstack([hashed([e.context for e in train]), x]).tocsr()
    y = np.array([e.label for e in train])
    model = LogisticRegression(
        C=4.0, class_weight="balanced", solver="liblinear", random_state=seed, max_iter=500
    )
    model.fit(x, y)
    screen = Screen(
        model.coef_.reshape(-1).astype(np.float16).astype(np.float32), float(model.intercept_[0]), 0.0, pair
    )
    kept = [e for e, k in zip(examples, keep, strict=True) if k]
    z = screen.logits([e.text for e in kept], [e.context for e in kept] if pair else None)
    screen.threshold = float(np.quantile(z, 1 - SCREEN_RECALL))
    return screen


def train_heads(
    data_dir: Path,
    out_dir: Path,
    *,
    seed: int = 0,
    max_per_source: int | None = 1500,
    epochs: int = 25,
    cache_dir: Path | None = None,
    evaluate: bool = True,
    screens: bool = True,
    model_dir: str | None = None,
) -> dict[str, object]:
    """Train the three heads (and screens) on ``data_dir``; write weights and metrics to ``out_dir``."""
    started = time.time()
    corpus = load_corpus(Path(data_dir), max_per_source=max_per_source)
    examples = {
        "request": augment.request_examples(corpus),
        "compliance": augment.compliance_examples(corpus, seed),
        "identity": augment.identity_examples(
            corpus, seed, n_templates=400 if max_per_source is None or max_per_source >= 100 else 20
        ),
    }
    encoder = Encoder(model_dir, max_seq_length=MAX_SEQ_LENGTH)
    store = EmbeddingStore(Path(cache_dir) / f"minilm-{MAX_SEQ_LENGTH}.npz" if cache_dir else None, encoder)
    heads = HeadSet({})
    for name in HEADS:
        data = examples[name]
        x = _features(name, data, store.encode)
        y = np.array([e.label for e in data])
        w = np.array([e.weight for e in data], dtype=np.float32)
        train = np.array([e.split == "train" for e in data])
        calib = np.array([e.split == "calib" for e in data])
        head = fit_mlp(x[train], y[train], w[train], hidden=HIDDEN[name], epochs=epochs, seed=seed)
        reference = calib & (y == 0) & np.array([name != "compliance" or augment.calibrates(e) for e in data])
        anchor(head, head.logits(x[reference] if reference.any() else x[y == 0]))
        heads.heads[name] = head
        if screens:
            # Screens must keep what the head would flag: positives it scores at least "borderline".
            flagged = head.probs(x) >= 0.5
            heads.screens[name] = fit_screen(data, name, seed, flagged & (y == 1) & (train | calib))
        log.info("head %s: %d examples (%d positive)", name, len(data), int(y.sum()))
    heads.meta = {
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2",
        "max_seq_length": MAX_SEQ_LENGTH,
        "seed": seed,
        "max_per_source": max_per_source,
        "epochs": epochs,
        "anchors": {"border_fpr": BORDER_FPR, "flag_fpr": FLAG_FPR, "screen_recall": SCREEN_RECALL},
        "examples": {
            n: {"train": sum(e.split == "train" for e in d), "positives": sum(e.label for e in d)}
            for n, d in examples.items()
        },
    }
    version = heads.save(Path(out_dir))
    metrics: dict[str, object] = {"version": version, "seed": seed}
    if evaluate:
        metrics["test_split"] = {
            n: {
                "full": head_test_metrics(heads, n, examples[n], store.encode, use_screens=False),
                "screened": head_test_metrics(heads, n, examples[n], store.encode, use_screens=True),
            }
            for n in HEADS
        }
        sets = evalsets.load_eval_sets(Path(data_dir), corpus, cap=500)
        metrics["eval_sets"] = eval_set_metrics(heads, sets, store.encode)
        metrics["hh_rlhf_pairwise"] = pairwise_metrics(
            heads, evalsets.hh_rlhf_pairs(Path(data_dir)), store.encode
        )
    metrics["seconds"] = round(time.time() - started, 1)
    (Path(out_dir) / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-per-source", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings here between runs")
    parser.add_argument("--no-eval", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    metrics = train_heads(
        args.data_dir,
        args.out,
        seed=args.seed,
        max_per_source=args.max_per_source,
        epochs=args.epochs,
        cache_dir=args.cache_dir,
        evaluate=not args.no_eval,
    )
    print(json.dumps({"version": metrics["version"], "seconds": metrics["seconds"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
