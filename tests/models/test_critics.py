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
