from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from textgan import losses as L

floats = st.floats(min_value=-50, max_value=50, allow_nan=False, width=32)
scores = st.lists(floats, min_size=1, max_size=16).map(lambda xs: torch.tensor(xs))


# -- reweighting ---------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(scores)
def test_weights_nonnegative_mean_one(f) -> None:
    w = L.reweighting_weights(f)
    assert torch.all(w >= 0)
    torch.testing.assert_close(w.mean(), torch.tensor(1.0))


@settings(max_examples=80, deadline=None)
@given(scores, st.floats(min_value=-100, max_value=100, width=32))
def test_weights_ignore_a_constant_shift(f, c) -> None:
    torch.testing.assert_close(L.reweighting_weights(f + c), L.reweighting_weights(f), atol=1e-4, rtol=1e-4)


@settings(max_examples=40, deadline=None)
@given(scores)
def test_weights_permute_with_the_batch(f) -> None:
    perm = torch.randperm(len(f))
    torch.testing.assert_close(L.reweighting_weights(f[perm]), L.reweighting_weights(f)[perm])


def test_weights_uniform_for_equal_scores_and_carry_no_gradient() -> None:
    f = torch.full((5,), 3.0, requires_grad=True)
    w = L.reweighting_weights(f)
    torch.testing.assert_close(w, torch.ones(5))
    assert not w.requires_grad


def test_weights_hand_computed() -> None:
    w = L.reweighting_weights(torch.tensor([0.0, math.log(3.0)]))
    torch.testing.assert_close(w, torch.tensor([0.5, 1.5]))


# -- critic losses -------------------------------------------------------------------------
def test_critic_loss_hand_computed() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, math.log(3.0)])
    loss, stats = L.critic_loss(real, fake, reweight=True)
    expected = (0.5 * 0.0 + 1.5 * math.log(3.0)) / 2 - 2.0
    assert loss.item() == pytest.approx(expected)
    assert stats["max_weight"].item() == pytest.approx(1.5)
    assert stats["critic_gap"].item() == pytest.approx(2.0 - math.log(3.0) / 2)
    plain, _ = L.critic_loss(real, fake, reweight=False)
    assert plain.item() == pytest.approx(math.log(3.0) / 2 - 2.0)


def test_reweighted_critic_gradient_treats_weights_as_constants() -> None:
    fake = torch.tensor([0.0, math.log(3.0)], requires_grad=True)
    loss, _ = L.critic_loss(torch.zeros(2), fake)
    loss.backward()
    torch.testing.assert_close(fake.grad, torch.tensor([0.25, 0.75]))  # w / B


def test_baseline_losses_hand_computed() -> None:
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert L.baseline_critic_loss("rsgan", real, fake)[0].item() == pytest.approx(-math.log(sig(3.0)))
    assert L.generator_loss("rsgan", real, fake)[0].item() == pytest.approx(-math.log(sig(-3.0)))
    assert L.baseline_critic_loss("hinge", real, fake)[0].item() == pytest.approx(0.0 + 0.0)
    assert L.baseline_critic_loss("hinge", torch.tensor([0.5]), torch.tensor([0.5]))[0].item() == pytest.approx(2.0)
    assert L.generator_loss("hinge", real, fake)[0].item() == pytest.approx(1.0)
    std = -math.log(sig(2.0)) - math.log(1 - sig(-1.0))
    assert L.baseline_critic_loss("standard", real, fake)[0].item() == pytest.approx(std)
    assert L.generator_loss("standard", real, fake)[0].item() == pytest.approx(-math.log(sig(-1.0)))
    assert L.baseline_critic_loss("wgan-gp", real, fake)[0].item() == pytest.approx(-3.0)
    assert L.generator_loss("wgan-gp", real, fake)[0].item() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        L.generator_loss("nope", real, fake)


def test_discriminator_bce_and_ratio_from_logits() -> None:
    loss, stats = L.discriminator_bce(torch.tensor([0.0]), torch.tensor([0.0]))
    assert loss.item() == pytest.approx(2 * math.log(2))
    # D = sigmoid(logit) = p_data / (p_data + p_theta): p_theta / p_data = exp(-logit)
    log_r = L.log_ratio_from_discriminator(torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(log_r, torch.tensor([-0.5, 2.5]))


# -- gradient penalty ------------------------------------------------------------------------
def test_gradient_penalty_zero_for_unit_norm_linear_critic() -> None:
    torch.manual_seed(0)
    w = torch.randn(4 * 6)
    w = w / w.norm()
    critic = lambda x: x.flatten(1) @ w  # noqa: E731
    real = torch.nn.functional.one_hot(torch.randint(0, 6, (3, 4)), 6).float()
    fake = torch.softmax(torch.randn(3, 4, 6), -1)
    gp, stats = L.gradient_penalty(critic, real, fake, torch.rand(3))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    assert stats["grad_norm"].item() == pytest.approx(1.0)


def test_gradient_penalty_hand_computed_and_differentiable() -> None:
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]]))  # gradient norm 5
    critic = lambda x: lin(x).squeeze(-1)  # noqa: E731
    gp, _ = L.gradient_penalty(critic, torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([0.3]))
    assert gp.item() == pytest.approx(16.0)
    gp.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(lin.weight.grad, torch.tensor([[2 * 4 * 3 / 5, 2 * 4 * 4 / 5]]))


# -- clipped generator loss ------------------------------------------------------------------
def test_clipped_loss_hand_computed() -> None:
    log_r = torch.log(torch.tensor([2.0, 0.5, 2.0, 0.5]))
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0])
    loss, stats = L.clipped_generator_loss(log_r, adv, clip_eps=0.4)
    # PAPER.md: min(s1, s2) where A > 0, max(s1, s2) where A <= 0
    targets = torch.tensor([min(2.0, 1.4), min(0.5, 0.6), max(-2.0, -1.4), max(-0.5, -0.6)])
    assert loss.item() == pytest.approx(-targets.mean().item())
    assert stats["clip_frac"].item() == pytest.approx(0.5)
    assert stats["ratio_max"].item() == pytest.approx(2.0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.3, 0.3), st.floats(-5, 5)), min_size=1, max_size=12))
def test_clipped_equals_unclipped_inside_the_trust_region(pairs) -> None:
    log_r = torch.tensor([p[0] for p in pairs])  # exp(+-0.3) lies inside [0.6, 1.4]
    adv = torch.tensor([p[1] for p in pairs])
    clipped, _ = L.clipped_generator_loss(log_r, adv, clip_eps=0.4)
    plain, _ = L.clipped_generator_loss(log_r, adv, clip_eps=0.4, clip=False)
    torch.testing.assert_close(clipped, plain)
    huge, _ = L.clipped_generator_loss(log_r * 10, adv, clip_eps=1e9)
    torch.testing.assert_close(huge, L.clipped_generator_loss(log_r * 10, adv, clip=False)[0])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=12))
def test_clipped_loss_is_minus_mean_advantage_at_log_r_zero(advs) -> None:
    adv = torch.tensor(advs)
    loss, _ = L.clipped_generator_loss(torch.zeros_like(adv), adv)
    torch.testing.assert_close(loss, -adv.mean())


def test_no_gradient_through_log_r_where_clipped_term_is_selected() -> None:
    log_r = torch.log(torch.tensor([2.0, 2.0, 0.3, 0.3, 1.1])).requires_grad_(True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
    loss, stats = L.clipped_generator_loss(log_r, adv, clip_eps=0.4)
    loss.backward()
    # r=2: A>0 takes min(2A, 1.4A) = 1.4A, A<0 takes max(2A, 1.4A) = 1.4A: clipped, zero gradient
    assert log_r.grad[0] == 0 and log_r.grad[1] == 0
    # r=0.3 (either sign of A) and r=1.1 select the unclipped r*A: gradient -r*A/B
    torch.testing.assert_close(log_r.grad[2:], torch.tensor([-0.3 / 5, 0.3 / 5, -1.1 / 5]))
    assert stats["clip_frac"].item() == pytest.approx(0.4)


def test_finite_for_extreme_logits() -> None:
    log_r = torch.tensor([1e4, -1e4, 80.0, -80.0], requires_grad=True)
    adv = torch.tensor([1e3, -1e3, -1.0, 1.0], requires_grad=True)
    loss, stats = L.clipped_generator_loss(log_r, adv)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(log_r.grad).all() and torch.isfinite(adv.grad).all()
    assert all(torch.isfinite(v) for v in stats.values())
    w = L.reweighting_weights(torch.tensor([1e4, -1e4, 0.0]))
    assert torch.isfinite(w).all() and w.mean().item() == pytest.approx(1.0)
    d_log_r = L.log_ratio_from_discriminator(torch.tensor([1e4]), torch.tensor([-1e4]))
    assert torch.isfinite(L.clipped_generator_loss(d_log_r, torch.tensor([1.0]))[0])


def test_exact_log_ratio_and_mle() -> None:
    torch.testing.assert_close(L.log_ratio_exact(torch.tensor([-3.0]), torch.tensor([-5.0])), torch.tensor([2.0]))
    loss, stats = L.mle_nll(torch.tensor([-1.0, -3.0]))
    assert loss.item() == 2.0 and stats["nll"].item() == 2.0


# -- recipe options: advantage, clip rule, token-level ratio -----------------------------------
def test_advantage_modes_hand_computed() -> None:
    f = torch.tensor([1.0, 3.0, 5.0])
    torch.testing.assert_close(L.shape_advantage(f, "raw"), f)
    torch.testing.assert_close(L.shape_advantage(f, "centered"), torch.tensor([-2.0, 0.0, 2.0]))
    torch.testing.assert_close(L.shape_advantage(f, "normalized"), torch.tensor([-1.0, 0.0, 1.0]))  # std = 2
    with pytest.raises(ValueError, match="--advantage"):
        L.shape_advantage(f, "whitened")


def test_centered_advantage_keeps_the_pathwise_gradient() -> None:
    # The baseline is a constant: d/df of mean(r * (f - b)) is r / B, as for the raw score.
    f = torch.tensor([1.0, 3.0, 5.0], requires_grad=True)
    r = torch.tensor([0.5, 1.0, 2.0])
    for mode in ("raw", "centered"):
        f.grad = None
        (r * L.shape_advantage(f, mode)).mean().backward()
        torch.testing.assert_close(f.grad, r / 3)
    f.grad = None
    (r * L.shape_advantage(f, "normalized")).mean().backward()
    torch.testing.assert_close(f.grad, r / 3 / 2.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(floats, min_size=2, max_size=12), st.floats(-100, 100, width=32))
def test_centered_and_normalized_ignore_a_constant_shift(xs, c) -> None:
    f = torch.tensor(xs, dtype=torch.float64)
    torch.testing.assert_close(L.shape_advantage(f + c, "centered"), L.shape_advantage(f, "centered"))
    a = L.shape_advantage(f, "normalized")
    if f.std() > 1e-3:
        torch.testing.assert_close(L.shape_advantage(f + c, "normalized"), a)
        assert abs(a.mean().item()) < 1e-6


def test_textbook_clip_rule_hand_computed() -> None:
    log_r = torch.log(torch.tensor([2.0, 0.5, 2.0, 0.5, 0.1]))
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0, -2.0])
    loss, stats = L.clipped_generator_loss(log_r, adv, clip_eps=0.4, clip_rule="ppo")
    # min(s1, s2) for every sign of A
    targets = [min(2.0, 1.4), min(0.5, 0.6), min(-2.0, -1.4), min(-0.5, -0.6), min(-0.2, -1.2)]
    assert loss.item() == pytest.approx(-sum(targets) / 5)
    assert stats["clip_frac"].item() == pytest.approx(3 / 5)  # rows 0, 3, 4 take the clipped term
    assert stats["ratio_min"].item() == pytest.approx(0.1)
    paper, _ = L.clipped_generator_loss(log_r, adv, clip_eps=0.4, clip_rule="paper")
    paper_targets = [min(2.0, 1.4), min(0.5, 0.6), max(-2.0, -1.4), max(-0.5, -0.6), max(-0.2, -1.2)]
    assert paper.item() == pytest.approx(-sum(paper_targets) / 5)
    with pytest.raises(ValueError, match="--clip-rule"):
        L.clipped_generator_loss(log_r, adv, clip_rule="trpo")


def test_textbook_rule_stops_pushing_down_a_negative_sample_below_one_minus_eps() -> None:
    # A < 0 and r already 0.1: the paper's rule still lowers r (gradient), textbook PPO does not.
    log_r = torch.log(torch.tensor([0.1])).requires_grad_(True)
    adv = torch.tensor([-1.0])
    L.clipped_generator_loss(log_r, adv, clip_rule="paper")[0].backward()
    assert log_r.grad.item() == pytest.approx(0.1)  # d(-(r*A))/dlog r = -r*A = 0.1: descent lowers r
    log_r.grad = None
    L.clipped_generator_loss(log_r, adv, clip_rule="ppo")[0].backward()
    assert log_r.grad.item() == 0.0


def test_token_level_ratio_hand_computed() -> None:
    # sentence 0 has tokens with r = 2 and 0.5, sentence 1 one token with r = 1.2
    log_r = torch.log(torch.tensor([2.0, 0.5, 1.2])).requires_grad_(True)
    rows = torch.tensor([0, 0, 1])
    adv = torch.tensor([1.0, -1.0])
    loss, stats = L.clipped_generator_loss(log_r, adv, clip_eps=0.4, clip_rule="ppo", token_rows=rows)
    targets = [min(2.0, 1.4), min(0.5, 0.6), min(-1.2, -1.2)]  # per token, each with its sentence's A
    assert loss.item() == pytest.approx(-sum(targets) / 3)  # mean over tokens
    assert stats["clip_frac"].item() == pytest.approx(1 / 3)
    loss.backward()
    # token 0 clipped (no gradient), token 1: -r*A/N = -0.5/3, token 2: -r*A/N = 1.2/3
    torch.testing.assert_close(log_r.grad, torch.tensor([0.0, -0.5 / 3, 1.2 / 3]))


def test_token_level_equals_sequence_level_for_one_token_sentences() -> None:
    log_r = torch.tensor([0.9, -0.7, 0.1])
    adv = torch.tensor([0.5, -2.0, 1.0])
    seq, _ = L.clipped_generator_loss(log_r, adv, clip_rule="ppo")
    tok, _ = L.clipped_generator_loss(log_r, adv, clip_rule="ppo", token_rows=torch.arange(3))
    torch.testing.assert_close(seq, tok)


def test_lazy_gradient_penalty_weight_schedule() -> None:
    from textgan.config import AdvConfig
    from textgan.train.common import penalty_weight

    every = [penalty_weight(AdvConfig(gp_weight=5.0), i) for i in range(4)]
    assert every == [5.0] * 4
    lazy = [penalty_weight(AdvConfig(gp_weight=5.0, gp_every=4), i) for i in range(8)]
    assert lazy == [20.0, 0, 0, 0, 20.0, 0, 0, 0]  # same total weight, a quarter of the penalties
    assert penalty_weight(AdvConfig(loss="rsgan"), 0) == 0.0
    assert penalty_weight(AdvConfig(gp_weight=0.0), 0) == 0.0


@pytest.mark.parametrize("hard", [False, True])
def test_the_embedded_gradient_penalty_equals_the_one_on_rows(hard) -> None:
    from textgan.config import CriticConfig
    from textgan.models.critics import CNNCritic

    torch.manual_seed(0)
    v, t, b = 40, 7, 6
    critic = CNNCritic(CriticConfig(critic_embed_dim=8, num_rep=2, filter_sizes=(2, 3), num_filters=5), v, t).eval()
    real = torch.randint(4, v, (b, t))
    fake_ids = torch.randint(4, v, (b, t))
    fake = F.one_hot(fake_ids, v).float() if hard else torch.softmax(torch.randn(b, t, v), -1)
    alpha = torch.rand(b)
    rows = F.one_hot(real, v).float()
    old, old_stats = L.gradient_penalty(lambda x: critic(soft=x), rows, fake, alpha)
    old_grads = torch.autograd.grad(old, list(critic.parameters()), allow_unused=True)
    w = critic.embedding
    e_fake = F.embedding(fake_ids, w) if hard else fake @ w
    new, new_stats = L.embedded_gradient_penalty(critic.score_embedded, F.embedding(real, w), e_fake, alpha, w)
    new_grads = torch.autograd.grad(new, list(critic.parameters()), allow_unused=True)
    assert torch.allclose(old, new, rtol=1e-4, atol=1e-6) and old.item() > 0
    assert torch.allclose(old_stats["grad_norm"], new_stats["grad_norm"], rtol=1e-4)
    for a, c in zip(old_grads, new_grads, strict=True):
        assert (a is None) == (c is None)
        if a is not None:
            assert torch.allclose(a, c, rtol=1e-3, atol=1e-6)
