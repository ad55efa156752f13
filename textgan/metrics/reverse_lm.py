"""Sample-based coverage: the reverse LM score (Caccia et al., "Language GANs Falling Short").

NLL_test needs a model with a tractable likelihood; a resampled sampler has none. The reverse
LM score needs only samples: train a fresh language model of a fixed small size, for a fixed
budget, on N samples of the sampler, and report its per-token NLL of the real test split. Samples
that cover the data (diverse and faithful) teach a model that scores the test split well (lower);
a sampler that drops modes, or writes text unlike the data, scores worse. With the size, budget
and seed fixed, every sampler (tempered, resampled, GAN-trained) is measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from textgan.config import GeneratorConfig
from textgan.metrics.nll import nll_gen
from textgan.models.generators import build_generator


@dataclass(frozen=True)
class ReverseLM:
    """The fixed reverse LM: an LSTM of ``embed_dim`` / ``hidden_dim`` trained for ``epochs`` epochs
    of Adam at ``lr`` on the samples, batch ``batch_size``, seed ``seed``."""

    embed_dim: int = 32
    hidden_dim: int = 64
    epochs: int = 5
    lr: float = 1e-2
    batch_size: int = 64
    seed: int = 0


def reverse_lm_nll(
    samples: torch.Tensor,
    test: torch.Tensor,
    vocab_size: int,
    max_len: int,
    banned_ids: list[int] | tuple[int, ...],
    spec: ReverseLM = ReverseLM(),
) -> float:
    """Per-token NLL (nats) of the real ``test`` ids (N, T) under a fresh ``spec`` LM trained on
    the sampler's ``samples`` (M, T), both in the run's vocabulary (CPU, independent of the
    global random state)."""
    if samples.shape[0] == 0:
        raise ValueError("reverse_lm_nll: no samples")
    rng = torch.Generator().manual_seed(spec.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        cfg = GeneratorConfig(generator="lstm", embed_dim=spec.embed_dim, hidden_dim=spec.hidden_dim)
        lm = build_generator(cfg, vocab_size, max_len, banned_ids)
    opt = torch.optim.Adam(lm.parameters(), lr=spec.lr)
    lm.train()
    with torch.enable_grad():  # callers often score under no_grad
        _fit(lm, opt, samples, spec, rng)
    lm.eval()
    return nll_gen(lm, test)


def _fit(
    lm: torch.nn.Module, opt: torch.optim.Optimizer, samples: torch.Tensor, spec: ReverseLM, rng: torch.Generator
) -> None:
    for _ in range(spec.epochs):
        order = torch.randperm(samples.shape[0], generator=rng)
        for i in range(0, samples.shape[0], spec.batch_size):
            batch = samples[order[i : i + spec.batch_size]]
            token_logp, _ = lm.token_log_probs(batch)
            loss = -token_logp.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lm.parameters(), 5.0)
            opt.step()
