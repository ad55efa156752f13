"""RelGAN-style CNN critic: the Wasserstein critic f and the density-ratio discriminator D.

Shape letters: B batch, T tokens, V vocabulary, E embedding, R representations,
N filters, K filter widths.

The input is either ids (an embedding lookup) or soft one-hot rows (rows times the
same embedding matrix), exactly one of them (PAPER.md, "Players"). The embedding is
split into R parallel "representations" of E / R dimensions each; convolutions of
several widths run over time within each representation, are max-pooled, pass a
highway layer and a small MLP, and give one score per representation. The score
of a sequence is the mean over representations (higher = more real).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from textgan.config import CriticConfig


class CNNCritic(nn.Module):
    """Scores sequences; returns raw scores (B,), never probabilities.

    Args:
        cfg: architecture.
        vocab_size: V.
        max_len: T (sequences shorter than the widest filter are padded inside).
    """

    def __init__(self, cfg: CriticConfig, vocab_size: int, max_len: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.num_rep = cfg.num_rep
        self.rep_dim = cfg.critic_embed_dim // cfg.num_rep
        self.min_len = max(cfg.filter_sizes)
        self.embedding = nn.Parameter(torch.empty(vocab_size, cfg.critic_embed_dim))
        nn.init.normal_(self.embedding, std=1.0 / cfg.critic_embed_dim**0.5)
        self.convs = nn.ModuleList(
            nn.Conv2d(1, cfg.num_filters, (w, self.rep_dim), stride=(1, self.rep_dim)) for w in cfg.filter_sizes
        )
        feat = cfg.num_filters * len(cfg.filter_sizes)
        self.highway = nn.Linear(feat, feat)
        self.dropout = nn.Dropout(cfg.critic_dropout)
        self.feature_to_hidden = nn.Linear(feat, 100)
        self.hidden_to_score = nn.Linear(100, 1)

    def embed(self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, E) embeddings of ids (lookup) or soft rows (matmul)."""
        if (ids is None) == (soft is None):
            raise ValueError("pass exactly one of ids (B, T) or soft (B, T, V)")
        if ids is not None:
            return F.embedding(ids, self.embedding)
        return soft @ self.embedding  # type: ignore[operator]

    def forward(self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B,) of LongTensor ids (B, T) or soft rows (B, T, V)."""
        emb = self.embed(ids, soft)  # (B, T, E)
        b, t, _ = emb.shape
        if t < self.min_len:
            emb = F.pad(emb, (0, 0, 0, self.min_len - t))
        x = emb[:, None]  # (B, 1, T, E)
        pools = [F.relu(conv(x)).amax(dim=2) for conv in self.convs]  # each (B, N, R)
        feat = torch.cat(pools, dim=1).transpose(1, 2).reshape(b * self.num_rep, -1)  # (B*R, K*N)
        high = self.highway(feat)
        gate = torch.sigmoid(high)
        feat = gate * F.relu(high) + (1.0 - gate) * feat
        hidden = self.feature_to_hidden(self.dropout(feat))  # (B*R, 100)
        scores = self.hidden_to_score(hidden).view(b, self.num_rep)  # (B, R)
        return scores.mean(dim=1)
