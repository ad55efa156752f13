"""The quality-diversity frontier of a language model under a temperature sweep.

A single sampling temperature proves little: dividing the logits by T < 1 raises
sample quality (BLEU, NLL_oracle) and lowers diversity (self-BLEU up, NLL_test up).
Caccia et al. ("Language GANs Falling Short", ICLR 2020) therefore compare models by
the whole curve a sweep of T traces. Each point here is one temperature:

- quality: BLEU-n of samples against the whole test split; on synthetic data, the
  oracle's per-token NLL of the samples (``nll_oracle``, lower is better);
- diversity: self-BLEU-n of the samples (lower is more diverse); ``nll_test``, the
  per-token NLL of the test split under the tempered model ``softmax(logits / T)``
  (lower means the model covers the data better).

Every temperature reuses the same sampling seed (common random numbers), so the
curve is smooth in T rather than noisy from point to point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import torch

from textgan.metrics.ngrams import bleu, self_bleu
from textgan.metrics.nll import nll_gen, nll_oracle
from textgan.models.generators import Generator, generate_ids

DEFAULT_TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1)


def parse_temperatures(text: str) -> tuple[float, ...]:
    """``"0.7,0.8,1"`` -> ``(0.7, 0.8, 1.0)``; raises ValueError unless every T is a number > 0."""
    try:
        temps = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--temperatures: expected comma-separated numbers, got {text!r}") from None
    if not temps or not all(math.isfinite(t) and t > 0 for t in temps):
        raise ValueError("--temperatures: every temperature must be > 0 (and finite)")
    return temps


@torch.no_grad()
def frontier(
    generator: Generator,
    corpus: Any,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    samples_per_point: int = 1000,
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 4, 5),
    batch_size: int = 500,
) -> list[dict[str, float]]:
    """Quality and diversity of ``generator`` at each temperature.

    Args:
        generator: a trained textgan generator.
        corpus: the run's ``Corpus`` (``test`` ids, ``test_words``, ``oracle`` or None).
        temperatures: the sweep, each > 0.
        samples_per_point: N sentences sampled per temperature.
        seed: sampling seed, the same for every temperature.
        ns: BLEU orders.
        batch_size: sentences per sampling batch.

    Returns:
        One dict per temperature, in the given order: ``temperature``, ``samples``,
        ``nll_test``, ``nll_oracle`` (synthetic data only), ``bleu{n}``, ``self_bleu{n}``,
        ``seconds``.
    """
    device = generator.banned.device
    was_training = generator.training
    generator.eval()  # also for nll_gen, which restores the mode it finds
    points = []
    for temp in temperatures:
        t0 = time.time()
        rng = torch.Generator(device=device).manual_seed(seed)
        ids = generate_ids(generator, samples_per_point, rng, batch_size, temperature=float(temp))
        point: dict[str, float] = {"temperature": float(temp), "samples": samples_per_point}
        point["nll_test"] = nll_gen(generator, corpus.test, temperature=float(temp))
        if corpus.oracle is not None:
            point["nll_oracle"] = nll_oracle(corpus.oracle, corpus.to_oracle_ids(ids))
        words = [t.split() for t in corpus.detokenize(ids)]
        point.update(bleu(words, corpus.test_words, tuple(ns)))
        point.update(self_bleu(words, tuple(ns)))
        point["seconds"] = round(time.time() - t0, 3)
        points.append(point)
    generator.train(was_training)
    return points


def value_at(points: Sequence[dict[str, float]], x_key: str, x: float, y_key: str) -> float | None:
    """``y_key`` at the point of the curve where ``x_key`` equals ``x`` (linear interpolation).

    The points are sorted by ``x_key``; between two neighbours that bracket ``x`` the
    value is interpolated linearly. Returns None when ``x`` lies outside the swept range.
    """
    pts = sorted((p[x_key], p[y_key]) for p in points if x_key in p and y_key in p)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    if pts and pts[0][0] == x:
        return pts[0][1]
    return None
