"""The synthetic oracle: a randomly initialised LSTM that is the true distribution.

SeqGAN/RelGAN setting: vocabulary 5000, hidden 32, length 20, weights drawn from
N(0, 1) with a fixed seed, 10,000 training sentences sampled from it.
NLL_oracle is the oracle's per-token negative log-likelihood of generated text.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class OracleLSTM(nn.Module):
    """A fixed random LSTM language model over ids ``0..V-1``.

    Args:
        vocab_size: V, the number of oracle tokens.
        hidden_dim: H, the embedding and hidden size.
        seed: seed of the N(0, 1) weights.
    """

    def __init__(self, vocab_size: int, hidden_dim: int, seed: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        # Row V is the start token.
        self.embed = nn.Embedding(vocab_size + 1, hidden_dim)
        self.lstm = nn.LSTM(hidden_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        self.requires_grad_(False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits.

        Args:
            ids: LongTensor (B, T) of oracle ids.

        Returns:
            Logits (B, T, V) predicting each position.
        """
        start = torch.full_like(ids[:, :1], self.vocab_size)
        inputs = torch.cat([start, ids[:, :-1]], dim=1)  # (B, T)
        hidden, _ = self.lstm(self.embed(inputs))  # (B, T, H)
        return self.out(hidden)

    @torch.no_grad()
    def sample(self, n: int, length: int, generator: torch.Generator, batch_size: int = 1000) -> torch.Tensor:
        """Draw ``n`` sentences of ``length`` tokens: LongTensor (n, length)."""
        chunks = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            tok = torch.full((b,), self.vocab_size, dtype=torch.long)
            state = None
            out = []
            for _ in range(length):
                h, state = self.lstm(self.embed(tok)[:, None, :], state)  # (b, 1, H)
                probs = F.softmax(self.out(h[:, 0]), dim=-1)  # (b, V)
                tok = torch.multinomial(probs, 1, generator=generator)[:, 0]
                out.append(tok)
            chunks.append(torch.stack(out, dim=1))
        return torch.cat(chunks, dim=0)

    @torch.no_grad()
    def nll(self, ids: torch.Tensor) -> float:
        """Mean per-token NLL (nats) of oracle ids ``(B, T)`` under the oracle."""
        logits = self(ids)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), ids.reshape(-1)).item()
