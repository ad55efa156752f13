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
    import logging

    monkeypatch.setattr(logging.getLogger("textgan"), "propagate", True)  # the CLI's setup stops it
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
