"""``textgan train classifier``: the separate style evaluator (TextCNN on train.{0,1}).

The style-transfer model never trains against this classifier; its dev accuracy is
reported so users can judge the evaluator (published Yelp evaluators reach about 97 %).
Run dir: ``config.json``, ``model.json``, ``vocab.txt``, ``metrics.jsonl`` (one record per
epoch), ``checkpoints/last.pt`` and ``classifier.safetensors`` (the best dev epoch).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from textgan.config import ClassifierConfig, to_dict
from textgan.data.style import load_style_corpus
from textgan.models.classifiers import TextCNN
from textgan.runs import CLASSIFIER_FILE, TASK_CLASSIFIER, load_classifier, predict_styles  # noqa: F401
from textgan.train import common as C
from textgan.utils import UserError, resolve_device, seed_everything

log = logging.getLogger(__name__)
TASK = TASK_CLASSIFIER


@torch.no_grad()
def accuracy(model: TextCNN, ids: torch.Tensor, labels: torch.Tensor, batch_size: int = 512) -> float:
    """Fraction of sentences (N, T) whose argmax class equals ``labels`` (N,)."""
    was = model.training
    model.eval()
    device = model.embedding.device
    hits = 0
    for i in range(0, ids.shape[0], batch_size):
        pred = model(ids=ids[i : i + batch_size].to(device)).argmax(dim=1).cpu()
        hits += int((pred == labels[i : i + batch_size]).sum())
    model.train(was)
    return hits / max(ids.shape[0], 1)


def train_classifier(cfg: ClassifierConfig) -> dict[str, Any]:
    """Train the evaluator classifier; returns the best-dev record (with test accuracy)."""
    if not cfg.data.data:
        raise UserError("--data: a style directory is required (train.0, train.1, dev.*, test.*)")
    run_dir = Path(cfg.run_dir) if cfg.run_dir else Path("runs") / time.strftime("classifier-%Y%m%d-%H%M%S")
    device = resolve_device(cfg.device)
    corpus = load_style_corpus(
        cfg.data.data,
        normalize=cfg.data.normalize,
        lowercase=cfg.data.lowercase,
        max_len=cfg.data.max_len,
        min_freq=cfg.data.min_freq,
        max_train_sentences=cfg.data.max_train_sentences,
    )  # before the run dir exists: bad data leaves nothing behind
    C.prepare_run_dir(run_dir, resume=False)
    try:
        return _fit(cfg, corpus, run_dir, device)
    finally:
        C.unlock_run_dir(run_dir)


def _fit(cfg: ClassifierConfig, corpus: Any, run_dir: Path, device: torch.device) -> dict[str, Any]:
    seed_everything(cfg.seed)
    meta = {"task": TASK, "vocab_size": len(corpus.vocab), "max_len": corpus.max_len}
    C.write_run_files(run_dir, to_dict(cfg), corpus.vocab, meta)

    model = TextCNN(cfg.model, len(corpus.vocab)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    rng = torch.Generator().manual_seed(cfg.seed)
    train, dev, test = corpus.splits["train"], corpus.splits["dev"], corpus.splits["test"]
    metrics = C.MetricsLogger(run_dir / C.METRICS_FILE)
    n = train.ids.shape[0]
    bs = cfg.train.batch_size
    n_batches = -(-n // bs)
    bar = C.progress_bar(cfg.train.epochs * n_batches, "classifier", "batch", cfg.progress)
    best: dict[str, Any] = {}
    step = 0
    for epoch in range(1, cfg.train.epochs + 1):
        order = torch.randperm(n, generator=rng)
        loss_sum = 0.0
        model.train()
        for i in range(n_batches):
            idx = order[i * bs : (i + 1) * bs]
            logits = model(ids=train.ids[idx].to(device))
            loss = F.cross_entropy(logits, train.labels[idx].to(device))
            C.optimizer_step(model, opt, loss, cfg.train.grad_clip, "classifier", step)
            step += 1
            loss_sum += loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        record = {
            "step": step,
            "epoch": epoch,
            "train_loss": loss_sum / n_batches,
            "dev_accuracy": accuracy(model, dev.ids, dev.labels),
        }
        metrics.log(record)
        log.info(
            "[classifier epoch %d] train loss %.4f, dev accuracy %.4f",
            epoch,
            record["train_loss"],
            record["dev_accuracy"],
        )
        if not best or record["dev_accuracy"] > best["dev_accuracy"]:
            best = dict(record)
            C.export_safetensors(model, run_dir / CLASSIFIER_FILE)
        C.save_checkpoint(
            run_dir / C.CHECKPOINT_DIR / C.LAST_CHECKPOINT,
            TASK,
            to_dict(cfg),
            step,
            epoch,
            {"classifier": model},
            {"classifier": opt},
            C.rng_state(rng),
        )
    bar.close()
    best_model, _, _ = load_classifier(run_dir, device=str(device))
    best["test_accuracy"] = accuracy(best_model, test.ids, test.labels)
    log.info(
        "best dev accuracy %.4f (epoch %d); test accuracy %.4f",
        best["dev_accuracy"],
        best["epoch"],
        best["test_accuracy"],
    )
    return best
