"""Sentiment style transfer: autoencoder pretraining, then adversarial training with the
shared losses (sample-reweighted critic, clipped-ratio generator surrogate), evaluation and
``transfer`` (PAPER.md, "Tasks").

Each adversarial iteration takes a batch of one source style (alternating), transfers it
to the other style, updates that style's critic ``--n-critic`` times on real sentences of
the target style vs soft transfers, then runs a generator phase of ``--g-steps`` updates
on ``reconstruction + style_weight * classifier CE + adv_weight * adversarial (+ cycle)``,
where the adversarial term is the clipped ratio surrogate for ``--loss ppo`` (exact ratio
from the decoder's teacher-forced log-probs, or D's logits) or a baseline generator loss.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from textgan import distributed as D
from textgan import losses as L
from textgan.config import StyleConfig, StyleModelConfig
from textgan.data.style import StyleCorpus, load_style_corpus
from textgan.data.vocab import Vocab
from textgan.decoding import transfer_sentences
from textgan.metrics.style import style_accuracy, style_metrics
from textgan.models.classifiers import TextCNN
from textgan.models.critics import CNNCritic
from textgan.models.generators import alive_mask
from textgan.models.gumbel import beta_at
from textgan.models.style import Encoded, StyleTransferModel, drop_words, mask_hint_table, style_lexicon
from textgan.runs import (  # noqa: F401 - load_style_run re-exported
    STYLE_CLASSIFIER_FILE,
    STYLE_MODEL_FILE,
    TASK_STYLE,
    load_classifier,
    load_lm_run,
    load_style_run,
    predict_styles,
)
from textgan.train import common as C
from textgan.train.scaffold import Trainer
from textgan.utils import UserError

log = logging.getLogger(__name__)
TASK = TASK_STYLE
MODEL_WEIGHTS = STYLE_MODEL_FILE
CLASSIFIER_WEIGHTS = STYLE_CLASSIFIER_FILE


class StyleTrainer(Trainer):
    """State of a style-transfer run; phases are methods.

    Args:
        cfg: the resolved config.
        resume: continue from ``<run_dir>/checkpoints/last.pt``.
    """

    task = TASK
    command = "style"
    exports = (("model", MODEL_WEIGHTS), ("classifier", CLASSIFIER_WEIGHTS))

    def __init__(self, cfg: StyleConfig, resume: bool = False) -> None:
        if not cfg.data.data:
            raise UserError("--data: a style directory is required (train.0, train.1, dev.*, test.*)")
        if cfg.adv.critic_warmup and not cfg.train.adv_weight:
            raise UserError("--critic-warmup: --adv-weight 0 trains no critic; drop the warm-up or set a weight")
        if cfg.adv.cold_temperature != 1.0:
            raise UserError("--cold-temperature: only the language-model task (textgan train lm) has it so far")
        super().__init__(cfg, resume)

    def _replicate(self) -> None:
        dev = self.device
        self.m = D.replicate(self.model, ("__call__", "encode", "relax", "reconstruction_loss"), dev)
        self.clf = D.replicate(self.classifier, ("__call__",), dev)
        self.c = [D.replicate(critic, ("__call__",), dev) for critic in self.critics]
        if hasattr(self, "discriminators"):
            self.d = [D.replicate(disc, ("__call__",), dev) for disc in self.discriminators]

    def _setup(self, cfg: StyleConfig, resume: bool) -> None:
        main = self.dist.is_main
        with self.opened(resume):
            vocab = Vocab.load(self.run_dir / C.VOCAB_FILE) if resume or not main else None
            init_state = None
            if cfg.init_from and not resume:
                cfg, vocab, init_state = _init_from(cfg)
                self.cfg = cfg
            d = cfg.data
            self.corpus: StyleCorpus = load_style_corpus(
                d.data,
                normalize=d.normalize,
                lowercase=d.lowercase,
                max_len=d.max_len,
                min_freq=d.min_freq,
                max_train_sentences=d.max_train_sentences,
                vocab=vocab,
            )
            v, t = len(self.corpus.vocab), self.corpus.max_len
            self.model = StyleTransferModel(cfg.model, v, t).to(self.device)
            self.classifier = TextCNN(cfg.classifier, v).to(self.device)
            self.critics = torch.nn.ModuleList(CNNCritic(cfg.critic, v, t) for _ in range(2)).to(self.device)
            if init_state is not None:
                _load_init(cfg.init_from, init_state, self.model, self.classifier)
            elif self.model.style_mask:  # each style's words, from the training split (a resume reloads them)
                train = self.corpus.splits["train"]
                self.model.lexicon.copy_(style_lexicon(train.ids, train.labels, v, cfg.model.st_style_mask))
                about = []
                for name, row in zip(self.corpus.style_names, self.model.lexicon, strict=True):
                    first = self.corpus.vocab.decode(row.nonzero()[:, 0].tolist()[:8])  # the most frequent
                    about.append(f"{name} {int(row.sum())}" + (f" ({', '.join(first)}, ...)" if first else ""))
                log.info("--st-style-mask %g: style words: %s", cfg.model.st_style_mask, "; ".join(about))
                if self.model.mask_hint and not resume:  # (a resume reloads the table with the weights)
                    self.model.hint.copy_(_mask_hints(cfg.model, self.corpus.vocab, self.model))
        adv = cfg.adv
        self.models: dict[str, torch.nn.Module] = {
            "model": self.model,
            "classifier": self.classifier,
            "critics": self.critics,
        }
        self.optimizers: dict[str, torch.optim.Optimizer] = {
            "model_ae": torch.optim.Adam(self.model.parameters(), lr=cfg.train.ae_lr),
            "model_adv": torch.optim.Adam(self.model.parameters(), lr=adv.adv_lr),
            "classifier": torch.optim.Adam(self.classifier.parameters(), lr=cfg.train.ae_lr),
            "critics": torch.optim.Adam(self.critics.parameters(), lr=adv.critic_learning_rate),
        }
        self.anchor: StyleTransferModel | None = None
        if cfg.train.anchor_weight > 0:  # the decoder as the adversarial phase starts (set there), frozen
            self.anchor = StyleTransferModel(cfg.model, v, t).to(self.device).requires_grad_(False)
            self.models["anchor"] = self.anchor
        if adv.loss == "ppo" and adv.ratio == "discriminator":
            self.discriminators = torch.nn.ModuleList(CNNCritic(cfg.critic, v, t) for _ in range(2)).to(self.device)
            self.models["discriminators"] = self.discriminators
            self.optimizers["discriminators"] = torch.optim.Adam(
                self.discriminators.parameters(), lr=adv.critic_learning_rate
            )
        if cfg.compile:
            for critic in [*self.critics, *getattr(self, "discriminators", [])]:
                critic.use_compiler()
        self.data_rng = torch.Generator().manual_seed(cfg.seed)
        self.ae_step = self.adv_step = self.critic_updates = 0
        self.critic_warmed = False
        self._evaluator: tuple[TextCNN, Vocab] | None = None
        train = self.corpus.splits["train"]
        self.by_style = [train.ids[train.labels == s] for s in (0, 1)]
        meta = {"vocab_size": v, "max_len": t, "styles": list(self.corpus.style_names)}
        self.start(resume, self.corpus.vocab, meta)

    # -- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "ae_step": self.ae_step,
            "adv_step": self.adv_step,
            "critic_updates": self.critic_updates,
            "critic_warmed": self.critic_warmed,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.ae_step = int(state["ae_step"])
        self.adv_step = int(state["adv_step"])
        self.critic_updates = int(state.get("critic_updates", 0))
        self.critic_warmed = bool(state.get("critic_warmed", False))

    # -- batches ------------------------------------------------------------------------------
    def _batch(self, style: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random training batch (with replacement): ids (B, T) and styles (B,); this rank's
        share of it under torchrun (every rank draws the same global batch)."""
        b = self.cfg.train.batch_size
        if style is None:
            train = self.corpus.splits["train"]
            idx = D.shard(torch.randint(train.ids.shape[0], (b,), generator=self.data_rng))
            return train.ids[idx].to(self.device), train.labels[idx].to(self.device)
        pool = self.by_style[style]
        idx = D.shard(torch.randint(pool.shape[0], (b,), generator=self.data_rng))
        return pool[idx].to(self.device), torch.full((idx.numel(),), style, dtype=torch.long, device=self.device)

    def _noisy_encoding(self, ids: torch.Tensor, styles: torch.Tensor) -> Encoded:
        """Encoding of ids (B, T) of ``styles`` (B,) with ``--word-drop`` applied (the plain encoding when
        it is 0), their style words hidden under ``--st-style-mask``."""
        return self.m.encode(drop_words(ids, self.cfg.train.word_drop, self.data_rng), source=styles)

    def _classifier_step(self) -> float:
        ids, labels = self._batch()
        with self.amp():
            loss = F.cross_entropy(self.clf(ids=ids).float(), labels)
        C.optimizer_step(
            self.classifier, self.optimizers["classifier"], loss, self.cfg.train.grad_clip, "classifier", self.step
        )
        return float(D.reduce_stats({"clf_loss": loss.detach()})["clf_loss"])

    # -- phases ---------------------------------------------------------------------------------
    def pretrain(self) -> None:
        """Autoencoder pretraining (reconstruction with the original style) and the style classifier."""
        tc = self.cfg.train
        if self.ae_step >= tc.ae_steps:
            return
        bar = C.progress_bar(tc.ae_steps, "autoencoder", "step", self.cfg.progress, initial=self.ae_step)
        while self.ae_step < tc.ae_steps:
            ids, styles = self._batch()
            with self.amp():
                loss = self.m.reconstruction_loss(ids, styles, enc=self._noisy_encoding(ids, styles)).float()
            C.optimizer_step(self.model, self.optimizers["model_ae"], loss, tc.grad_clip, "reconstruction", self.step)
            clf = self._classifier_step()
            self.ae_step += 1
            self.step += 1
            bar.update(1)
            bar.set_postfix(rec=f"{loss.item():.3f}", clf=f"{clf:.3f}")
            if self.ae_step == tc.ae_steps:
                self.evaluate("ae", {"rec_loss": loss.item()})
                self.checkpoint()
            elif C.stop_now(self):
                self._stop()
        bar.close()

    def adversarial(self) -> None:
        """``adv_steps`` iterations of critic updates and a generator phase (module docstring)."""
        adv = self.cfg.adv
        if self.adv_step >= adv.adv_steps:
            return
        if self.anchor is not None and self.adv_step == 0:
            self.anchor.load_state_dict(self.model.state_dict())
        if self.adv_step == 0 and adv.critic_warmup and not self.critic_warmed:
            beta = beta_at(0, adv.adv_steps, adv.beta_max, adv.beta_schedule)
            C.warm_up_critic(self, lambda k: self._warmup_updates(k, beta), self.warmup_auc)
        bar = C.progress_bar(adv.adv_steps, "adversarial", "it", self.cfg.progress, initial=self.adv_step)
        while self.adv_step < adv.adv_steps:
            beta = beta_at(self.adv_step, adv.adv_steps, adv.beta_max, adv.beta_schedule)
            source = self.adv_step % 2
            target = 1 - source
            src, src_styles = self._batch(source)
            tgt_styles = torch.full_like(src_styles, target)
            stats = {}
            for _ in range(adv.n_critic if self.cfg.train.adv_weight > 0 else 0):  # weight 0: no critic at all
                stats.update(self._critic_step(src, tgt_styles, target, beta))
            stats.update(self._generator_phase(src, src_styles, tgt_styles, target, beta))
            stats["clf_loss"] = self._classifier_step()
            self.adv_step += 1
            self.step += 1
            bar.update(1)
            bar.set_postfix(g=f"{stats.get('g_loss', 0):.3f}", rec=f"{stats.get('rec_loss', 0):.3f}")
            if self.adv_step % adv.adv_eval_every == 0 or self.adv_step == adv.adv_steps:
                self.evaluate("adv", {"beta": beta, **stats})
                self.checkpoint()
            elif C.stop_now(self):
                self._stop()
        bar.close()

    def _warmup_updates(self, k: int, beta: float) -> Iterator[dict[str, float]]:
        """The next ``k`` critic updates of the warm-up, alternating the target style as the
        adversarial iterations do (a fresh source batch each)."""
        for _ in range(k):
            source = self.critic_updates % 2
            src, src_styles = self._batch(source)
            yield self._critic_step(src, torch.full_like(src_styles, 1 - source), 1 - source, beta)

    def _critic_fakes(self, src: torch.Tensor, tgt_styles: torch.Tensor, beta: float) -> torch.Tensor:
        """Transfers of ``src`` (B, T) into ``tgt_styles``, as the critic sees them: soft rows
        (B, T, V), or with ``--critic-input hard`` the sampled token ids (B, T). No gradient."""
        with torch.no_grad(), self.amp():
            enc = self.model.encode(src, source=self.model.source_of(tgt_styles))
            if self.cfg.adv.critic_input == "hard":
                return self.model.sample_ids(enc, tgt_styles)[0]
            _, _, fake = self.model.sample_soft(enc, tgt_styles, beta)
        return fake.float()

    def _critic_step(self, src: torch.Tensor, tgt_styles: torch.Tensor, target: int, beta: float) -> dict[str, float]:
        adv = self.cfg.adv
        critic = self.c[target]
        fake = self._critic_fakes(src, tgt_styles, beta)
        real, _ = self._batch(target)
        with self.amp():
            loss, stats = C.critic_objective(adv, critic, real, fake, self.critic_updates)
        self.critic_updates += 1
        C.optimizer_step(self.critics, self.optimizers["critics"], loss, self.cfg.train.grad_clip, "critic", self.step)
        return {k: float(v) for k, v in D.reduce_stats({"critic_loss": loss.detach(), **stats}).items()}

    def _generator_phase(
        self, src: torch.Tensor, src_styles: torch.Tensor, tgt_styles: torch.Tensor, target: int, beta: float
    ) -> dict[str, float]:
        adv, tc = self.cfg.adv, self.cfg.train
        critic = self.critics[target]
        critic.requires_grad_(False)
        self.classifier.requires_grad_(False)
        out: dict[str, float] = {}
        try:
            with torch.no_grad(), self.amp():  # y ~ p_theta_old(. | x, target), kept with its noise for the phase
                enc = self.model.encode(src, source=src_styles)
                ids, noise = self.model.sample_ids(enc, tgt_styles, keep_noise=True)
                old = self.model.relax(enc, tgt_styles, ids, noise, beta)
                anchor_logp = self._anchor_logp(src, tgt_styles, ids) if self.anchor is not None else None
            old_d = None
            for _ in range(adv.g_steps):
                with self.amp():  # the forward pass; the update below in fp32
                    enc = self.m.encode(src, source=src_styles)
                    cur = self.m.relax(enc, tgt_styles, ids, noise, beta)
                    # weight 0, the no-adversarial ablation: no critic, no ratio, no term
                    advantage = critic(soft=C.critic_rows(adv, cur)).float() if tc.adv_weight else None
                    if advantage is None:
                        adv_loss, stats = cur.soft.new_zeros(()).float(), {}
                    elif adv.loss == "ppo":
                        log_r = None  # the exact ratio, computed in C.clipped_ratio_loss
                        if adv.ratio == "discriminator":
                            disc = self.discriminators[target]
                            real, _ = self._batch(target)
                            d_loss, _ = L.discriminator_bce(
                                self.d[target](ids=real).float(), self.d[target](soft=cur.soft.detach()).float()
                            )
                            C.optimizer_step(
                                self.discriminators,
                                self.optimizers["discriminators"],
                                d_loss,
                                tc.grad_clip,
                                "discriminator",
                                self.step,
                            )
                            disc.requires_grad_(False)
                            if old_d is None:
                                with torch.no_grad():
                                    old_d = disc(soft=old.soft).float()
                            log_r = L.log_ratio_from_discriminator(disc(soft=cur.soft).float(), old_d)
                            disc.requires_grad_(True)
                        adv_loss, stats = C.clipped_ratio_loss(adv, advantage, cur, old, log_r)
                    else:
                        real_scores = (
                            critic(ids=self._batch(target)[0]).float() if adv.loss == "rsgan" else advantage.detach()
                        )
                        adv_loss, stats = L.generator_loss(adv.loss, real_scores, advantage)
                    cls_loss = F.cross_entropy(self.classifier(soft=cur.soft).float(), tgt_styles)
                    rec_enc = self._noisy_encoding(src, src_styles) if tc.word_drop > 0 else enc
                    rec_loss = self.m.reconstruction_loss(src, src_styles, enc=rec_enc)
                    loss = rec_loss + tc.style_weight * cls_loss + tc.adv_weight * adv_loss
                    if self.anchor is not None:
                        kl = self._anchor_kl(src, tgt_styles, cur, anchor_logp)
                        loss = loss + tc.anchor_weight * kl
                        out["anchor_kl"] = kl.item()
                    if tc.cycle_weight > 0:
                        back = self.m(self.m.encode(soft=cur.soft, source=tgt_styles), src_styles, src)
                        cyc = F.cross_entropy(back.reshape(-1, back.shape[-1]), src.reshape(-1), ignore_index=0)
                        loss = loss + tc.cycle_weight * cyc
                        out["cycle_loss"] = cyc.item()
                C.optimizer_step(self.model, self.optimizers["model_adv"], loss, tc.grad_clip, "generator", self.step)
                logged = {"g_loss": loss, "adv_loss": adv_loss, "style_loss": cls_loss, "rec_loss": rec_loss}
                logged = {k: v.detach() for k, v in logged.items()}
                out.update({k: float(v) for k, v in D.reduce_stats({**logged, **stats}).items()})
        finally:
            critic.requires_grad_(True)
            self.classifier.requires_grad_(True)
        return out

    @torch.no_grad()
    def _anchor_logp(self, src: torch.Tensor, tgt_styles: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """The anchor's next-token log-probabilities (N, V) at the alive positions of transfers ids
        (B, T), teacher-forced; fixed for a generator phase, whose transfers are fixed."""
        assert self.anchor is not None
        enc = self.anchor.encode(src, source=self.anchor.source_of(tgt_styles))
        ref = self.anchor._alive_logits(enc, tgt_styles, ids, alive_mask(ids))
        return F.log_softmax(ref, dim=-1)

    def _anchor_kl(
        self, src: torch.Tensor, tgt_styles: torch.Tensor, cur: Any, anchor_logp: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean over the transfers' alive tokens of KL(p_theta || p_anchor) of the next-token
        distributions, teacher-forced on the transfer ``cur.ids`` (differentiable in theta);
        ``anchor_logp`` is ``_anchor_logp`` of the same transfers, computed here when not given."""
        if anchor_logp is None:
            anchor_logp = self._anchor_logp(src, tgt_styles, cur.ids)
        logp = F.log_softmax(cur.logits[alive_mask(cur.ids)], dim=-1)  # (N, V)
        return F.kl_div(anchor_logp, logp, log_target=True, reduction="batchmean")

    # -- evaluation -----------------------------------------------------------------------------------
    @torch.no_grad()
    def critic_auc(self, pools: list[torch.Tensor], n: int, seed: int) -> float:
        """Mean over the two target styles t of critic t's ROC AUC between up to ``n`` real
        sentences of style t (``pools[t]``, ids) and the model's sampled transfers of as many
        sentences of the other style into t (0.5: the critic cannot tell them apart). Own random
        streams (``seed``): the training streams do not move. Rank 0's view."""
        from textgan.metrics.temperature import judge_auc

        was = (self.model.training, self.critics.training)
        self.model.eval()
        self.critics.eval()
        try:
            aucs = []
            for t in (0, 1):
                rng = torch.Generator().manual_seed(seed + t)
                real, src = (p[torch.randperm(p.shape[0], generator=rng)[:n]] for p in (pools[t], pools[1 - t]))
                g = torch.Generator(device=self.device).manual_seed(seed + 2 + t)
                styles = torch.full((src.shape[0],), t, dtype=torch.long, device=self.device)
                enc = self.model.encode(src.to(self.device), source=self.model.source_of(styles))
                fake, _ = self.model.sample_ids(enc, styles, generator=g)
                critic = self.critics[t]
                aucs.append(judge_auc(lambda x, c=critic: c(ids=x.to(self.device)).float(), real, fake.cpu()))
        finally:
            self.model.train(was[0])
            self.critics.train(was[1])
        return sum(aucs) / 2

    def warmup_auc(self) -> float:
        """The critics' AUC (``critic_auc``) on ``C.WARMUP_AUC_ROWS`` training sentences of each style."""
        return self.critic_auc(self.by_style, C.WARMUP_AUC_ROWS, self.cfg.seed + 104_729 + self.critic_updates)

    def test_critic_auc(self) -> float:
        """The critics' AUC (``critic_auc``) on the test split (``--eval-sentences`` of each style,
        0: all), as every adversarial evaluation logs it (``critic_auc``)."""
        split = self.corpus.splits["test"]
        pools = [split.ids[split.labels == s] for s in (0, 1)]
        n = self.cfg.train.eval_sentences or max(p.shape[0] for p in pools)
        return self.critic_auc(pools, n, self.cfg.seed + 7_919)

    def evaluate(self, phase: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Transfer the test split (greedy), score it, write transfers and one metrics record
        (rank 0 only; {} elsewhere)."""
        if not self.dist.is_main:
            return {}
        t0 = time.time()
        test = self.corpus.splits["test"]
        n = self.cfg.train.eval_sentences
        sources, targets, refs = [], [], []
        for s in (0, 1):
            lines = [x for x, lab in zip(test.texts, test.labels.tolist(), strict=True) if lab == s]
            lines = lines[:n] if n else lines
            sources += lines
            targets += [1 - s] * len(lines)
            refs += self.corpus.references[s][: len(lines)]
        # in fp32 whatever --precision: reported numbers do not depend on it
        outputs = transfer_sentences(self.model, self.corpus.vocab, self.corpus.tokenizer, sources, targets)
        clf_acc = style_accuracy(self.classifier, self.corpus.vocab, outputs, targets)
        accuracy = clf_acc
        if self.cfg.eval_classifier:
            if self._evaluator is None:  # read once, on the first evaluation
                self._evaluator = load_classifier(self.cfg.eval_classifier, str(self.device))[:2]
            evaluator, ev_vocab = self._evaluator
            accuracy = style_accuracy(evaluator, ev_vocab, outputs, targets)
        metrics = style_metrics(outputs, sources, refs, accuracy)
        if phase == "adv" and self.cfg.train.adv_weight:  # can the critics tell the transfers from real text?
            metrics["critic_auc"] = self.test_critic_auc()
        record = {
            "step": self.step,
            "phase": phase,
            "ae_step": self.ae_step,
            "adv_step": self.adv_step,
            **(extra or {}),
            **metrics,
            "accuracy_own_classifier": 100.0 * clf_acc,
            "accuracy_source": "evaluator" if self.cfg.eval_classifier else "own classifier",
            "eval_seconds": round(time.time() - t0, 3),
        }
        self.metrics.log(record)
        lines = [f"{s}\t{t}\t{o}" for s, t, o in zip(sources, targets, outputs, strict=True)]
        C.atomic_write_bytes(
            self.run_dir / C.SAMPLES_DIR / f"step-{self.step:06d}.tsv", ("\n".join(lines) + "\n").encode()
        )
        log.info(
            "[%s step %d] acc %.1f%% (%s) bleu_src %.2f bleu_ref %s gm %.2f%s",
            phase,
            self.adv_step if phase == "adv" else self.ae_step,
            metrics["accuracy"],
            record["accuracy_source"],
            metrics["bleu_src"],
            f"{metrics['bleu_ref']:.2f}" if metrics.get("bleu_ref") is not None else "-",
            metrics["gm"],
            f" critic_auc {metrics['critic_auc']:.3f}" if "critic_auc" in metrics else "",
        )
        return record

    def run(self) -> dict[str, Any]:
        """Both phases (SIGINT/SIGTERM: checkpoint after the current step, then stop)."""
        with C.stop_on_signals(self):
            self.pretrain()
            self.adversarial()
            self.checkpoint()
        return self.last_record()


def train_style(cfg: StyleConfig, resume: bool = False) -> dict[str, Any]:
    """Train a style-transfer model; returns the final metrics record ({} on the ranks other
    than 0 under torchrun)."""
    try:
        trainer = StyleTrainer(cfg, resume)
        record = trainer.run()
        return {**record, "run_dir": str(trainer.run_dir)} if record else record
    finally:
        D.teardown()


def _load_init(source: str, state: dict[str, dict[str, torch.Tensor]], model: Any, classifier: Any) -> None:
    """The ``--init-from`` weights into the new model and classifier.

    Raises:
        UserError: weights that do not fit (missing or unexpected names, other shapes).
    """
    for module, key in ((model, "model"), (classifier, "classifier")):
        try:
            missing, unexpected = module.load_state_dict(state[key], strict=False)
            problem = "; ".join(
                f"{what} {', '.join(names[:3])}"
                for what, names in (("missing", missing), ("unexpected", unexpected))
                if names
            )
        except RuntimeError as err:  # shapes that do not match
            problem = " ".join(str(err).split())[:160]
        if problem:
            raise UserError(f"--init-from {source}: {key} weights do not fit this textgan's model ({problem})")


def _mask_hints(cfg: StyleModelConfig, vocab: Vocab, model: StyleTransferModel) -> torch.Tensor:
    """The ``--st-mask-hint`` table of ``model`` (its lexicon set) from the output embeddings of the
    word-level LM run ``cfg.st_mask_hint``, its words matched to ``vocab`` by spelling, in
    ``cfg.st_mask_hint_clusters`` clusters."""
    lm_run, clusters = cfg.st_mask_hint, cfg.st_mask_hint_clusters
    try:
        gen, lm_vocab, _, lm_cfg = load_lm_run(lm_run)
    except UserError as err:
        raise UserError(f"--st-mask-hint: {err}") from None
    out = getattr(gen, "out", None)
    if lm_cfg.data.tokenizer in ("spm", "hf") or not isinstance(out, torch.nn.Linear):
        raise UserError(
            f"--st-mask-hint {lm_run}: needs a word-level LM run with an output layer per word "
            "(textgan train lm --generator lstm or rmc, --tokenizer space or nltk)"
        )
    weight = out.weight.detach().float().cpu()  # (V_lm, D)
    index = torch.tensor([lm_vocab.stoi.get(w, -1) for w in vocab.itos])  # (V,)
    known = index >= 0
    vectors = torch.zeros(len(vocab), weight.shape[1])
    vectors[known] = weight[index[known]]
    lexicon = model.lexicon.cpu()
    table = mask_hint_table(vectors, known, lexicon, model.hint.shape[1], clusters)
    words = lexicon.any(dim=0)
    log.info(
        "--st-mask-hint %s: %d of %d style words have a hint (the rest read the mask alone), %s",
        lm_run,
        int((words & known).sum()),
        int(words.sum()),
        f"in {int(table[words & known].unique(dim=0).shape[0])} clusters" if clusters else "one per word",
    )
    return table.to(model.hint.device)


def _init_from(cfg: StyleConfig) -> tuple[StyleConfig, Vocab, dict[str, dict[str, torch.Tensor]]]:
    """Model and classifier weights, sizes and vocabulary of a trained style run; no AE phase."""

    from safetensors.torch import load_file

    run = Path(cfg.init_from)
    meta, src, vocab = C.read_run_files(run, TASK, StyleConfig, "style-transfer")
    state = {}
    for key, name in (("model", MODEL_WEIGHTS), ("classifier", CLASSIFIER_WEIGHTS)):
        if not (run / name).is_file():
            raise UserError(f"--init-from {run}: no {name} (the run has not finished a phase yet)")
        try:
            state[key] = load_file(str(run / name))
        except Exception as err:  # noqa: BLE001 - any unreadable file is a user error here
            raise UserError(f"--init-from {run / name}: unreadable weights ({err})") from None
    data = dataclasses.replace(
        cfg.data, max_len=int(meta["max_len"]), normalize=src.data.normalize, lowercase=src.data.lowercase
    )
    train = dataclasses.replace(cfg.train, ae_steps=0)
    log.info("initialising from %s (vocab %d, max_len %d; no autoencoder phase)", run, len(vocab), meta["max_len"])
    return dataclasses.replace(cfg, model=src.model, classifier=src.classifier, data=data, train=train), vocab, state
