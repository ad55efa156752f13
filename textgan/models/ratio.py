"""Real-vs-generated classifiers D for ``textgan train ratio`` and ``--resample-with ratio``.

At the optimum of the binary cross-entropy between real text (label 1) and samples of a
generator p_θ (label 0), with equally many of each, D's logit is ``log p_data(x) / p_θ(x)``:
the density ratio that turns p_θ into the data distribution by importance resampling.

Three architectures, the levers the literature names for a strong text discriminator:

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

from textgan.data.vocab import BOS_ID, PAD_ID
from textgan.models.generators import alive_mask, run_lstm

ARCHS = ("cnn", "lstm", "generator")


class PrefixDiscriminator(nn.Module):
    """A D that scores every prefix (``token_logits``, defined by subclasses); ``forward`` returns
    sentence logits (B,), ``loss`` the mean BCE of every alive prefix."""

    def __init__(self, score: str = "last") -> None:
        super().__init__()
        if score not in ("last", "mean"):
            raise ValueError(f"--score: choose from last, mean (got {score!r})")
        self.score = score

    def token_logits(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

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


class LSTMDiscriminator(PrefixDiscriminator):
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
        super().__init__(score)
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


class GeneratorDiscriminator(PrefixDiscriminator):
    """The generator's body as a per-token discriminator: prefix ``ids[:, :t+1]`` is scored from the
    body's features after reading ``<bos>, ids_0 .. ids_t`` (the features it would predict token
    t + 1 from), through dropout and a new linear head. The generator's own output layer is kept
    (a copy is simplest for every architecture) but never used.

    Args:
        generator: the run's generator; D trains a deep copy, the run's own is untouched.
        dropout: dropout on the features.
        score: the sentence's logit, as ``LSTMDiscriminator``'s.
    """

    def __init__(self, generator: nn.Module, dropout: float = 0.1, score: str = "last") -> None:
        super().__init__(score)
        import copy

        self.body = copy.deepcopy(generator).requires_grad_(True)
        with torch.no_grad():
            width = self.body._features(torch.full((1, 1), BOS_ID, device=generator.banned.device)).shape[-1]
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, 1)
        nn.init.zeros_(self.head.weight)  # D starts at logit 0 everywhere: p_θ itself
        nn.init.zeros_(self.head.bias)

    def token_logits(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Only alive prefixes are computed (the body's ``packed_features``, which recurrent
        generators run on the sentences still alive at each step); the rest of (B, T) is 0."""
        alive = alive_mask(ids)
        # Position t + 1 of ids followed by one more column has read <bos>, ids_0 .. ids_t: the
        # prefixes of the sentence of length len are positions 1 .. len of a mask of len + 1.
        longer = torch.cat([ids, torch.full_like(ids[:, :1], PAD_ID)], dim=1)
        alive_longer = torch.cat([torch.ones_like(alive[:, :1]), alive], dim=1)
        not_first = torch.cat([torch.zeros_like(alive[:, :1]), alive], dim=1)
        feats = self.body.packed_features(longer, alive_longer)[not_first[alive_longer]]  # (N, F)
        logits = torch.zeros(ids.shape, dtype=torch.float32, device=ids.device)
        logits[alive] = self.head(self.dropout(feats))[:, 0].float()
        return logits, alive


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
    generator: nn.Module | None = None,
) -> nn.Module:
    """The D of ``arch``: ``lstm`` (embed_dim, hidden_dim, dropout, its sentence ``score``),
    ``cnn`` (the run's critic architecture with ``dropout`` before its output MLP) or
    ``generator`` (a copy of the run's ``generator`` with a new head; required for it)."""
    if arch == "lstm":
        return LSTMDiscriminator(vocab_size, embed_dim, hidden_dim, dropout, score)
    if arch == "generator":
        if generator is None:
            raise ValueError("--arch generator: needs the run's generator")
        return GeneratorDiscriminator(generator, dropout, score)
    if arch == "cnn":
        import dataclasses

        from textgan.models.critics import CNNCritic

        return CNNDiscriminator(CNNCritic(dataclasses.replace(critic_cfg, critic_dropout=dropout), vocab_size, max_len))
    raise ValueError(f"--arch: unknown architecture {arch!r} (choose from {', '.join(ARCHS)})")
