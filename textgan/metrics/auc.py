"""ROC AUC of a score that should rank real text above generated text.

``roc_auc(real, fake)`` is the probability that a random real sentence scores higher than a
random generated one, ties counting one half (the Mann-Whitney U statistic over n_real · n_fake).
0.5 means the score carries no signal; 1.0 separates the two sets perfectly. It is how textgan
measures whether a critic f or a ratio discriminator D tells real from generated text.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def roc_auc(real: torch.Tensor | Sequence[float], fake: torch.Tensor | Sequence[float]) -> float:
    """P(score(real) > score(fake)) + 0.5 · P(tie), exactly, in O(n log n).

    Args:
        real: scores of real sentences (higher = more real).
        fake: scores of generated sentences.

    Raises:
        ValueError: an empty side, or a non-finite score.
    """
    pos = torch.as_tensor(real, dtype=torch.float64).flatten()
    neg = torch.as_tensor(fake, dtype=torch.float64).flatten()
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError("roc_auc: both sides need at least one score")
    scores = torch.cat([pos, neg])
    if not bool(torch.isfinite(scores).all()):
        raise ValueError("roc_auc: non-finite scores")
    # Mid-ranks (1-based, ties share the mean of their ranks): U = sum of real ranks - n(n+1)/2.
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    mid = ends - (counts.double() - 1) / 2  # mean rank of each distinct value
    ranks = mid[inverse]
    n_pos, n_neg = pos.numel(), neg.numel()
    u = float(ranks[:n_pos].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)
