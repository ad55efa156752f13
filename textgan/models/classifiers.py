"""Style classifiers: a TextCNN over ids or soft one-hot rows.

Shape letters: B batch, T tokens, V vocabulary, E embedding, N filters, C classes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from textgan.config import ClassifierModelConfig


class TextCNN(nn.Module):
    """Kim (2014)-style CNN classifier; returns logits (B, C), never probabilities.

    Args:
        cfg: architecture.
        vocab_size: V.
        num_classes: C.
    """

    def __init__(self, cfg: ClassifierModelConfig, vocab_size: int, num_classes: int = 2) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Parameter(torch.randn(vocab_size, cfg.clf_embed_dim) * cfg.clf_embed_dim**-0.5)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.clf_embed_dim, cfg.clf_filters, w) for w in cfg.clf_filter_sizes)
        self.min_len = max(cfg.clf_filter_sizes)
        self.dropout = nn.Dropout(cfg.clf_dropout)
        self.out = nn.Linear(cfg.clf_filters * len(cfg.clf_filter_sizes), num_classes)

    def forward(self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, C) of LongTensor ids (B, T) or soft rows (B, T, V)."""
        if (ids is None) == (soft is None):
            raise ValueError("pass exactly one of ids (B, T) or soft (B, T, V)")
        emb = F.embedding(ids, self.embedding) if ids is not None else soft @ self.embedding  # (B, T, E)
        if emb.shape[1] < self.min_len:
            emb = F.pad(emb, (0, 0, 0, self.min_len - emb.shape[1]))
        x = emb.transpose(1, 2)  # (B, E, T)
        feats = torch.cat([F.relu(conv(x)).amax(dim=2) for conv in self.convs], dim=1)  # (B, K*N)
        return self.out(self.dropout(feats))
