"""Real-vs-generated classifiers D for ``textgan train ratio`` and ``--resample-with ratio``.

At the optimum of the binary cross-entropy between real text (label 1) and samples of a
generator p_θ (label 0), with equally many of each, D's logit is ``log p_data(x) / p_θ(x)``:
the density ratio that turns p_θ into the data distribution by importance resampling.

Two architectures, the levers the literature names for a strong text discriminator:

- ``cnn``: RelGAN's CNN (``CNNCritic``), one logit per sentence.
- ``lstm``: ScratchGAN's (de Masson d'Autume et al. 2019) per-token discriminator: an LSTM reads
  the sentence left to right and scores every prefix; training classifies every prefix
  (``token_logits``, the loss averaged over positions up to ``<eos>``). The sentence's logit is
  the logit of its whole sentence, the last prefix (``score="last"``): at the optimum
  log p_data(x) / p_θ(x) up to a constant, which cancels in resampling; ``score="mean"`` (the
  mean of the prefix logits, a smoother score that is not that ratio) is what Ds fitted before
  the option existed use.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from textgan.models.generators import alive_mask, run_lstm

ARCHS = ("cnn", "lstm")


class LSTMDiscriminator(nn.Module):
    """Per-token LSTM discriminator; ``forward`` returns sentence logits (B,).

    Args:
        vocab_size: V.
        embed_dim: E.
        hidden_dim: H.
        dropout: dropout on the embeddings and on the LSTM outputs.
    """

    def __init__(
        self, vocab_size: int, embed_dim: int = 64, hidden_dim: int = 128, dropout: float = 0.1, score: str = "last"
    ) -> None:
        super().__init__()
        if score not in ("last", "mean"):
            raise ValueError(f"--score: choose from last, mean (got {score!r})")
        self.score = score
        self.embedding = nn.Parameter(torch.empty(vocab_size, embed_dim))
        nn.init.normal_(self.embedding, std=embed_dim**-0.5)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_dim, 1)

    def token_logits(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, T) of every prefix ``ids[:, :t+1]`` and the alive mask (B, T) (up to ``<eos>``)."""
        emb = F.embedding(ids, self.embedding)
        hidden, _ = run_lstm(self.lstm, self.dropout(emb))
        return self.out(self.dropout(hidden))[..., 0].float(), alive_mask(ids)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Sentence logits (B,): the whole sentence's (the last prefix up to ``<eos>``), or with
        ``score="mean"`` the mean of the prefix logits."""
        logits, alive = self.token_logits(ids)
        if self.score == "last":
            last = (alive.long().sum(1) - 1).clamp_min(0)  # the <eos> position, or the last token
            return logits.gather(1, last[:, None])[:, 0]
        alive = alive.float()
        return (logits * alive).sum(1) / alive.sum(1).clamp_min(1.0)

    def loss(self, ids: torch.Tensor, label: float) -> torch.Tensor:
        """Mean BCE of every alive prefix against ``label`` (1 real, 0 generated)."""
        logits, alive = self.token_logits(ids)
        target = torch.full_like(logits, label)
        per_token = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return per_token[alive].mean()


class CNNDiscriminator(nn.Module):
    """RelGAN's CNN (the critic's architecture) as a sentence classifier: logits (B,)."""

    def __init__(self, critic: nn.Module) -> None:
        super().__init__()
        self.cnn = critic

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.cnn(ids=ids).float()

    def loss(self, ids: torch.Tensor, label: float) -> torch.Tensor:
        logits = self(ids)
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def build_discriminator(
    arch: str,
    vocab_size: int,
    max_len: int,
    critic_cfg: Any,
    embed_dim: int,
    hidden_dim: int,
    dropout: float,
    score: str = "last",
) -> nn.Module:
    """The D of ``arch``: ``lstm`` (embed_dim, hidden_dim, dropout, its sentence ``score``) or
    ``cnn`` (the run's critic architecture with ``dropout`` before its output MLP)."""
    if arch == "lstm":
        return LSTMDiscriminator(vocab_size, embed_dim, hidden_dim, dropout, score)
    if arch == "cnn":
        import dataclasses

        from textgan.models.critics import CNNCritic

        return CNNDiscriminator(CNNCritic(dataclasses.replace(critic_cfg, critic_dropout=dropout), vocab_size, max_len))
    raise ValueError(f"--arch: unknown architecture {arch!r} (choose from {', '.join(ARCHS)})")
