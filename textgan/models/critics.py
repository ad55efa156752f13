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

import logging
import shutil
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from textgan.config import CriticConfig

log = logging.getLogger(__name__)
_CHUNK_ELEMENTS = 640_000  # conv outputs per chunk when searching the max-pool argmax
_SCORE_CHUNK_ELEMENTS = 1 << 20  # conv outputs per chunk when only scoring (no gradient)
_FUSED: dict[str, Any] = {}  # the compiled argmax search, built on first use ("fn"), or "failed"


def _best_windows_fused(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Argmax over time of a strided conv, written for ``torch.compile`` (one fused kernel: the
    (rows, N, T) outputs are never stored). x (rows, T, D), w (N, width, D) -> (rows, N)."""
    width, d = w.shape[1], w.shape[2]
    steps = x.shape[1] - width + 1
    xt = x.transpose(1, 2)
    acc = sum(w[None, :, k, j, None] * xt[:, None, j, k : k + steps] for k in range(width) for j in range(d))
    return acc.argmax(dim=2)  # type: ignore[union-attr]


def compiler_missing(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot build kernels for ``device`` here (None when it can, as far as
    can be told before trying): no C++ compiler for CPU, no Triton for CUDA."""
    if device.type == "cuda":
        from torch.utils._triton import has_triton

        return None if has_triton() else "Triton is not installed"
    if not any(shutil.which(c) for c in ("g++", "c++", "clang++", "cl")):
        return "no C++ compiler (g++, c++, clang++) on PATH"
    return None


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
        # One filter bank per width, shared by all representations (RelGAN's Conv2d with
        # kernel (w, E/R) and stride E/R over the R slices of the embedding).
        self.filter_sizes = tuple(cfg.filter_sizes)
        self.conv_weights = nn.ParameterList(
            nn.Parameter(torch.empty(cfg.num_filters, w * self.rep_dim)) for w in cfg.filter_sizes
        )
        self.conv_biases = nn.ParameterList(nn.Parameter(torch.zeros(cfg.num_filters)) for _ in cfg.filter_sizes)
        for weight in self.conv_weights:
            nn.init.kaiming_uniform_(weight, a=5**0.5)
        feat = cfg.num_filters * len(cfg.filter_sizes)
        self.highway = nn.Linear(feat, feat)
        self.dropout = nn.Dropout(cfg.critic_dropout)
        self.feature_to_hidden = nn.Linear(feat, 100)
        self.hidden_to_score = nn.Linear(100, 1)
        self.compiled = False  # --compile: the max-pool argmax search as one compiled kernel

    def use_compiler(self, on: bool = True) -> bool:
        """Run the max-pool argmax search through ``torch.compile`` (``--compile``). Where the
        compiler cannot work, one warning and the eager path; returns whether it is on."""
        if on and "failed" not in _FUSED:
            why = compiler_missing(self.embedding.device)
            if why:
                _FUSED["failed"] = why
                log.warning("--compile: %s; running without it", why)
        self.compiled = on and "failed" not in _FUSED
        return self.compiled

    def embed(self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, E) embeddings of ids (lookup) or soft rows (matmul)."""
        if (ids is None) == (soft is None):
            raise ValueError("pass exactly one of ids (B, T) or soft (B, T, V)")
        if ids is not None:
            return F.embedding(ids, self.embedding)
        return soft @ self.embedding  # type: ignore[operator]

    def _fused_argmax(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor | None:
        """The compiled argmax search, or None (after one warning) when compiling fails."""
        if "failed" in _FUSED:
            self.compiled = False
            return None
        if "fn" not in _FUSED:
            _FUSED["fn"] = torch.compile(_best_windows_fused)
        try:
            return _FUSED["fn"](x, w)
        except Exception as e:  # noqa: BLE001 - any compiler failure means: run eagerly
            _FUSED["failed"] = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            log.warning("--compile: torch.compile failed (%s); running without it", _FUSED["failed"])
            self.compiled = False
            return None

    def _max_pool_conv(self, x: torch.Tensor, width: int, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """``relu(max_t conv(x)_t)`` per row and filter: (B*R, T, E/R) -> (B*R, N).

        The argmax over time is found without autograd (a strided conv), then only
        the winning windows are recomputed differentiably. Forward values and
        (sub)gradients equal those of conv -> ReLU -> max-pool (ReLU commutes with
        max), but autograd never stores the (B*R, N, T) activations, which makes
        the critic step, and the double backward of the gradient penalty, several
        times cheaper.
        """
        rows, t, d = x.shape
        n = weight.shape[0]
        steps = max(t - width + 1, 1)
        fast = not torch.is_grad_enabled() and not torch.is_autocast_enabled(x.device.type)
        if fast and t >= width:  # scoring only (evaluation, resampling), in fp32: the same values as below
            # conv1d then the max over time, in row blocks whose (rows, N, T) outputs stay in cache
            # (3x faster than one call on CPU); no argmax search, no recomputation.
            w = weight.view(n, width, d).transpose(1, 2).to(x.dtype)  # (N, E/R, w)
            xt = x.transpose(1, 2)  # (B*R, E/R, T)
            chunk = rows if x.is_cuda else max(1, _SCORE_CHUNK_ELEMENTS // (n * steps))
            pooled = [F.conv1d(xt[i : i + chunk], w).amax(dim=2) for i in range(0, rows, chunk)]
            return F.relu(torch.cat(pooled) + bias.to(x.dtype))
        with torch.no_grad():
            w = weight.detach().view(n, width, d)
            best = self._fused_argmax(x.detach(), w) if self.compiled and t >= width else None
            if best is None:
                # conv_t = sum_k W[:, k] . x[t + k], accumulated in (rows, N, T) blocks small
                # enough to stay in cache (2-3x faster than one big conv, and layout-stable).
                xt = x.detach().transpose(1, 2)  # (B*R, E/R, T)
                chunk = rows if x.is_cuda else max(1, _CHUNK_ELEMENTS // (n * steps))  # GPUs prefer one launch
                parts = []
                for i in range(0, rows, chunk):
                    xs = xt[i : i + chunk]
                    acc = torch.zeros(xs.shape[0], n, steps, dtype=x.dtype, device=x.device)
                    for k in range(width):
                        for j in range(d):
                            acc.addcmul_(w[None, :, k, j, None], xs[:, None, j, k : k + steps])
                    parts.append(acc.max(dim=2).indices)  # max: 2.5x faster than argmax on CPU
                best = torch.cat(parts)  # (B*R, N)
        pos = best[..., None] + torch.arange(width, device=x.device)  # (B*R, N, w)
        flat = x.reshape(rows, t * d)
        cols = (pos[..., None] * d + torch.arange(d, device=x.device)).reshape(rows, -1)  # (B*R, N*w*E/R)
        windows = flat.gather(1, cols).view(rows, n, width * d)  # (B*R, N, w*E/R)
        return F.relu((windows * weight).sum(-1) + bias)

    def forward(self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B,) of LongTensor ids (B, T) or soft rows (B, T, V)."""
        return self.score_embedded(self.embed(ids, soft))

    def score_embedded(self, emb: torch.Tensor) -> torch.Tensor:
        """Scores (B,) of embedded inputs (B, T, E): ``forward`` after its first layer (the rows
        times the embedding), which is linear; the gradient penalty uses that (see
        ``losses.embedded_gradient_penalty``)."""
        b, t, _ = emb.shape
        if t < self.min_len:
            emb = F.pad(emb, (0, 0, 0, self.min_len - t))
        x = emb.view(b, -1, self.num_rep, self.rep_dim).transpose(1, 2)  # (B, R, T, E/R)
        x = x.reshape(b * self.num_rep, -1, self.rep_dim)  # (B*R, T, E/R)
        pools = [
            self._max_pool_conv(x, w, weight, bias)
            for w, weight, bias in zip(self.filter_sizes, self.conv_weights, self.conv_biases, strict=True)
        ]
        feat = torch.cat(pools, dim=1)  # (B*R, K*N)
        high = self.highway(feat).to(feat.dtype)  # bf16 under autocast; the gating runs in feat's fp32
        gate = torch.sigmoid(high)
        feat = feat.lerp(F.relu(high), gate)  # gate * relu(high) + (1 - gate) * feat, in one kernel
        hidden = self.feature_to_hidden(self.dropout(feat))  # (B*R, 100)
        scores = self.hidden_to_score(hidden).view(b, self.num_rep)  # (B, R)
        return scores.mean(dim=1)
