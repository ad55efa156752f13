"""``textgan train ratio``: a real-vs-generated classifier D fitted to a finished LM run.

D is trained with binary cross-entropy on the run's training split (real, label 1) against fresh
samples of the run's generator (label 0, a new batch every step, at ``temperature``). Its
held-out AUC is measured on a slice of the training split that D never trains on (never the
test split) against a fixed set of fresh samples, every ``eval_every`` steps; training stops
after ``patience`` evaluations without a better AUC, and the best D is what is kept:

- ``RUN/ratio.safetensors``: D's weights (loaded without executing code);
- ``RUN/ratio.json``: its architecture and training settings, the best held-out AUC and step,
  the AUC on the test split (for information), and the AUC curve (steps, CPU seconds).

``fresh_real`` (oracle data only) draws a fresh real batch from the oracle at every step instead
of the fixed training split: the upper bound that tells "D lacks data" from "D lacks capacity".
``augment`` replaces each token of both training batches by a random word with that probability
(the held-out AUC is measured on unchanged sentences): more distinct sentences per real one, and,
since both sides get the same corruption, no new way to tell them apart.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from textgan.config import RatioConfig
from textgan.data.corpus import load_corpus
from textgan.data.vocab import EOS_ID, SPECIALS
from textgan.metrics.temperature import judge_auc
from textgan.models.generators import alive_mask, generate_ids
from textgan.models.ratio import build_discriminator
from textgan.runs import RATIO_CONFIG_FILE, RATIO_FILE, TASK_LM, load_lm_run, read_meta
from textgan.train import common as C
from textgan.utils import UserError, resolve_device, seed_everything

log = logging.getLogger(__name__)


def augment_ids(ids: torch.Tensor, p: float, vocab_size: int, rng: torch.Generator) -> torch.Tensor:
    """``ids`` (B, T) with each word (an alive token other than ``<eos>``) replaced by a uniformly
    random word id (``len(SPECIALS)`` .. V - 1) with probability ``p``; ``<eos>`` and ``<pad>`` stay."""
    if p <= 0:
        return ids
    words = alive_mask(ids) & (ids != EOS_ID)
    flip = (torch.rand(ids.shape, generator=rng, device=rng.device) < p) & words
    rand = torch.randint(len(SPECIALS), vocab_size, ids.shape, generator=rng, device=rng.device)
    return torch.where(flip, rand, ids)


def _bce_step(d: torch.nn.Module, opt: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor) -> float:
    d.train()
    loss = d.loss(real, 1.0) + d.loss(fake, 0.0)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(d.parameters(), 5.0)
    opt.step()
    return float(loss.detach()) / 2


@torch.no_grad()
def heldout_auc(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> float:
    """AUC of D's logits: real (N, T) vs generated (M, T) sentences (eval mode, restored after)."""
    was = d.training
    d.eval()
    auc = judge_auc(lambda x: d(x).float(), real, fake)
    d.train(was)
    return auc


def train_ratio(cfg: RatioConfig) -> dict[str, Any]:
    """Fit D to the generator of the run ``cfg.run`` and save it (see the module docstring) in
    ``cfg.run_dir`` (default: the run itself).

    Returns:
        The contents of ``ratio.json``.

    Raises:
        UserError: not an LM run (a style run included), ``fresh_real`` without oracle data, a
            training split smaller than the held-out slice.
    """
    run = Path(cfg.run)
    task = read_meta(run)["task"]
    if task != TASK_LM:
        raise UserError(f"--run {run}: a '{task}' run; train ratio fits D to a 'textgan train lm' run")
    generator, vocab, _, lm_cfg = load_lm_run(run, str(resolve_device(cfg.device)))
    generator.requires_grad_(False)
    corpus = load_corpus(lm_cfg.data, run, vocab)
    if cfg.fresh_real and corpus.oracle is None:
        raise UserError("--fresh-real: needs a run on the synthetic oracle (--data oracle)")
    n_train = corpus.train.shape[0]
    if n_train < cfg.heldout + cfg.batch_size:
        raise UserError(f"--heldout {cfg.heldout}: the training split has only {n_train} sentences")
    out = Path(cfg.run_dir) if cfg.run_dir else run
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)
    dev = generator.banned.device
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(cfg.seed))
    held_real, train_real = corpus.train[order[: cfg.heldout]], corpus.train[order[cfg.heldout :]]
    rng = torch.Generator(device=dev).manual_seed(cfg.seed + 1)
    held_fake = generate_ids(
        generator, cfg.heldout, torch.Generator(device=dev).manual_seed(cfg.seed + 2), 500, cfg.temperature
    )
    oracle_rng = torch.Generator().manual_seed(cfg.seed + 3)
    d = build_discriminator(
        cfg.arch,
        len(vocab),
        corpus.max_len,
        lm_cfg.critic,
        cfg.embed_dim,
        cfg.hidden_dim,
        cfg.dropout,
        cfg.score,
        generator,
    ).to(dev)
    opt = torch.optim.AdamW(d.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    data_rng = torch.Generator().manual_seed(cfg.seed + 4)
    aug_rng = torch.Generator(device=dev).manual_seed(cfg.seed + 6)

    def real_batch() -> torch.Tensor:
        if cfg.fresh_real:
            return corpus.oracle.sample(cfg.batch_size, corpus.max_len, oracle_rng) + len(SPECIALS)
        return train_real[torch.randint(train_real.shape[0], (cfg.batch_size,), generator=data_rng)]

    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"auc": -1.0, "step": 0, "state": None}
    bad, loss_sum, n_loss = 0, 0.0, 0
    cpu0, wall0 = time.process_time(), time.time()
    bar = C.progress_bar(cfg.steps, "train ratio", "step", cfg.progress)
    record: dict[str, Any] = {}
    for step in range(1, cfg.steps + 1):
        fake = generator.sample_ids(cfg.batch_size, generator=rng, temperature=cfg.temperature)[0]
        real = augment_ids(real_batch().to(dev), cfg.augment, len(vocab), aug_rng)
        loss_sum += _bce_step(d, opt, real, augment_ids(fake, cfg.augment, len(vocab), aug_rng))
        n_loss += 1
        bar.update(1)
        if step % cfg.eval_every and step != cfg.steps:
            continue
        auc = heldout_auc(d, held_real.to(dev), held_fake.to(dev))
        history.append(
            {
                "step": step,
                "loss": round(loss_sum / n_loss, 5),
                "heldout_auc": round(auc, 5),
                "cpu_seconds": round(time.process_time() - cpu0, 2),
                "seconds": round(time.time() - wall0, 2),
            }
        )
        loss_sum, n_loss = 0.0, 0
        bar.set_postfix(auc=f"{auc:.3f}", best=f"{max(auc, best['auc']):.3f}")
        if auc > best["auc"]:
            best = {"auc": auc, "step": step, "state": {k: v.detach().clone() for k, v in d.state_dict().items()}}
            bad = 0
            record = _save(out, d, cfg, run, best, history, None)  # saved as it goes
        else:
            bad += 1
            _write_json(out, {**record, "history": history})
            if bad >= cfg.patience:
                log.info("train ratio: no better held-out AUC in %d evaluations; stopped at step %d", bad, step)
                break
    bar.close()
    d.load_state_dict(best["state"])
    test_fake = generate_ids(
        generator, corpus.test.shape[0], torch.Generator(device=dev).manual_seed(cfg.seed + 5), 500, cfg.temperature
    )
    test_auc = heldout_auc(d, corpus.test.to(dev), test_fake.to(dev))
    record = _save(out, d, cfg, run, best, history, test_auc)
    log.info(
        "train ratio: held-out AUC %.4f at step %d (test split %.4f); D in %s",
        best["auc"],
        best["step"],
        test_auc,
        out / RATIO_FILE,
    )
    return record


def _write_json(out: Path, record: dict[str, Any]) -> None:
    C.atomic_write_bytes(out / RATIO_CONFIG_FILE, (json.dumps(record, indent=1) + "\n").encode("utf-8"))


def _save(
    out: Path,
    d: torch.nn.Module,
    cfg: RatioConfig,
    run: Path,
    best: dict[str, Any],
    history: list[dict[str, float]],
    test_auc: float | None,
) -> dict[str, Any]:
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in best["state"].items()}
    with C.atomic_path(out / RATIO_FILE) as tmp:
        save_file(state, str(tmp))
    record = {
        "config": dataclasses.asdict(cfg),
        "run": str(run),
        "best_step": best["step"],
        "heldout_auc": round(best["auc"], 5),
        "test_auc": None if test_auc is None else round(test_auc, 5),
        "history": history,
    }
    _write_json(out, record)
    return record
