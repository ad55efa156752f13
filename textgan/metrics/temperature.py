"""The quality-diversity frontier of a language model under a temperature sweep.

A single sampling temperature proves little: dividing the logits by T < 1 raises
sample quality (BLEU, NLL_oracle) and lowers diversity (self-BLEU up, NLL_test up).
Caccia et al. ("Language GANs Falling Short", ICLR 2020) therefore compare models by
the whole curve a sweep of T traces. Each point here is one temperature:

- quality: BLEU-n of samples against the whole test split; on synthetic data, the
  oracle's per-token NLL of the samples (``nll_oracle``, lower is better);
- diversity: self-BLEU-n of the samples (lower is more diverse); ``nll_test``, the
  per-token NLL of the test split under the tempered model ``softmax(logits / T)``
  (lower means the model covers the data better).

Every temperature reuses the same sampling seed (common random numbers), so the
curve is smooth in T rather than noisy from point to point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from textgan.metrics.ngrams import bleu, self_bleu
from textgan.metrics.nll import nll_gen, nll_oracle
from textgan.models.generators import Generator, generate_ids

DEFAULT_TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1)


def parse_temperatures(text: str) -> tuple[float, ...]:
    """``"0.7,0.8,1"`` -> ``(0.7, 0.8, 1.0)``; raises ValueError unless every T is a number > 0."""
    try:
        temps = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--temperatures: expected comma-separated numbers, got {text!r}") from None
    check_temperatures(temps)
    return temps


def check_temperatures(temps: Sequence[float]) -> None:
    """Raises ValueError unless there is at least one temperature and every one is finite and > 0."""
    if not temps or not all(math.isfinite(t) and t > 0 for t in temps):
        raise ValueError("--temperatures: every temperature must be > 0 (and finite)")


def frontier(
    generator: Generator,
    corpus: Any,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    samples_per_point: int = 1000,
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 4, 5),
    batch_size: int = 500,
    **sampler: Any,
) -> list[dict[str, float]]:
    """Quality and diversity of ``generator`` at each temperature: the list of
    :func:`frontier_points` (see there for ``sampler`` options and the keys of a point)."""
    return list(frontier_points(generator, corpus, temperatures, samples_per_point, seed, ns, batch_size, **sampler))


@torch.no_grad()
def frontier_points(
    generator: Generator,
    corpus: Any,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    samples_per_point: int = 1000,
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 4, 5),
    batch_size: int = 500,
    *,
    scorer: Callable[[torch.Tensor], torch.Tensor] | None = None,
    resample: int | None = None,
    alphas: Sequence[float] = (1.0,),
    reverse_lm: Any = None,
    quality_lm: Any = None,
    judges: dict[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
) -> Iterator[dict[str, float]]:
    """Quality and diversity of ``generator`` at each temperature (and, with ``resample``, of the
    resampled sampler q ∝ p_T · exp(A · s) at each temperature and A), one point at a time.

    Args:
        generator: a trained textgan generator.
        corpus: the run's ``Corpus`` (``test`` ids, ``test_words``, ``oracle`` or None).
        temperatures: the sweep, each > 0.
        samples_per_point: N sentences sampled per point.
        seed: sampling seed, the same for every point.
        ns: BLEU orders.
        batch_size: sentences per sampling batch.
        scorer: ids (B, T) -> scores (B,), the s of resampling (with ``resample``).
        resample: M proposals per sentence (``textgan.sampling.resample_ids``); None: plain sampling.
        alphas: the A of each resampled point (every temperature, every A).
        reverse_lm: a ``metrics.reverse_lm.ReverseLM``: also report ``reverse_nll``, the NLL of
            the test split under a fresh LM of that spec trained on the point's samples.
        quality_lm: ``(generator, vocab, tokenizer)`` of an LM trained on the real training split:
            also report ``lm_nll``, the samples' per-token NLL under it (quality on real data).
        judges: named scores (e.g. ``{"critic": f, "d": D}``): also report ``<name>_auc``, the ROC
            AUC of each between the test split and the point's samples (0.5: no signal).

    Yields:
        One dict per point: ``temperature``, ``samples``, ``nll_test`` (the tempered model's,
        or with resampling q's in the M → ∞ limit, with ``log_z`` and ``log_z_se``),
        ``nll_oracle`` (synthetic data only), ``bleu{n}``, ``self_bleu{n}``, ``seconds``; with
        resampling also ``resample``, ``alpha`` and ``ess`` (effective sample size / M); and
        ``reverse_nll``, ``lm_nll`` when asked for.
    """
    from textgan.sampling import q_nll, resample_ids

    device = generator.banned.device
    was_training = generator.training
    generator.eval()  # also for nll_gen, which restores the mode it finds
    grid = (
        [(float(t), None) for t in temperatures]
        if resample is None
        else [(float(t), float(a)) for t in temperatures for a in alphas]
    )
    proposals: dict = {}  # one draw of proposals per temperature, shared by every A
    for temp, alpha in grid:
        t0 = time.time()
        rng = torch.Generator(device=device).manual_seed(seed)
        point: dict[str, float] = {"temperature": temp, "samples": samples_per_point}
        if alpha is None:
            ids = generate_ids(generator, samples_per_point, rng, batch_size, temperature=temp)
            point["nll_test"] = nll_gen(generator, corpus.test, temperature=temp)
        else:
            if scorer is None:
                raise ValueError("frontier: resample needs a scorer")
            res = resample_ids(
                generator, scorer, samples_per_point, int(resample), alpha, temp, rng, batch_size, proposals
            )
            ids = res.ids
            point.update(resample=int(resample), alpha=alpha, ess=round(res.ess, 5))
            point["nll_test"] = q_nll(generator, scorer, corpus.test, alpha, res.log_z, temp)
            point.update(log_z=res.log_z, log_z_se=res.log_z_se)
        if corpus.oracle is not None:
            point["nll_oracle"] = nll_oracle(corpus.oracle, corpus.to_oracle_ids(ids))
        texts = corpus.detokenize(ids)
        words = [t.split() for t in texts]
        point.update(bleu(words, corpus.test_words, tuple(ns)))
        point.update(self_bleu(words, tuple(ns)))
        for name, judge in (judges or {}).items():
            point[f"{name}_auc"] = judge_auc(judge, corpus.test, ids)
        if quality_lm is not None:
            lm, lm_vocab, lm_tok = quality_lm
            point["lm_nll"] = nll_gen(
                lm, [t if t.strip() else "<unk>" for t in texts], vocab=lm_vocab, tokenizer=lm_tok
            )
        if reverse_lm is not None:
            from textgan.metrics.reverse_lm import reverse_lm_nll

            point["reverse_nll"] = reverse_lm_nll(
                ids, corpus.test, generator.vocab_size, generator.max_len, corpus.banned_ids, reverse_lm
            )
        point["seconds"] = round(time.time() - t0, 3)
        yield point
    generator.train(was_training)


def judge_auc(judge: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor) -> float:
    """ROC AUC of a score between real ids (N, T) and generated ids (M, T) (see ``metrics.auc``)."""
    from textgan.metrics.auc import roc_auc
    from textgan.sampling import score_ids

    return roc_auc(score_ids(judge, real), score_ids(judge, fake))


def value_at(points: Sequence[dict[str, float]], x_key: str, x: float, y_key: str) -> float | None:
    """``y_key`` at the point of the curve where ``x_key`` equals ``x`` (linear interpolation).

    The points are sorted by ``x_key``; between two neighbours that bracket ``x`` the
    value is interpolated linearly. Returns None when ``x`` lies outside the swept range.
    """
    pts = sorted((p[x_key], p[y_key]) for p in points if x_key in p and y_key in p)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    if pts and pts[0][0] == x:
        return pts[0][1]
    return None


def evaluate_frontier(
    run_dir: str | Path,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    samples_per_point: int = 1000,
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 4, 5),
    *,
    data: str | None = None,
    device: str = "cpu",
    resample: int | None = None,
    alphas: Sequence[float] = (1.0,),
    resample_with: str = "ratio",
    ratio_dir: str | Path | Sequence[str | Path] | None = None,
    reverse_lm: bool = False,
    lm: str | Path | None = None,
) -> Iterator[dict[str, float]]:
    """The frontier of a finished ``train lm`` run (``textgan eval lm --run RUN --temperatures``),
    one point at a time: the run's generator on its own test split, with the judges it has
    (``critic_auc``, ``d_auc``). The arguments are checked and the models loaded when this is
    called; the points are computed as the iterator is read.

    Args:
        run_dir: the run directory.
        temperatures: the sweep, each a finite T > 0.
        samples_per_point: N >= 2 sentences per point.
        seed: sampling seed, the same for every point (and the reverse LM's).
        ns: BLEU orders.
        data: the run's corpus directory, if it moved since training.
        device: ``cpu``, ``cuda``, ``cuda:i`` or ``auto``.
        resample: M proposals per sentence: every point is then sampled from q ∝ p_T · exp(A · s)
            (one point per temperature and A in ``alphas``); None: plain tempered sampling.
        alphas: the A of the resampled points, each finite and >= 0.
        resample_with: the score s: ``ratio`` (D's logit, after ``textgan train ratio``) or
            ``critic`` (the run's critic f).
        ratio_dir: where ``train ratio --run-dir`` wrote D (default: the run); several directories
            (a sequence, or comma-separated): an ensemble scoring by the mean of their Ds' logits.
        reverse_lm: also report ``reverse_nll`` (``metrics.reverse_lm``).
        lm: an LM run trained on the real training split: also report ``lm_nll``.

    Returns:
        An iterator over the points of :func:`frontier_points`.

    Raises:
        UserError: bad arguments (before anything is loaded), a run that does not load, or its
            data that do not (naming ``--data``).
    """
    import dataclasses

    from textgan.data.corpus import load_corpus
    from textgan.metrics.reverse_lm import ReverseLM
    from textgan.runs import load_lm_run, load_scorer, run_judges, warn_temperature
    from textgan.sampling import check_resample
    from textgan.utils import UserError, resolve_device

    temps = tuple(float(t) for t in temperatures)
    try:
        check_temperatures(temps)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if samples_per_point < 2:
        raise UserError("--samples-per-point: must be >= 2")
    for alpha in alphas:
        try:
            check_resample(1 if resample is None else resample, alpha)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    dev = str(resolve_device(device))
    gen, vocab, _, cfg = load_lm_run(run_dir, dev)
    data_cfg = dataclasses.replace(cfg.data, data=data) if data else cfg.data
    try:
        corpus = load_corpus(data_cfg, Path(run_dir), vocab)
    except UserError as exc:
        raise UserError(f"{exc} (the run's data; pass --data DIR if it moved)") from None
    sampler: dict[str, Any] = {"judges": run_judges(run_dir, gen, cfg, ratio_dir)}
    if resample is not None:
        scorer = load_scorer(run_dir, gen, cfg, resample_with, ratio_dir)
        warn_temperature(scorer, temps)
        sampler.update(scorer=scorer, resample=resample, alphas=tuple(alphas))
    if reverse_lm:
        sampler["reverse_lm"] = ReverseLM(seed=seed)
    if lm:
        lm_gen, lm_vocab, lm_tok, _ = load_lm_run(lm, dev)
        sampler["quality_lm"] = (lm_gen, lm_vocab, lm_tok)
    return frontier_points(gen, corpus, temps, samples_per_point, seed, ns, **sampler)
