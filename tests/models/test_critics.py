from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from textgan.config import CriticConfig
from textgan.models.critics import CNNCritic

CFG = CriticConfig(critic_embed_dim=8, num_rep=4, filter_sizes=(2, 3), num_filters=5, critic_dropout=0.0)


def test_ids_and_soft_paths_agree_on_one_hot_rows() -> None:
    critic = CNNCritic(CFG, vocab_size=12, max_len=6)
    ids = torch.randint(0, 12, (4, 6))
    by_ids = critic(ids=ids)
    by_soft = critic(soft=F.one_hot(ids, 12).float())
    assert by_ids.shape == (4,) and by_ids.dtype == torch.float32
    torch.testing.assert_close(by_ids, by_soft)


def test_exactly_one_input() -> None:
    critic = CNNCritic(CFG, vocab_size=12, max_len=6)
    ids = torch.randint(0, 12, (2, 6))
    with pytest.raises(ValueError, match="exactly one"):
        critic(ids=ids, soft=F.one_hot(ids, 12).float())
    with pytest.raises(ValueError, match="exactly one"):
        critic()


def test_short_sequences_and_gradients_reach_soft_rows() -> None:
    critic = CNNCritic(CFG, vocab_size=12, max_len=6)
    soft = torch.softmax(torch.randn(3, 2, 12), -1).requires_grad_(True)  # shorter than the widest filter
    critic(soft=soft).sum().backward()
    assert soft.grad is not None and torch.isfinite(soft.grad).all()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="--critic-embed-dim"):
        CriticConfig(critic_embed_dim=10, num_rep=4)


@pytest.fixture
def fresh_compiler(monkeypatch):
    from textgan.models import critics

    monkeypatch.setattr(critics, "_FUSED", {})
    return critics


def test_compiled_argmax_search_matches_eager(fresh_compiler) -> None:
    """--compile: the same scores, gradients and gradient-penalty gradients as the eager path."""
    torch.manual_seed(0)
    eager = CNNCritic(CFG, vocab_size=12, max_len=6)
    fused = CNNCritic(CFG, vocab_size=12, max_len=6)
    fused.load_state_dict(eager.state_dict())
    if not fused.use_compiler():
        pytest.skip(f"torch.compile cannot run here: {fresh_compiler._FUSED['failed']}")
    soft = torch.softmax(3 * torch.randn(4, 6, 12), -1)
    outs = []
    for critic in (eager, fused):
        x = soft.clone().requires_grad_(True)
        score = critic(soft=x)
        (g,) = torch.autograd.grad(score.sum(), x, create_graph=True)  # the penalty's double backward
        g.norm().backward()
        outs.append((score.detach(), x.grad, critic.embedding.grad))
    assert fused.compiled, fresh_compiler._FUSED.get("failed")
    for a, b in zip(*outs, strict=True):
        torch.testing.assert_close(a, b)


def test_compile_falls_back_with_one_warning(fresh_compiler, monkeypatch, caplog) -> None:
    critic = CNNCritic(CFG, vocab_size=12, max_len=6)
    ids = torch.randint(0, 12, (3, 6))
    expected = critic(ids=ids)
    monkeypatch.setattr(fresh_compiler, "compiler_missing", lambda device: "no C++ compiler (test)")
    with caplog.at_level("WARNING"):
        assert not critic.use_compiler() and not CNNCritic(CFG, 12, 6).use_compiler()
    assert [r.getMessage() for r in caplog.records] == ["--compile: no C++ compiler (test); running without it"]
    torch.testing.assert_close(critic(ids=ids), expected)

    def broken(*args):
        raise RuntimeError("InductorError: compiling failed\nlong trace")

    monkeypatch.setattr(fresh_compiler, "_FUSED", {"fn": broken})
    monkeypatch.setattr(fresh_compiler, "compiler_missing", lambda device: None)
    caplog.clear()
    assert critic.use_compiler()
    with caplog.at_level("WARNING"):
        torch.testing.assert_close(critic(ids=ids), expected)
        torch.testing.assert_close(critic(ids=ids), expected)
    assert not critic.compiled
    assert [r.getMessage() for r in caplog.records] == [
        "--compile: torch.compile failed (InductorError: compiling failed); running without it"
    ]


def _reference_scores(critic: CNNCritic, soft: torch.Tensor) -> torch.Tensor:
    """RelGAN's critic written the plain way: conv2d over the R slices -> ReLU -> max-pool over time
    -> highway -> MLP -> mean over representations (every activation stored)."""
    b, t, _ = soft.shape
    emb = (soft @ critic.embedding).unsqueeze(1)  # (B, 1, T, E)
    pools = []
    for width, weight, bias in zip(critic.filter_sizes, critic.conv_weights, critic.conv_biases, strict=True):
        kernel = weight.view(-1, 1, width, critic.rep_dim)
        conv = F.relu(F.conv2d(emb, kernel, bias, stride=(1, critic.rep_dim)))  # (B, N, T-w+1, R)
        pools.append(conv.max(dim=2).values.transpose(1, 2))  # (B, R, N)
    feat = torch.cat(pools, dim=2).reshape(b * critic.num_rep, -1)
    high = critic.highway(feat)
    gate = torch.sigmoid(high)
    feat = gate * F.relu(high) + (1.0 - gate) * feat
    hidden = critic.feature_to_hidden(feat)
    return critic.hidden_to_score(hidden).view(b, critic.num_rep).mean(dim=1)


def test_scores_gradients_and_penalty_equal_the_plain_conv_critic() -> None:
    """The argmax-then-gather max-pool (and the fused highway) give RelGAN's critic exactly: scores,
    gradients w.r.t. soft rows and weights, and the gradient penalty's double backward."""
    torch.manual_seed(0)
    critic = CNNCritic(CFG, vocab_size=12, max_len=7)
    soft = torch.softmax(3 * torch.randn(4, 7, 12, dtype=torch.float64), -1)
    critic = critic.double()

    def penalised(fn):
        x = soft.clone().requires_grad_(True)
        scores = fn(x)
        (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
        critic.zero_grad()
        (scores.sum() + ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()).backward()
        return scores.detach(), grad.detach(), [p.grad.clone() for p in critic.parameters()]

    ours = penalised(lambda x: critic(soft=x))
    ref = penalised(lambda x: _reference_scores(critic, x))
    torch.testing.assert_close(ours[0], ref[0])
    torch.testing.assert_close(ours[1], ref[1])
    for mine, theirs in zip(ours[2], ref[2], strict=True):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("t", [2, 6, 40])
def test_scoring_without_gradient_equals_the_training_path(t) -> None:
    """Under no_grad (evaluation, resampling) the critic takes a blocked conv1d + max path: the same
    scores as the argmax-search path training uses, for ids and soft rows, short and long inputs."""
    critic = CNNCritic(CFG, vocab_size=12, max_len=40).eval()
    ids = torch.randint(0, 12, (300, t))
    soft = torch.softmax(torch.randn(300, t, 12), -1)
    for kw in ({"ids": ids}, {"soft": soft}):
        trained_path = critic(**kw).detach()
        with torch.no_grad():
            torch.testing.assert_close(critic(**kw), trained_path)


def test_scoring_under_bf16_autocast_takes_the_training_path() -> None:
    critic = CNNCritic(CFG, vocab_size=12, max_len=10).eval()
    soft = torch.softmax(torch.randn(50, 10, 12), -1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with_grad = critic(soft=soft).detach()
        with torch.no_grad():
            torch.testing.assert_close(critic(soft=soft), with_grad, rtol=0, atol=0)
