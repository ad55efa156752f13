"""Every training objective as a pure function returning ``(loss, stats)``.

Conventions: critic / discriminator scores are raw (higher = more real); every
``loss`` is a scalar to minimise; ``stats`` holds detached 0-d tensors for logging.
Ratios live in log space (``log_ratio (B,)``). Sections refer to ``PAPER.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

# The modes of the generator's surrogate (config.py holds the same tuples for its flag checks;
# tests/test_config.py keeps them equal): losses.py imports nothing of the project.
ADVANTAGES = ("raw", "centered", "normalized")
CLIP_RULES = ("paper", "ppo")

Stats = dict[str, torch.Tensor]


def reweighting_weights(fake_scores: torch.Tensor, batch_scores: torch.Tensor | None = None) -> torch.Tensor:
    """Sample-reweighting importance weights ``w = B * softmax(f(x))`` (PAPER.md, "Critic step").

    Args:
        fake_scores: (B,) critic scores of generated samples.
        batch_scores: (N,) scores of the whole batch that ``fake_scores`` is a part of (under
            torchrun, every rank's scores): the softmax and ``B = N`` are over it. Default: ``fake_scores``.

    Returns:
        (B,) weights, ``>= 0`` with mean 1 over the whole batch, detached (computed without gradient).
    """
    with torch.no_grad():
        f = fake_scores.detach().float()
        if batch_scores is None:
            return (f.shape[0] * torch.softmax(f, dim=0)).to(fake_scores.dtype)
        every = batch_scores.detach().float()
        return (every.shape[0] * torch.exp(f - torch.logsumexp(every, dim=0))).to(fake_scores.dtype)


def critic_loss(
    real_scores: torch.Tensor,
    fake_scores: torch.Tensor,
    reweight: bool = True,
    batch_scores: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Stats]:
    """Wasserstein critic loss, with sample reweighting by default (PAPER.md, "Critic step").

    ``L_f = mean(w * f(fake)) - mean(f(real))``, ``w = B * softmax(f(fake))`` held
    constant; ``reweight=False`` gives plain WGAN (``w = 1``).

    Args:
        real_scores: (B,) scores of real text.
        fake_scores: (B,) scores of generated text.
        reweight: use the importance weights.
        batch_scores: (N,) fake scores of the global batch (see :func:`reweighting_weights`).

    Returns:
        Scalar loss (mean reduction) and stats ``critic_gap``, ``max_weight``.
    """
    weights = reweighting_weights(fake_scores, batch_scores) if reweight else torch.ones_like(fake_scores)
    loss = (weights * fake_scores).mean() - real_scores.mean()
    gap = (real_scores.mean() - fake_scores.mean()).detach()
    return loss, {"critic_gap": gap, "max_weight": weights.max().detach()}


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real_rows: torch.Tensor,
    fake_rows: torch.Tensor,
    alpha: torch.Tensor,
) -> tuple[torch.Tensor, Stats]:
    """WGAN-GP penalty ``mean((||grad f(x_hat)||_2 - 1)^2)`` on interpolates (PAPER.md, "Players").

    Args:
        critic: maps rows (B, T, V) to scores (B,).
        real_rows: (B, T, V) one-hot rows of real text.
        fake_rows: (B, T, V) soft rows of generated text.
        alpha: (B,) interpolation coefficients in [0, 1] (drawn by the caller).

    Returns:
        The penalty (multiply by the GP weight) and stats ``gp``, ``grad_norm``.
    """
    a = alpha.view(-1, *([1] * (real_rows.dim() - 1)))
    x_hat = (a * real_rows + (1 - a) * fake_rows.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(dim=1)  # (B,)
    penalty = ((norm - 1.0) ** 2).mean()
    return penalty, {"gp": penalty.detach(), "grad_norm": norm.mean().detach()}


def embedded_gradient_penalty(
    score: Callable[[torch.Tensor], torch.Tensor],
    real_emb: torch.Tensor,
    fake_emb: torch.Tensor,
    alpha: torch.Tensor,
    embedding: torch.Tensor,
) -> tuple[torch.Tensor, Stats]:
    """:func:`gradient_penalty` of a critic whose first layer is ``rows @ embedding``, without
    the (B, T, V) rows: the same value and gradients, at a cost that does not grow with V.

    With ``e = x @ W`` (W the (V, E) embedding), the interpolate's embedding is
    ``a * e_real + (1 - a) * e_fake`` and the gradient of the score with respect to the rows
    is ``g @ W.T`` for ``g`` its gradient with respect to ``e``; so
    ``||grad_x f||^2 = sum_t g_t (W.T W) g_t``, an (E, E) Gram matrix instead of (B, T, V) rows.

    Args:
        score: maps embedded inputs (B, T, E) to scores (B,).
        real_emb: (B, T, E) ``one_hot(real) @ W`` (an embedding lookup).
        fake_emb: (B, T, E) ``fake_rows @ W`` (a lookup for token ids), without generator gradient.
        alpha: (B,) interpolation coefficients in [0, 1].
        embedding: W (V, E), the critic's parameter (its gradient flows through the Gram matrix).

    Returns:
        The penalty and stats ``gp``, ``grad_norm``, as :func:`gradient_penalty`.
    """
    a = alpha.view(-1, 1, 1).to(real_emb.dtype)
    e_hat = a * real_emb + (1 - a) * fake_emb
    scores = score(e_hat)
    (grad,) = torch.autograd.grad(scores.sum(), e_hat, create_graph=True)  # (B, T, E)
    with torch.autocast(grad.device.type, enabled=False):  # the norm in fp32 whatever --precision
        w = embedding.float()
        g = grad.float()
        norm = ((g @ (w.t() @ w)) * g).sum(dim=(1, 2)).clamp_min(1e-12).sqrt()  # (B,)
    penalty = ((norm - 1.0) ** 2).mean()
    return penalty, {"gp": penalty.detach(), "grad_norm": norm.mean().detach()}


def discriminator_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Binary cross-entropy of a real (1) / fake (0) classifier, mean over both batches.

    Used for the density-ratio discriminator D and for the ``standard`` GAN critic.
    """
    loss = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    acc = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
    return loss, {"d_accuracy": acc.detach()}


def log_ratio_from_discriminator(logits: torch.Tensor, old_logits: torch.Tensor) -> torch.Tensor:
    """``log r`` from D's logits (PAPER.md, "Generator step", way 1).

    At D's optimum ``D = p_data / (p_data + p_theta)``, so ``log(p_theta / p_data) = -logit``
    and ``log r = log(p_theta/p_data)(x) - log(p_theta/p_data)(x_old) = old_logits - logits``.

    Args:
        logits: (B,) D's logits of the current samples (may carry gradient to the generator).
        old_logits: (B,) D's logits of the samples drawn at the start of the phase.
    """
    return old_logits.detach() - logits


def log_ratio_exact(log_prob: torch.Tensor, old_log_prob: torch.Tensor) -> torch.Tensor:
    """``log r = log p_theta(y) - log p_theta_old(y)`` on the same tokens (way 2, exact)."""
    return log_prob - old_log_prob.detach()


def shape_advantage(scores: torch.Tensor, mode: str = "raw", batch_scores: torch.Tensor | None = None) -> torch.Tensor:
    """The advantage ``A`` of the clipped surrogate from the critic's scores (PAPER.md, "Generator step").

    ``raw``: ``A = f(x)``; ``centered``: ``f(x) - mean(f)``; ``normalized``:
    ``(f(x) - mean(f)) / std(f)`` over the batch. A Wasserstein critic is defined only
    up to an additive constant, which ``raw`` passes on to the score-function term
    ``A * grad log r``. The batch mean and std are a baseline held constant (no
    gradient): the Gumbel pathwise gradient through ``f`` keeps its direction
    (a centred ``A`` *with* gradient would cancel it exactly at ``r = 1``).

    Args:
        scores: (B,) critic scores of the samples (may carry gradient).
        mode: ``raw``, ``centered`` or ``normalized``.
        batch_scores: (N,) scores of the global batch (under torchrun) for the mean and std;
            default ``scores``.

    Returns:
        (B,) advantages, differentiable wherever ``scores`` is.
    """
    if mode == "raw":
        return scores
    if mode not in ADVANTAGES:
        raise ValueError(f"--advantage: unknown mode {mode!r} (choose from {', '.join(ADVANTAGES)})")
    base = scores.detach() if batch_scores is None else batch_scores.detach()
    centred = scores - base.mean()
    if mode == "centered" or base.numel() < 2:
        return centred
    return centred / (base.std() + 1e-8)


def clipped_generator_loss(
    log_ratio: torch.Tensor,
    advantage: torch.Tensor,
    clip_eps: float = 0.4,
    clip: bool = True,
    clip_rule: str = "paper",
    token_rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Stats]:
    """PPO-style clipped surrogate of the generator (PAPER.md, "Generator step").

    ``s1 = r * A``, ``s2 = clip(r, 1 - eps, 1 + eps) * A``. The target is, with
    ``clip_rule="paper"`` (the official code), ``min(s1, s2)`` where ``A > 0`` and
    ``max(s1, s2)`` where ``A <= 0``; with ``clip_rule="ppo"`` (textbook PPO),
    ``min(s1, s2)`` everywhere, the pessimistic bound for both signs. Where the clipped
    term is selected, the gradient with respect to ``log_ratio`` is zero.
    ``clip=False`` gives ``r * A``. ``L_G = -mean(target)``.

    Under the paper's rule a sample with ``A <= 0`` takes the clipped term only when
    ``r > 1 + eps``: its probability is never raised past the trust region, but it
    can be lowered without bound. Textbook PPO stops that once ``r < 1 - eps``.

    Token level (``token_rows`` given): ``log_ratio`` holds one ``log r_t`` per
    generated token (N,), token ``k`` belonging to sentence ``token_rows[k]``; each
    token is clipped on its own with its sentence's advantage, and the loss is the
    mean over all N tokens (the PPO-for-language-models convention). This keeps the
    spread of ``r`` from growing with the length of the sentence.

    Args:
        log_ratio: (B,) ``log r`` per sentence, or (N,) per token with ``token_rows``
            (never a ratio of clamped probabilities).
        advantage: (B,) ``A`` (see :func:`shape_advantage`; may carry gradient).
        clip_eps: epsilon.
        clip: apply clipping.
        clip_rule: ``paper`` or ``ppo``.
        token_rows: (N,) sentence index of each token for the token-level ratio.

    Returns:
        Scalar loss and stats ``ratio_mean``, ``ratio_max``, ``ratio_min``, ``clip_frac``.
    """
    if clip_rule not in CLIP_RULES:
        raise ValueError(f"--clip-rule: unknown rule {clip_rule!r} (choose from {', '.join(CLIP_RULES)})")
    if token_rows is not None:
        advantage = advantage[token_rows]  # (N,) each token carries its sentence's advantage
    # Clamp log r before exp only to keep r finite; outside +-20 the clipped branch decides anyway.
    ratio = torch.exp(log_ratio.clamp(-20.0, 20.0))
    s1 = ratio * advantage
    if clip:
        s2 = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * advantage
        if clip_rule == "ppo":
            take_clipped = s2 < s1
        else:
            take_clipped = torch.where(advantage > 0, s2 < s1, s2 > s1)
        target = torch.where(take_clipped, s2, s1)
    else:
        take_clipped = torch.zeros_like(ratio, dtype=torch.bool)
        target = s1
    stats = {
        "ratio_mean": ratio.mean().detach(),
        "ratio_max": ratio.max().detach(),
        "ratio_min": ratio.min().detach(),
        "clip_frac": take_clipped.float().mean().detach(),
    }
    return -target.mean(), stats


def generator_loss(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Generator loss of the baseline GANs.

    ``wgan-gp`` and ``hinge``: ``-mean f(fake)``; ``standard``: non-saturating
    ``BCE(f(fake), 1)``; ``rsgan`` (RelGAN): ``-mean log sigmoid(f(fake) - f(real))``.
    """
    if kind in ("wgan-gp", "hinge"):
        loss = -fake_scores.mean()
    elif kind == "standard":
        loss = F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))
    elif kind == "rsgan":
        loss = -F.logsigmoid(fake_scores - real_scores).mean()
    else:
        raise ValueError(f"--loss: unknown generator loss {kind!r}")
    return loss, {}


def baseline_critic_loss(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Critic loss of the baseline GANs (``wgan-gp``: plain WGAN; add the GP separately).

    ``standard``: BCE real=1 / fake=0; ``hinge``: ``mean relu(1 - f(real)) + mean relu(1 + f(fake))``;
    ``rsgan``: ``-mean log sigmoid(f(real) - f(fake))``.
    """
    if kind == "wgan-gp":
        return critic_loss(real_scores, fake_scores, reweight=False)
    if kind == "standard":
        loss, stats = discriminator_bce(real_scores, fake_scores)
    elif kind == "hinge":
        loss, stats = F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean(), {}
    elif kind == "rsgan":
        loss, stats = -F.logsigmoid(real_scores - fake_scores).mean(), {}
    else:
        raise ValueError(f"--loss: unknown critic loss {kind!r}")
    return loss, {**stats, "critic_gap": (real_scores.mean() - fake_scores.mean()).detach()}


def mle_nll(token_log_probs: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """MLE loss: mean negative log-likelihood per token of (N,) token log-probs."""
    loss = -token_log_probs.mean()
    return loss, {"nll": loss.detach()}
