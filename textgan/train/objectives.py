"""The GAN objectives both trainers share (the critic's loss with its gradient penalty, the
``ppo`` generator term) and the optimiser step with its non-finite guard."""

from __future__ import annotations

from typing import Any

import torch

from textgan import distributed as D
from textgan import losses as L


def penalty_weight(adv: Any, critic_updates: int) -> float:
    """Weight of the gradient penalty at critic update number ``critic_updates`` (0-based):
    ``gp_weight`` every update, or ``gp_weight * k`` on every k-th one with ``--gp-every k``
    (0 in between, where the penalty is not computed at all)."""
    if adv.loss not in ("ppo", "wgan-gp") or adv.gp_weight <= 0:
        return 0.0
    return adv.gp_weight * adv.gp_every if critic_updates % adv.gp_every == 0 else 0.0


def optimizer_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, grad_clip: float, what: str, step: int
) -> float:
    """Backward, check finiteness, clip and step.

    Returns:
        The gradient norm before clipping.

    Raises:
        FloatingPointError: the loss or a gradient is NaN/Inf (naming ``what`` and the step).
    """
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite {what} loss ({loss.item()}) at step {step}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
    if not torch.isfinite(norm):
        raise FloatingPointError(f"non-finite {what} gradient at step {step}")
    optimizer.step()
    return float(norm)


def clipped_ratio_loss(
    adv: Any,
    scores: torch.Tensor,
    cur: Any,
    old: Any = None,
    log_ratio: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The ``ppo`` generator term of both tasks, as the adversarial config sets it up.

    Args:
        adv: the ``AdvConfig`` (``advantage``, ``clip_rule``, ``ratio_level``, ``clip``, ``clip_eps``).
        scores: (B,) critic scores of the current soft rows (carry gradient).
        cur, old: ``Sample`` of the current weights and of theta_old on the same tokens
            (the exact ratio); ``old`` is unused when ``log_ratio`` is given.
        log_ratio: (B,) a ratio from elsewhere (the discriminator's), else the exact one.
    """
    batch_scores = D.gather(scores) if D.world_size() > 1 and adv.advantage != "raw" else None
    advantage = L.shape_advantage(scores, adv.advantage, batch_scores)
    token_rows = None
    if log_ratio is None:
        if adv.ratio_level == "token":
            log_ratio = L.log_ratio_exact(cur.token_log_prob, old.token_log_prob)
            token_rows = cur.token_rows
        else:
            log_ratio = L.log_ratio_exact(cur.log_prob, old.log_prob)
    loss, stats = L.clipped_generator_loss(log_ratio, advantage, adv.clip_eps, adv.clip, adv.clip_rule, token_rows)
    return loss, D.reduce_stats(stats)


def critic_objective(
    adv: Any, critic: Any, real: torch.Tensor, fake: torch.Tensor, critic_updates: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The critic loss of both tasks: the reweighted Wasserstein loss for ``ppo`` (weights over
    the global batch under torchrun) or the baseline's, plus the gradient penalty where
    ``penalty_weight`` gives one.

    Args:
        adv: the ``AdvConfig``.
        critic: called as ``critic(ids=...)`` / ``critic(soft=...)`` -> (B,) scores (cast to fp32).
        real: (B, T) ids of real text; fake: (B, T, V) soft rows, or (B, T) ids of generated
            text (``--critic-input hard``: the penalty then interpolates two one-hot rows).
        critic_updates: the update's number (for ``--gp-every``).
    """
    hard = not fake.is_floating_point()
    gp_weight = penalty_weight(adv, critic_updates)
    # In one process the penalty needs no (B, T, V) rows (losses.embedded_gradient_penalty) and reuses
    # the embeddings of the scores below; under torchrun every call goes through the replicated critic.
    embedded = gp_weight > 0 and D.world_size() == 1 and hasattr(critic, "score_embedded")
    if embedded:
        w = critic.embedding
        e_real = torch.nn.functional.embedding(real, w)
        e_fake = torch.nn.functional.embedding(fake, w) if hard else fake.detach() @ w
        f_real, f_fake = critic.score_embedded(e_real).float(), critic.score_embedded(e_fake).float()
    else:
        f_real = critic(ids=real).float()
        f_fake = critic(ids=fake).float() if hard else critic(soft=fake).float()
    if adv.loss == "ppo":
        batch = D.gather(f_fake) if D.world_size() > 1 and adv.reweight else None
        loss, stats = L.critic_loss(f_real, f_fake, reweight=adv.reweight, batch_scores=batch)
    else:
        loss, stats = L.baseline_critic_loss(adv.loss, f_real, f_fake)
    if gp_weight > 0:
        alpha = torch.rand(real.shape[0], device=real.device)
        if embedded:
            score = lambda e: critic.score_embedded(e).float()  # noqa: E731
            gp, gp_stats = L.embedded_gradient_penalty(score, e_real, e_fake, alpha, w)
        else:
            dtype = torch.float32 if hard else fake.dtype
            rows = torch.nn.functional.one_hot(real, critic.vocab_size).to(dtype)
            if hard:
                fake = torch.nn.functional.one_hot(fake, critic.vocab_size).to(dtype)
            gp, gp_stats = L.gradient_penalty(lambda x: critic(soft=x).float(), rows, fake, alpha)
        loss = loss + gp_weight * gp
        stats.update(gp_stats)
    return loss, stats


def critic_rows(adv: Any, sample: Any) -> torch.Tensor:
    """What the critic scores of a differentiable sample in a generator update: its soft rows, or
    with ``--critic-input hard`` straight-through rows: the one-hot rows of its tokens (the input
    the critic was trained on) in the forward pass, the soft rows' gradient in the backward pass."""
    if adv.critic_input != "hard":
        return sample.soft
    soft = sample.soft
    hard = torch.nn.functional.one_hot(sample.ids, soft.shape[-1]).to(soft.dtype)
    return hard + soft - soft.detach()
