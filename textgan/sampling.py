"""Sampling from the paper's E-step distribution q(x) ∝ p_θ(x) · exp(A · s(x)).

PAPER.md ("Why") shows that the optimal q of the E-step reweights the generator by the critic:
``q ∝ p_θ · exp(f)``. The critic's sample reweighting already estimates expectations under q by
self-normalised importance sampling; this module *samples* from q with sampling-importance-
resampling (SIR): for each output draw M proposals from p_θ (at temperature T), and keep one
with probability ∝ exp(A · s(x)). ``s`` is any sentence score: the critic f, or the logit of a
ratio discriminator D trained on real vs generated text (``textgan train ratio``), whose
optimum is log p_data(x) / p_T'(x) for the temperature T' it was fitted at, so that with proposals
at T' A = 1 targets p_data within p_θ's support.

As M → ∞ the SIR output is distributed as q exactly, and q has a likelihood that the test split
can be scored under: ``log q(x) = log p_T(x) + A · s(x) − log Z``, with ``Z = E_{p_T}[exp(A s)]``
estimated from the proposals (``log_mean_exp`` returns the estimate and its standard error).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from textgan.models.generators import Generator, alive_mask, generate_ids

Scorer = Callable[[torch.Tensor], torch.Tensor]  # ids (B, T) -> scores (B,), higher = more real


@dataclass
class Resampled:
    """The output of :func:`resample_ids`.

    Attributes:
        ids: LongTensor (n, T): the chosen sentences.
        proposal_scores: (n, M) scores of all proposals (row i: the proposals of output i);
            zeros (n, 1) for plain sampling, which scores nothing.
        ess: mean effective sample size per output as a fraction of M (1: uniform weights,
            1 / M: one proposal takes all the weight).
        log_z: log Ẑ, the log of the mean of exp(A · s) over all n · M proposals.
        log_z_se: its Monte Carlo standard error (delta method).
    """

    ids: torch.Tensor
    proposal_scores: torch.Tensor
    ess: float
    log_z: float
    log_z_se: float


def check_resample(resample: int, alpha: float) -> None:
    """Refuse an M < 1 or a negative or non-finite A (ValueError naming the flag)."""
    if isinstance(resample, bool) or not isinstance(resample, int) or resample < 1:
        raise ValueError(f"--resample: proposals per sentence must be an integer >= 1, got {resample!r}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"--alpha: must be a finite number >= 0, got {alpha!r}")


def log_mean_exp(values: torch.Tensor) -> tuple[float, float]:
    """``log mean exp(values)`` computed stably, and its standard error by the delta method:
    ``se(log Ẑ) = sd(w) / (sqrt(N) · mean(w))`` with ``w = exp(values)`` (scale-free, so the
    shift by the maximum cancels)."""
    v = values.double().flatten()
    if v.numel() == 0:
        raise ValueError("log_mean_exp: no values")
    top = v.max()
    w = torch.exp(v - top)
    mean = w.mean()
    log_z = float(top + mean.log())
    se = float(w.std(unbiased=True) / (math.sqrt(v.numel()) * mean)) if v.numel() > 1 else float("nan")
    return log_z, se


@torch.no_grad()
def score_ids(scorer: Scorer, ids: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """``scorer`` over ``ids`` (N, T) in batches: float32 scores (N,) on the CPU."""
    out = [scorer(ids[i : i + batch_size]).float().cpu() for i in range(0, ids.shape[0], batch_size)]
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def resample_ids(
    generator: Generator,
    scorer: Scorer,
    n: int,
    resample: int,
    alpha: float = 1.0,
    temperature: float = 1.0,
    rng: torch.Generator | None = None,
    batch_size: int = 500,
    cache: dict | None = None,
) -> Resampled:
    """``n`` sentences from q ∝ p_T · exp(alpha · s) by sampling-importance-resampling.

    Draws ``n · resample`` proposals from ``softmax(logits / temperature)`` in batches, scores
    them once, and keeps one proposal per output. ``alpha = 0`` (q = p_T) and ``resample = 1``
    are plain sampling: the sentences ``generate_ids`` draws with the same ``rng``, with no scoring.

    Args:
        generator: the proposal model p_θ.
        scorer: ids (B, T) -> scores (B,), e.g. a critic or a ratio discriminator's logit.
        n: sentences to return.
        resample: M, proposals per sentence.
        alpha: A >= 0, the weight of the score.
        temperature: T of the proposals.
        rng: the ``torch.Generator`` of the proposals and of the choice (on the generator's device).
        batch_size: sentences per sampling batch.
        cache: a dict kept across calls that draw the same proposals (same ``n``, ``resample``,
            ``temperature`` and a fresh ``rng`` of the same seed, e.g. a sweep of ``alpha``): the
            proposals and their scores are drawn once; the results equal uncached calls.
    """
    check_resample(resample, alpha)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    device = generator.banned.device
    rng = rng if rng is not None else torch.Generator(device=device).manual_seed(0)
    if alpha == 0 or resample == 1:  # q = p_T: exactly plain sampling (the same sentences for the same rng)
        ids = generate_ids(generator, n, rng, batch_size, temperature)
        return Resampled(ids, torch.zeros(n, 1), 1.0, 0.0, 0.0)
    key = (n, resample, float(temperature), rng.initial_seed(), batch_size, id(scorer))
    if cache is not None and key in cache:
        proposals, scores, choice_seed = cache[key]
    else:
        proposals = generate_ids(generator, n * resample, rng, batch_size, temperature)  # (n*M, T) on the CPU
        scores = score_ids(scorer, proposals.to(device), max(batch_size, 1000)).view(n, resample)
        choice_seed = int(torch.randint(2**62, (1,), generator=rng, device=device))
        if cache is not None:
            cache[key] = (proposals, scores, choice_seed)
    w = torch.softmax(alpha * scores.double(), dim=1)  # (n, M): each output's choice probabilities
    pick = torch.multinomial(w, 1, generator=torch.Generator().manual_seed(choice_seed))[:, 0]
    ids = proposals.view(n, resample, -1)[torch.arange(n), pick]
    ess = float((1.0 / (w**2).sum(dim=1)).mean() / resample)
    log_z, log_z_se = log_mean_exp(alpha * scores)
    return Resampled(ids, scores, ess, log_z, log_z_se)


@torch.no_grad()
def q_nll(
    generator: Generator,
    scorer: Scorer,
    test_ids: torch.Tensor,
    alpha: float,
    log_z: float,
    temperature: float = 1.0,
    batch_size: int = 256,
) -> float:
    """Per-token NLL of ``test_ids`` (N, T) under q = p_T · exp(alpha · s) / Z, the M → ∞ limit of
    SIR: ``(sum_x [-log p_T(x) - alpha · s(x)] + N · log Ẑ) / tokens`` (tokens: real tokens plus
    the closing ``<eos>``, as NLL_gen counts them)."""
    device = generator.banned.device
    was = generator.training
    generator.eval()
    total, tokens = 0.0, 0
    for start in range(0, test_ids.shape[0], batch_size):
        batch = test_ids[start : start + batch_size].to(device)
        total -= float(generator.log_prob(batch, temperature).double().sum())
        total -= alpha * float(scorer(batch).double().sum())
        tokens += int(alive_mask(batch).sum())
    generator.train(was)
    return (total + test_ids.shape[0] * log_z) / max(tokens, 1)
