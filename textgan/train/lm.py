"""Unconditional language-model GAN training: MLE pretraining, then the adversarial phase.

``train_lm(cfg)`` is what ``textgan train lm`` runs. The run dir gets
``config.json``, ``model.json``, ``vocab.txt``, ``metrics.jsonl``, ``samples/``,
``checkpoints/last.pt`` and ``generator.safetensors`` (the latest generator).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from textgan import distributed as D
from textgan import losses as L
from textgan.config import LMConfig
from textgan.data.corpus import Corpus, load_corpus
from textgan.data.vocab import Vocab
from textgan.metrics.ngrams import bleu, self_bleu
from textgan.metrics.nll import nll_gen, nll_oracle
from textgan.metrics.temperature import judge_auc
from textgan.models.critics import CNNCritic
from textgan.models.generators import Generator, Sample, alive_mask, build_generator, generate_ids
from textgan.models.gumbel import beta_at
from textgan.runs import TASK_LM, load_lm_run  # noqa: F401 - load_lm_run re-exported
from textgan.train import common as C
from textgan.train.common import TrainingInterrupted  # noqa: F401 - re-exported
from textgan.train.scaffold import Trainer
from textgan.utils import UserError

log = logging.getLogger(__name__)
TASK = TASK_LM


def mle_loss(generator: Generator, ids: torch.Tensor) -> torch.Tensor:
    """Mean per-token negative log-likelihood of ``ids`` (B, T); padding after ``<eos>`` is not computed."""
    token_logp, _ = generator.token_log_probs(ids)
    return L.mle_nll(token_logp)[0]


def tempered_log_probs(sample: Sample, temperature: float) -> Sample:
    """``sample`` with its log-likelihoods under the tempered model ``softmax(logits / T)``
    (the proposal of a cold draw), per token in the sample's row-major order and per sentence,
    from the sample's own teacher-forced logits (no second pass through the generator)."""
    alive = alive_mask(sample.ids)
    logp = torch.log_softmax(sample.logits[alive] / temperature, dim=-1)  # (N, V), row-major
    token_logp = logp.gather(-1, sample.ids[alive][:, None])[:, 0]
    rows = sample.token_rows
    log_prob = token_logp.new_zeros(sample.ids.shape[0]).index_add(0, rows, token_logp)
    return sample._replace(log_prob=log_prob, token_log_prob=token_logp)


def evaluate_generator(
    generator: Generator,
    corpus: Corpus,
    cfg: LMConfig,
    seed: int,
    judges: dict[str, torch.nn.Module] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """The periodic evaluation: NLL_gen on the test split, NLL_oracle, BLEU and self-BLEU of samples,
    and for each of ``judges`` (the critic f, the ratio discriminator D) ``<name>_auc``: the ROC AUC
    of its score between test sentences and as many fresh samples (0.5: it cannot tell them apart).

    Sampling uses its own ``torch.Generator`` seeded with ``seed``, so evaluating
    never shifts the training random stream.

    Returns:
        The metrics and the generated sentences (text).
    """
    ev = cfg.eval
    device = generator.banned.device
    rng = torch.Generator(device=device).manual_seed(seed)
    ids = generate_ids(generator, ev.eval_samples, rng)
    texts = corpus.detokenize(ids)
    metrics: dict[str, float] = {"nll_gen": nll_gen(generator, corpus.test)}
    if corpus.oracle is not None:
        metrics["nll_oracle"] = nll_oracle(corpus.oracle, corpus.to_oracle_ids(ids))
    words = [t.split() for t in texts]
    refs = corpus.test_words
    if ev.bleu_references and ev.bleu_references < len(refs):
        import random

        refs = random.Random(seed).sample(refs, ev.bleu_references)
    metrics.update(bleu(words, refs, ev.bleu_ns))
    if ev.self_bleu:
        metrics.update(self_bleu(words, ev.bleu_ns))
    n = min(ids.shape[0], corpus.test.shape[0])
    for name, judge in (judges or {}).items():
        was = judge.training
        judge.eval()
        score = lambda x, j=judge: j(ids=x.to(device)).float()  # noqa: E731
        metrics[f"{name}_auc"] = judge_auc(score, corpus.test[:n], ids[:n])
        judge.train(was)
    return metrics, texts


class LMTrainer(Trainer):
    """Holds the run's state; each phase is a method.

    Args:
        cfg: the resolved config.
        resume: continue from ``<run_dir>/checkpoints/last.pt``.
    """

    task = TASK
    command = "lm"
    exports = (("generator", C.GENERATOR_FILE),)

    def _replicate(self) -> None:
        self.g = D.replicate(self.generator, ("token_log_probs", "relax", "sample"), self.device)
        if self.cfg.adv.adv_steps > 0:
            self.c = D.replicate(self.critic, ("__call__",), self.device)
            if hasattr(self, "discriminator"):
                self.d = D.replicate(self.discriminator, ("__call__",), self.device)

    def _setup(self, cfg: LMConfig, resume: bool) -> None:
        main = self.dist.is_main
        with self.opened(resume):
            vocab = Vocab.load(self.run_dir / C.VOCAB_FILE) if resume or not main else None
            self.init_weights: Path | None = None  # the --init-from run's generator file
            if cfg.init_from and not resume:
                cfg, vocab, self.init_weights = _init_from(cfg)
            if cfg.model.generator == "hf":  # the model's own tokenizer and vocabulary
                cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, tokenizer="hf", min_freq=1))
            self.cfg = cfg
            if cfg.model.generator == "hf" and main and not resume:
                C.prepare_hf_files(self.run_dir, cfg.init_from or cfg.model.hf_model, from_run=bool(cfg.init_from))
            self.corpus = load_corpus(cfg.data, self.run_dir, vocab)
        self.data_rng = torch.Generator().manual_seed(cfg.seed)
        self.generator = build_generator(
            cfg.model,
            len(self.corpus.vocab),
            self.corpus.max_len,
            self.corpus.banned_ids,
            run_dir=self.run_dir,
            to_hf=self.corpus.to_hf,
        )
        if self.init_weights is not None:  # tied weights are stored once: load_model restores them
            from safetensors.torch import load_model

            try:
                load_model(self.generator, str(self.init_weights))
            except RuntimeError as err:  # e.g. another corpus's vocabulary
                problem = " ".join(str(err).split())[:160]
                raise UserError(
                    f"--init-from {cfg.init_from}: its generator does not fit this run's data "
                    f"(vocabulary {len(self.corpus.vocab)}; {problem}); train on the run's own --data"
                ) from None
        elif cfg.model.generator == "hf" and not resume:
            self.generator.load_pretrained(cfg.model.hf_model)  # type: ignore[attr-defined]
        self.generator.to(self.device)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.train.mle_lr)
        self.models: dict[str, torch.nn.Module] = {"generator": self.generator}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"generator": self.g_opt}
        adv = cfg.adv
        if adv.adv_steps > 0:
            vocab_size, max_len = len(self.corpus.vocab), self.corpus.max_len
            self.critic = CNNCritic(cfg.critic, vocab_size, max_len).to(self.device)
            self.models["critic"] = self.critic
            self.optimizers["generator_adv"] = torch.optim.Adam(self.generator.parameters(), lr=adv.adv_lr)
            critic_lr = adv.critic_learning_rate
            self.optimizers["critic"] = torch.optim.Adam(self.critic.parameters(), lr=critic_lr)
            if adv.loss == "ppo" and adv.ratio == "discriminator":
                self.discriminator = CNNCritic(cfg.critic, vocab_size, max_len).to(self.device)
                self.models["discriminator"] = self.discriminator
                self.optimizers["discriminator"] = torch.optim.Adam(self.discriminator.parameters(), lr=critic_lr)
            if cfg.compile:
                for critic in (self.critic, getattr(self, "discriminator", None)):
                    if critic is not None:
                        critic.use_compiler()
        self.adv_step = 0
        self.critic_warmed = False
        self.critic_updates = 0
        # Position inside the current MLE epoch and the running adversarial averages, so that a
        # run stopped between two steps resumes exactly where it was.
        self.mle: dict[str, Any] = {"order": None, "batch": 0, "loss_sum": 0.0, "tokens": 0, "seconds": 0.0}
        self.adv_sums: dict[str, float] = {}
        self.adv_count = 0
        meta = {
            "vocab_size": len(self.corpus.vocab),
            "max_len": self.corpus.max_len,
            "banned_ids": self.corpus.banned_ids,
        }
        self.start(resume, self.corpus.vocab, meta)
        if resume:
            log.info("resumed %s at epoch %d, step %d", self.run_dir, self.epoch, self.step)

    # -- state -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "adv_step": self.adv_step,
            "critic_warmed": self.critic_warmed,
            "critic_updates": self.critic_updates,
            "mle": dict(self.mle),
            "adv_sums": dict(self.adv_sums),
            "adv_count": self.adv_count,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.adv_step = int(state.get("adv_step", 0))
        self.critic_warmed = bool(state.get("critic_warmed", False))
        self.critic_updates = int(state.get("critic_updates", 0))
        self.mle.update(state.get("mle", {}))
        self.adv_sums = dict(state.get("adv_sums", {}))
        self.adv_count = int(state.get("adv_count", 0))

    def checkpoint(self) -> None:
        """Write ``checkpoints/last.pt`` and ``generator.safetensors`` (rank 0 only)."""
        if self.dist.is_main:
            self.checkpointed = (self.step, self.epoch, self.adv_step, self.critic_warmed)
        super().checkpoint()

    # -- evaluation ------------------------------------------------------------------
    def evaluate(self, phase: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Score the generator, write samples and one metrics record (rank 0 only; {} elsewhere)."""
        if not self.dist.is_main:
            return {}
        t0 = time.time()
        # in fp32 whatever --precision: reported numbers do not depend on it
        judges = {}  # the critic and D are measured once they train (not the untrained ones of the MLE phase)
        if phase == "adv":
            judges = {
                k: getattr(self, m) for k, m in (("critic", "critic"), ("d", "discriminator")) if hasattr(self, m)
            }
        metrics, texts = evaluate_generator(
            self.generator, self.corpus, self.cfg, seed=self.cfg.seed + 7919 * (self.step + 1), judges=judges
        )
        record = {
            "step": self.step,
            "phase": phase,
            "epoch": self.epoch,
            "adv_step": self.adv_step,
            **(extra or {}),
            **metrics,
            "eval_seconds": round(time.time() - t0, 3),
            "elapsed": round(time.time() - self.started, 3),
        }
        self.metrics.log(record)
        path = self.run_dir / C.SAMPLES_DIR / f"step-{self.step:06d}.txt"
        C.atomic_write_bytes(path, ("\n".join(texts) + "\n").encode("utf-8"))
        shown = "  ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        where = f"step {self.adv_step}" if phase == "adv" else f"epoch {self.epoch}"
        log.info("[%s %s] %s (NLLs are per token)", phase, where, shown)
        for text in texts[: self.cfg.eval.show_samples]:
            log.info("  sample: %s", text)
        return record

    # -- phases --------------------------------------------------------------------------
    def pretrain(self) -> None:
        """MLE pretraining for ``mle_epochs`` epochs (continues mid-epoch after a resume)."""
        tc = self.cfg.train
        n = self.corpus.train.shape[0]
        n_batches = -(-n // tc.batch_size)
        if self.epoch >= tc.mle_epochs:
            return
        done_batches = self.epoch * n_batches + self.mle["batch"]
        bar = C.progress_bar(tc.mle_epochs * n_batches, "MLE", "batch", self.cfg.progress, initial=done_batches)
        self.generator.train()
        while self.epoch < tc.mle_epochs:
            st = self.mle
            if st["order"] is None:  # a new epoch: shuffle
                st.update(
                    order=torch.randperm(n, generator=self.data_rng), batch=0, loss_sum=0.0, tokens=0, seconds=0.0
                )
            t0 = time.time()
            while st["batch"] < n_batches:
                idx = st["order"][st["batch"] * tc.batch_size : (st["batch"] + 1) * tc.batch_size]
                st["batch"] += 1
                if idx.numel() < self.dist.world:  # a last batch too small to give every rank a row
                    continue
                batch = self.corpus.train[D.shard(idx)].to(self.device)
                with self.amp():
                    loss, mean_nll, tokens = self._mle_step(batch)
                C.optimizer_step(self.generator, self.g_opt, loss, tc.grad_clip, "MLE", self.step)
                self.step += 1
                st["loss_sum"] += mean_nll
                st["tokens"] += tokens
                bar.update(1)
                bar.set_postfix(
                    loss=f"{mean_nll:.3f}", tok_s=f"{st['tokens'] / (st['seconds'] + time.time() - t0):.0f}"
                )
                if C.stop_now(self):
                    st["seconds"] += time.time() - t0
                    self._stop()
            st["seconds"] += time.time() - t0
            self.epoch += 1
            extra = {
                "train_loss": st["loss_sum"] / n_batches,
                "tokens_per_s": round(st["tokens"] / max(st["seconds"], 1e-9), 1),
            }
            st["order"] = None
            if self.epoch % self.cfg.eval.eval_every == 0 or self.epoch == tc.mle_epochs:
                self.evaluate("mle", extra)
            self.checkpoint()
        bar.close()

    def _mle_step(self, batch: torch.Tensor) -> tuple[torch.Tensor, float, int]:
        """This rank's MLE loss on its shard ``batch`` (B/W, T), the global batch's mean NLL per
        token and its token count. Under torchrun the loss is weighted by the rank's share of
        the global tokens, so that DDP's gradient average is the gradient of the global mean."""
        token_logp, _ = self.g.token_log_probs(batch)
        nll_sum = -token_logp.sum()
        if not self.dist.enabled:
            return nll_sum / token_logp.numel(), nll_sum.item() / token_logp.numel(), token_logp.numel()
        local = torch.stack([torch.tensor(float(token_logp.numel()), device=nll_sum.device), nll_sum.detach()])
        n_all, nll_all = D.all_sum(local).tolist()
        return nll_sum * (self.dist.world / n_all), nll_all / n_all, int(n_all)

    def _real_batch(self) -> torch.Tensor:
        """A real batch drawn with replacement from the training split (B, T); this rank's share
        of it under torchrun (all ranks draw the same global batch)."""
        n = self.corpus.train.shape[0]
        idx = torch.randint(n, (self.cfg.train.batch_size,), generator=self.data_rng)
        return self.corpus.train[D.shard(idx)].to(self.device)

    def fake_rows(self, beta: float, n_batches: int = 1) -> list[torch.Tensor]:
        """Soft rows (B, T, V) of ``n_batches`` fresh generator batches, without gradient; with
        ``--critic-input hard`` their token ids (B, T) instead.

        The generator is fixed during the critic updates, so their fake batches are
        drawn in one batched pass (same distribution, far less per-step overhead).
        """
        b = self.local_batch
        if self.cfg.adv.critic_input == "hard":
            with torch.no_grad(), self.amp():
                ids, _ = self.generator.sample_ids(n_batches * b)
            return list(ids.split(b))
        with self.amp():
            _, soft = self.generator.sample_soft(n_batches * b, beta=beta)
        soft = soft.float()
        return list(soft.split(b))

    def critic_step(self, beta: float, fake: torch.Tensor | None = None) -> dict[str, float]:
        """One critic update: reweighted (or baseline) critic loss plus gradient penalty.

        Args:
            beta: inverse temperature of the fake soft rows.
            fake: (B, T, V) fake soft rows or (B, T) ids (drawn here when None; see ``fake_rows``).
        """
        adv, tc = self.cfg.adv, self.cfg.train
        real = self._real_batch()
        fake = self.fake_rows(beta)[0] if fake is None else fake
        with self.amp():
            loss, stats = C.critic_objective(adv, self.c, real, fake, self.critic_updates)
        self.critic_updates += 1
        C.optimizer_step(self.critic, self.optimizers["critic"], loss, tc.grad_clip, "critic", self.step)
        stats = D.reduce_stats({"critic_loss": loss.detach(), **stats})
        return {k: float(v) for k, v in stats.items()}

    def discriminator_step(self, fake_rows: torch.Tensor) -> dict[str, float]:
        """One update of the density-ratio discriminator D on real text vs ``fake_rows``."""
        real = self._real_batch()
        with self.amp():
            loss, stats = L.discriminator_bce(self.d(ids=real).float(), self.d(soft=fake_rows.detach()).float())
        C.optimizer_step(
            self.discriminator,
            self.optimizers["discriminator"],
            loss,
            self.cfg.train.grad_clip,
            "discriminator",
            self.step,
        )
        return {k: float(v) for k, v in D.reduce_stats({"d_loss": loss.detach(), **stats}).items()}

    def generator_phase(self, beta: float) -> dict[str, float]:
        """``g_steps`` generator updates.

        ``ppo``: PAPER.md's recipe: draw y ~ p_theta_old with its Gumbel noise once,
        then each update recomputes (teacher-forced on y, same noise) the soft rows,
        A = f(soft rows) and log r, and minimises the clipped surrogate. Baselines
        draw a fresh batch for each update.

        With ``--cold-temperature T`` (ColdGAN, Scialom et al. 2020) y is drawn from the
        tempered p_theta_old,T and r = p_theta(y) / p_theta_old,T(y): the importance weight
        of the cold proposal, clipped by the same rule.
        """
        adv, tc = self.cfg.adv, self.cfg.train
        opt = self.optimizers["generator_adv"]
        gen = self.generator
        self.critic.requires_grad_(False)  # no critic gradients from generator losses
        out: dict[str, float] = {}
        try:
            if adv.loss == "ppo":
                cold = adv.cold_temperature
                with torch.no_grad(), self.amp():
                    ids, noise = gen.sample_ids(self.local_batch, keep_noise=True, temperature=cold)
                    old = gen.relax(ids, noise, beta, cold)
                    if cold != 1.0:
                        old = tempered_log_probs(old, cold)
                old_d_logits = None
                for _ in range(adv.g_steps):
                    with self.amp():
                        cur = self.g.relax(ids, noise, beta, cold)
                    rows = C.critic_rows(adv, cur)
                    log_r = None  # the exact ratio, computed in C.clipped_ratio_loss
                    if adv.ratio == "discriminator":
                        out.update(self.discriminator_step(cur.soft))
                        self.discriminator.requires_grad_(False)
                        with self.amp():
                            if old_d_logits is None:
                                with torch.no_grad():
                                    old_d_logits = self.discriminator(soft=old.soft).float()
                            log_r = L.log_ratio_from_discriminator(
                                self.discriminator(soft=cur.soft).float(), old_d_logits
                            )
                        self.discriminator.requires_grad_(True)
                    with self.amp():
                        scores = self.critic(soft=rows).float()
                        loss, stats = C.clipped_ratio_loss(adv, scores, cur, old, log_r)
                    C.optimizer_step(gen, opt, loss, tc.grad_clip, "generator", self.step)
                    out.update({"g_loss": loss.item(), **{k: float(v) for k, v in stats.items()}})
            else:
                for _ in range(adv.g_steps):
                    with self.amp():
                        fake = self.g.sample(self.local_batch, beta=beta)
                        f_fake = self.critic(soft=C.critic_rows(adv, fake)).float()
                        real = self.critic(ids=self._real_batch()).float() if adv.loss == "rsgan" else None
                        loss, _ = L.generator_loss(adv.loss, f_fake.detach() if real is None else real, f_fake)
                    C.optimizer_step(gen, opt, loss, tc.grad_clip, "generator", self.step)
                    out["g_loss"] = loss.item()
        finally:
            self.critic.requires_grad_(True)
        return out

    def warmup_auc(self) -> float:
        """The critic's ROC AUC between ``C.WARMUP_AUC_ROWS`` training sentences and as many fresh
        samples (own random streams: the training streams do not move). Rank 0's view."""
        rng = torch.Generator().manual_seed(self.cfg.seed + 104_729 + self.critic_updates)
        n = min(C.WARMUP_AUC_ROWS, self.corpus.train.shape[0])
        real = self.corpus.train[torch.randperm(self.corpus.train.shape[0], generator=rng)[:n]]
        g_rng = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 1_299_709 + self.critic_updates)
        fake = generate_ids(self.generator, n, g_rng)
        was = self.critic.training
        self.critic.eval()
        try:
            return judge_auc(lambda x: self.critic(ids=x.to(self.device)).float(), real, fake)
        finally:
            self.critic.train(was)

    def warm_up_critic(self) -> None:
        """``critic_warmup`` critic updates on the starting generator (at the first iteration's beta).

        A critic that starts from random weights gives the first generator phases no signal
        (its real-fake gap is about 0); this trains it first (``C.warm_up_critic``: signals,
        resuming, the AUC target), then writes a checkpoint.
        """
        adv = self.cfg.adv
        beta = beta_at(0, adv.adv_steps, adv.beta_max, adv.beta_schedule)
        C.warm_up_critic(self, lambda k: (self.critic_step(beta, f) for f in self.fake_rows(beta, k)), self.warmup_auc)

    def adversarial(self) -> None:
        """``adv_steps`` iterations of ``n_critic`` critic updates then one generator phase."""
        adv = self.cfg.adv
        if self.adv_step >= adv.adv_steps:
            return
        if self.adv_step == 0 and self.critic_updates == 0:  # (not again when a stopped warm-up resumes)
            self.evaluate("adv", {"beta": 1.0})
        self.generator.train()
        self.critic.train()
        if self.adv_step == 0 and adv.critic_warmup and not self.critic_warmed:
            self.warm_up_critic()
        bar = C.progress_bar(adv.adv_steps, "adversarial", "it", self.cfg.progress, initial=self.adv_step)
        t0 = time.time()
        while self.adv_step < adv.adv_steps:
            beta = beta_at(self.adv_step, adv.adv_steps, adv.beta_max, adv.beta_schedule)
            for fake in self.fake_rows(beta, adv.n_critic):
                stats = self.critic_step(beta, fake)
            stats.update(self.generator_phase(beta))
            self.adv_step += 1
            self.step += 1
            self.adv_count += 1
            for k, v in stats.items():
                self.adv_sums[k] = self.adv_sums.get(k, 0.0) + v
            bar.update(1)
            bar.set_postfix(
                g=f"{stats.get('g_loss', 0):.3f}", gap=f"{stats.get('critic_gap', 0):.3f}", beta=f"{beta:.1f}"
            )
            if self.adv_step % adv.adv_eval_every == 0 or self.adv_step == adv.adv_steps:
                extra = {
                    "beta": beta,
                    "seconds_per_iter": round((time.time() - t0) / self.adv_count, 3),
                    **{k: v / self.adv_count for k, v in self.adv_sums.items()},
                }
                self.adv_sums, self.adv_count = {}, 0
                self.evaluate("adv", extra)
                self.checkpoint()
                t0 = time.time()
            elif C.stop_now(self):
                self._stop()
        bar.close()

    def run(self) -> dict[str, Any]:
        """All phases; returns the last metrics record.

        SIGINT / SIGTERM finish the current step, write a checkpoint and raise
        :class:`TrainingInterrupted`.
        """
        with C.stop_on_signals(self):
            return self._run()

    def _run(self) -> dict[str, Any]:
        if not self.cfg.init_from:  # an --init-from run (also when resumed) has no MLE phase
            if self.step == 0 and self.cfg.train.mle_epochs == 0 and self.cfg.adv.adv_steps == 0:
                self.evaluate("init")
            self.pretrain()
        if self.cfg.adv.adv_steps > 0:
            self.adversarial()
        if getattr(self, "checkpointed", None) != (self.step, self.epoch, self.adv_step, self.critic_warmed):
            self.checkpoint()  # only when something changed: prev.pt stays the checkpoint before last.pt
        D.barrier()  # the others wait for rank 0's last evaluation and checkpoint
        if not self.dist.is_main:
            return {}
        records = C.read_metrics(self.run_dir / C.METRICS_FILE)
        line = adversarial_summary(records)
        if line:
            log.info(line)
        return records[-1] if records else {}


def _init_from(cfg: LMConfig) -> tuple[LMConfig, Vocab, Path]:
    """Take the generator, its architecture, vocabulary and max_len from a pretrained run (its
    weights: the path of its generator file, checked to load)."""
    import dataclasses

    from safetensors.torch import load_file

    run = Path(cfg.init_from)
    for name in (C.CONFIG_FILE, C.MODEL_FILE, C.VOCAB_FILE, C.GENERATOR_FILE):
        if not (run / name).is_file():
            raise UserError(f"--init-from {run}: no {name} (not a trained textgan LM run)")
    from textgan.config import load_json

    try:
        src = load_json(LMConfig, run / C.CONFIG_FILE)
        meta = json.loads((run / C.MODEL_FILE).read_text(encoding="utf-8"))
        if meta.get("task") != TASK:
            raise ValueError(f"a '{meta.get('task')}' run, not a language-model run")
        load_file(str(run / C.GENERATOR_FILE))  # readable
        vocab = Vocab.load(run / C.VOCAB_FILE)
    except (ValueError, OSError, json.JSONDecodeError) as err:
        raise UserError(f"--init-from {run}: {err}") from None
    data = dataclasses.replace(
        cfg.data, max_len=int(meta["max_len"]), tokenizer=src.data.tokenizer, lowercase=src.data.lowercase
    )
    if src.data.tokenizer == "spm":
        raise UserError("--init-from: runs with --tokenizer spm cannot be continued into a new run dir yet")
    if src.model.generator != "hf" and cfg.model.generator == "hf":
        raise UserError(
            f"--init-from {run}: a --generator {src.model.generator} run; --generator hf starts from --hf-model"
        )
    log.info(
        "initialising from %s (generator %s, vocab %d, max_len %d)",
        run,
        src.model.generator,
        len(vocab),
        meta["max_len"],
    )
    return dataclasses.replace(cfg, model=src.model, data=data), vocab, run / C.GENERATOR_FILE


def adversarial_summary(records: list[dict[str, Any]]) -> str | None:
    """One before / after line of the adversarial phase from a run's metrics records.

    Compares the evaluation at adversarial step 0 (the MLE generator) with the last one:
    NLL_oracle (synthetic data; quality) or BLEU-4 (real data), and NLL_test (coverage of
    the held-out data). Returns None when the run had no adversarial phase.
    """
    adv = [r for r in records if r.get("phase") == "adv"]
    if len(adv) < 2 or adv[0].get("adv_step") != 0:
        return None
    first, last = adv[0], adv[-1]
    parts = []
    for key, name in (("nll_oracle", "NLL_oracle"), ("bleu4", "BLEU-4"), ("nll_gen", "NLL_test")):
        if key in first and key in last and not (key == "bleu4" and "nll_oracle" in first):
            parts.append(f"{name} {first[key]:.3f} -> {last[key]:.3f} ({last[key] - first[key]:+.3f})")
    tol = 0.005  # changes smaller than this (nats, or BLEU) count as no change
    if "nll_oracle" in first:
        d_quality = first["nll_oracle"] - last["nll_oracle"]
    else:
        d_quality = last.get("bleu4", 0.0) - first.get("bleu4", 0.0)
    d_coverage = first["nll_gen"] - last["nll_gen"]
    quality_up, coverage_kept = d_quality > tol, d_coverage > -tol
    if abs(d_quality) <= tol and abs(d_coverage) <= tol:
        verdict = "the adversarial phase barely moved the generator (both changes within 0.005)"
    elif quality_up and coverage_kept:
        verdict = (
            "better quality at no loss of coverage (changes under 0.005 count as none): the adversarial phase "
            "helped in this one evaluation; confirm it on the frontier (textgan eval lm --run RUN --temperatures "
            "0.7,0.8,0.9,1.0), where tempered MLE is the bar"
        )
    elif quality_up:
        verdict = (
            "better quality, worse coverage: a quality-for-diversity trade, which a lower sampling temperature "
            "also buys; compare the two on the frontier (textgan eval lm --run RUN --temperatures 0.7,0.8,0.9,1.0)"
        )
    elif coverage_kept and d_quality >= -tol:
        verdict = "quality unchanged, coverage kept"
    elif coverage_kept:
        verdict = "better coverage, worse quality"
    else:
        verdict = "worse on both: the adversarial phase hurt"
    return f"adversarial phase (steps 0 -> {last['adv_step']}): " + ", ".join(parts) + f"; {verdict}"


def train_lm(cfg: LMConfig, resume: bool = False) -> dict[str, Any]:
    """Train a text GAN generator as configured; returns the final metrics record with the run's
    ``run_dir`` ({} on the ranks other than 0 under torchrun)."""
    try:
        trainer = LMTrainer(cfg, resume)
        record = trainer.run()
        return {**record, "run_dir": str(trainer.run_dir)} if record else record
    finally:
        D.teardown()
