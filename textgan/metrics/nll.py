"""Negative log-likelihoods: NLL_gen (generator on real text) and NLL_oracle.

Both are **per token**, in nats: the sum of ``-log p(y_t)`` over every real token
plus the closing ``<eos>`` (padding excluded), divided by the number of such tokens.
Texygen and RelGAN compute NLL_gen on the *training* data (and over padded
fixed-length rows); textgan reports it on the held-out *test* split, which measures
generalisation rather than memorisation.
"""

from __future__ import annotations

import torch

from textgan.data.oracle import OracleLSTM
from textgan.models.generators import Generator, alive_mask


@torch.no_grad()
def nll_gen(generator: Generator, ids: torch.Tensor, batch_size: int = 256) -> float:
    """Mean per-token NLL of ``generator`` on encoded sentences.

    Args:
        generator: any textgan generator.
        ids: LongTensor (N, T) encoded sentences (see ``Vocab.encode_batch``).
        batch_size: sentences per forward pass.

    Returns:
        NLL per token (nats).
    """
    was_training = generator.training
    generator.eval()
    device = generator.banned.device
    total, tokens = 0.0, 0
    for start in range(0, ids.shape[0], batch_size):
        batch = ids[start : start + batch_size].to(device)
        total -= generator.log_prob(batch).sum().item()
        tokens += int(alive_mask(batch).sum().item())
    generator.train(was_training)
    return total / max(tokens, 1)


@torch.no_grad()
def nll_oracle(oracle: OracleLSTM, oracle_ids: torch.Tensor) -> float:
    """Mean per-token NLL (nats) of generated oracle-id sentences (N, T) under the oracle."""
    return oracle.nll(oracle_ids.cpu())
