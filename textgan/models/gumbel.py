"""Gumbel-softmax, the only place it is implemented, and beta annealing.

For logits ``o_t`` and Gumbel noise ``g_t`` the hard token is ``argmax(o_t + g_t)``
(an exact sample from ``softmax(o_t)``) and the soft token is
``softmax(beta * (o_t + g_t))`` with inverse temperature ``beta`` (PAPER.md,
"Players"). Shapes: B batch, T tokens, V vocabulary.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def gumbel_noise(
    shape: tuple[int, ...],
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log(U))``, ``U ~ Uniform(0, 1)``, of the given shape.

    (``-log U`` is Exp(1); on CPU, uniform draws and two in-place logs are about twice
    as fast as ``exponential_``.) ``U`` is kept above the smallest normal float, so the
    noise is finite.
    """
    u = torch.rand(shape, device=device, dtype=dtype, generator=generator)
    return u.clamp_(min=torch.finfo(dtype).tiny).log_().neg_().log_().neg_()


def gumbel_softmax(logits: torch.Tensor, noise: torch.Tensor, beta: float, hard: bool = False) -> torch.Tensor:
    """Soft one-hot rows ``softmax(beta * (logits + noise))``.

    Args:
        logits: (..., V) unnormalised scores ``o_t``.
        noise: (..., V) Gumbel noise ``g_t`` (the same noise that chose the hard token).
        beta: inverse temperature (>= 1 in RelGAN's schedules; larger is closer to one-hot).
        hard: straight-through: return the hard one-hot rows in the forward pass with
            the soft rows' gradient.

    Returns:
        (..., V) rows that sum to 1.
    """
    soft = F.softmax(beta * (logits + noise), dim=-1)
    if not hard:
        return soft
    index = (logits + noise).argmax(dim=-1, keepdim=True)
    one_hot = torch.zeros_like(soft).scatter_(-1, index, 1.0)
    return one_hot + soft - soft.detach()


def hard_tokens(logits: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """``argmax(logits + noise)``: LongTensor (...,), a sample from ``softmax(logits)``."""
    return (logits + noise).argmax(dim=-1)


BETA_SCHEDULES = ("exp", "lin", "none")


def beta_at(step: int, total: int, beta_max: float, schedule: str = "exp") -> float:
    """Inverse temperature after ``step`` of ``total`` adversarial steps (RelGAN's schedules).

    ``exp``: ``beta_max ** (step / total)``; ``lin``: ``1 + (beta_max - 1) * step / total``;
    ``none``: constant ``beta_max``. Both annealed schedules start at 1 and reach
    ``beta_max`` at ``step == total``.
    """
    if schedule == "none":
        return float(beta_max)
    frac = min(max(step / total, 0.0), 1.0) if total > 0 else 1.0
    if schedule == "exp":
        return float(math.pow(beta_max, frac))
    if schedule == "lin":
        return float(1.0 + (beta_max - 1.0) * frac)
    raise ValueError(f"--beta-schedule: unknown schedule {schedule!r} (use {', '.join(BETA_SCHEDULES)})")
