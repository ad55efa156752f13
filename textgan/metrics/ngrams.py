"""Exact, fast sentence-level BLEU and self-BLEU (the text-GAN protocol), and sacrebleu.

The text-GAN papers (Texygen, RelGAN, TextGAN-PyTorch, PAPER.md "Tasks") report the
mean over hypotheses of nltk's ``sentence_bleu(all_references, hyp, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1)``. Because every hypothesis shares
the same references, the clipped n-gram counts need only one table, the largest
count of each n-gram in any reference, and the brevity penalty only the sorted set
of reference lengths. Both are built with vectorised integer operations: n-grams
of every order get dense integer ranks (``rank_n = rank(rank_{n-1} * K + token)``),
so counting is sorting. The final floats are computed exactly as nltk computes
them (``num / den`` of Python ints, ``math.log``, ``math.fsum``, ``math.exp``),
so the results are identical to nltk, not merely close.

Self-BLEU scores each sentence against all the others. Per n-gram we keep the
largest count, how many sentences hold it, and the second largest, so "the
largest count in any *other* sentence" is O(1) per n-gram.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

SMOOTHINGS = ("method0", "method1", "method2")
_EPSILON = 0.1  # nltk SmoothingFunction().epsilon, used by method1
_FLOAT_MIN = 2.2250738585072014e-308  # sys.float_info.min, nltk method0's stand-in for 0


def _encode(sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flatten token lists to dense ints: tokens (L,), sentence index (L,), position (L,), lengths (N,)."""
    vocab: dict[str, int] = {}
    flat = [vocab.setdefault(tok, len(vocab)) for sent in sentences for tok in sent]
    lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    tokens = np.asarray(flat, dtype=np.int64)
    sent = np.repeat(np.arange(len(sentences), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(len(tokens), dtype=np.int64) - np.repeat(starts, lengths)
    return tokens, sent, pos, lengths


def _ngram_counts(
    sentences: Sequence[Sequence[str]], max_n: int
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray]:
    """For each order n = 1..max_n: unique (sentence, n-gram rank) pairs with their counts.

    Returns:
        A list indexed by n - 1 of (sentence ids, n-gram ranks, counts), and the lengths.
    """
    tokens, sent, pos, lengths = _encode(sentences)
    out = []
    rank = tokens  # rank of the n-gram starting at each position (valid where it fits)
    base = int(tokens.max()) + 1 if len(tokens) else 1
    for n in range(1, max_n + 1):
        if n > 1:  # extend each (n-1)-gram by the next token; dense ranks keep values small
            rank = np.unique(rank * base + _shift(tokens, n - 1), return_inverse=True)[1].reshape(-1)
        valid = pos + n <= lengths[sent]
        keys, sids = rank[valid], sent[valid]
        n_ranks = int(rank.max()) + 1 if len(rank) else 1
        pairs, counts = np.unique(sids * n_ranks + keys, return_counts=True)
        out.append((pairs // n_ranks, pairs % n_ranks, counts))
    return out, lengths


def _shift(tokens: np.ndarray, k: int) -> np.ndarray:
    """``tokens[i + k]`` at position i (0 past the end; such n-grams are masked as invalid)."""
    out = np.zeros_like(tokens)
    if k < len(tokens):
        out[: len(tokens) - k] = tokens[k:]
    return out


def _closest_lengths(hyp_lens: np.ndarray, ref_lens_sorted: np.ndarray) -> np.ndarray:
    """nltk's closest reference length: smallest |r - h|, ties to the shorter reference."""
    idx = np.searchsorted(ref_lens_sorted, hyp_lens, side="left")
    lower = ref_lens_sorted[np.clip(idx - 1, 0, len(ref_lens_sorted) - 1)]
    upper = ref_lens_sorted[np.clip(idx, 0, len(ref_lens_sorted) - 1)]
    has_lower = idx > 0
    has_upper = idx < len(ref_lens_sorted)
    take_upper = has_upper & (~has_lower | ((upper - hyp_lens) < (hyp_lens - lower)))
    return np.where(take_upper, upper, lower)


def _scores(
    nums: np.ndarray,
    dens: np.ndarray,
    hyp_lens: list[int],
    ref_lens: list[int],
    ns: Sequence[int],
    smoothing: str,
) -> dict[int, list[float]]:
    """Per-hypothesis BLEU for each n, computed the way nltk's corpus_bleu does.

    Args:
        nums, dens: (max_n, H) clipped matches and n-gram totals (already max(1, .)).
    """
    num_l, den_l = nums.tolist(), dens.tolist()
    out: dict[int, list[float]] = {n: [] for n in ns}
    for i, (hl, rl) in enumerate(zip(hyp_lens, ref_lens, strict=True)):
        if num_l[0][i] == 0:
            for n in ns:
                out[n].append(0.0)
            continue
        bp = 1.0 if hl > rl else (0.0 if hl == 0 else math.exp(1 - rl / hl))
        p: list[float] = []
        for k in range(max(ns)):
            num, den = num_l[k][i], den_l[k][i]
            if num:
                p.append(num / den if not (smoothing == "method2" and k > 0) else (num + 1) / (den + 1))
            elif smoothing == "method1":
                p.append((num + _EPSILON) / den)
            elif smoothing == "method2" and k > 0:
                p.append((num + 1) / (den + 1))
            else:
                p.append(_FLOAT_MIN)
        for n in ns:
            w = 1.0 / n
            out[n].append(bp * math.exp(math.fsum(w * math.log(pk) for pk in p[:n] if pk > 0)))
    return out


def _select(count: int, max_hypotheses: int | None, seed: int) -> list[int]:
    if max_hypotheses is None or max_hypotheses >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), max_hypotheses))


def _check_args(ns: Sequence[int], smoothing: str) -> None:
    if not ns or any(int(n) < 1 for n in ns):
        raise ValueError(f"BLEU orders must be >= 1, got {list(ns)}")
    if smoothing not in SMOOTHINGS:
        raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}, got {smoothing!r}")


def sentence_bleu_scores(
    hypotheses: Sequence[Sequence[str]],
    references: Sequence[Sequence[str]],
    ns: Sequence[int] = (2, 3, 4, 5),
    smoothing: str = "method1",
) -> dict[int, list[float]]:
    """Per-hypothesis nltk sentence BLEU against the shared references, for each order n."""
    _check_args(ns, smoothing)
    if not references:
        raise ValueError("BLEU needs at least one reference sentence")
    max_n = max(ns)
    h = len(hypotheses)
    counts, lengths = _ngram_counts(list(hypotheses) + list(references), max_n)
    nums = np.zeros((max_n, h), dtype=np.int64)
    dens = np.ones((max_n, h), dtype=np.int64)
    for k, (sids, keys, cnt) in enumerate(counts):
        is_ref = sids >= h
        n_ranks = int(keys.max()) + 1 if len(keys) else 1
        ref_max = np.zeros(n_ranks, dtype=np.int64)
        np.maximum.at(ref_max, keys[is_ref], cnt[is_ref])
        hs, hk, hc = sids[~is_ref], keys[~is_ref], cnt[~is_ref]
        nums[k] = np.bincount(hs, weights=np.minimum(hc, ref_max[hk]), minlength=h).astype(np.int64)
        dens[k] = np.maximum(1, np.bincount(hs, weights=hc, minlength=h).astype(np.int64))
    hyp_lens = lengths[:h]
    ref_sorted = np.unique(lengths[h:])
    closest = _closest_lengths(hyp_lens, ref_sorted)
    return _scores(nums, dens, hyp_lens.tolist(), closest.tolist(), ns, smoothing)


def bleu(
    hypotheses: Sequence[Sequence[str]],
    references: Sequence[Sequence[str]],
    ns: Sequence[int] = (2, 3, 4, 5),
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
    smoothing: str = "method1",
) -> dict[str, float]:
    """Mean sentence BLEU-n of hypotheses against all references (identical to nltk).

    Args:
        hypotheses: tokenised generated sentences.
        references: tokenised reference sentences (the whole test set), shared by all.
        ns: BLEU orders; BLEU-n uses uniform weights over 1..n-grams.
        max_hypotheses: score a seeded random subset of this many hypotheses
            (RelGAN scores 100, TextGAN-PyTorch 200); None scores all, which this
            implementation makes cheap and which has the lowest variance.
        seed: seed of that subset.
        smoothing: nltk ``SmoothingFunction`` method: method1 (the protocol), method0, method2.

    Returns:
        ``{"bleu2": ..., "bleu3": ...}`` floats in [0, 1].

    Raises:
        ValueError: no hypotheses, no references, bad orders or smoothing.
    """
    if not hypotheses:
        raise ValueError("BLEU needs at least one hypothesis")
    picked = _select(len(hypotheses), max_hypotheses, seed)
    scores = sentence_bleu_scores([hypotheses[i] for i in picked], references, ns, smoothing)
    return {f"bleu{n}": math.fsum(scores[n]) / len(picked) for n in ns}


def self_bleu_scores(
    sentences: Sequence[Sequence[str]],
    ns: Sequence[int] = (2, 3, 4, 5),
    smoothing: str = "method1",
) -> dict[int, list[float]]:
    """Per-sentence nltk BLEU of each sentence against all the other sentences."""
    _check_args(ns, smoothing)
    s = len(sentences)
    if s < 2:
        raise ValueError("self-BLEU needs at least 2 sentences (each is scored against the others)")
    max_n = max(ns)
    counts, lengths = _ngram_counts(sentences, max_n)
    nums = np.zeros((max_n, s), dtype=np.int64)
    dens = np.ones((max_n, s), dtype=np.int64)
    for k, (sids, keys, cnt) in enumerate(counts):
        if len(keys) == 0:
            continue
        n_ranks = int(keys.max()) + 1
        order = np.lexsort((-cnt, keys))  # by n-gram, largest count first
        ks, cs = keys[order], cnt[order]
        first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        size = np.diff(np.r_[first, len(ks)])
        top1 = np.zeros(n_ranks, dtype=np.int64)
        top2 = np.zeros(n_ranks, dtype=np.int64)
        top1[ks[first]] = cs[first]
        second = first[size > 1] + 1
        top2[ks[second]] = cs[second]
        holders = np.add.reduceat((cs == top1[ks]).astype(np.int64), first)
        n_top1 = np.zeros(n_ranks, dtype=np.int64)
        n_top1[ks[first]] = holders
        others = np.where((cnt == top1[keys]) & (n_top1[keys] == 1), top2[keys], top1[keys])
        nums[k] = np.bincount(sids, weights=np.minimum(cnt, others), minlength=s).astype(np.int64)
        dens[k] = np.maximum(1, np.bincount(sids, weights=cnt, minlength=s).astype(np.int64))
    uniq, ucount = np.unique(lengths, return_counts=True)
    shared = ucount[np.searchsorted(uniq, lengths)] > 1  # another sentence has the same length
    closest = lengths.copy()
    for i in np.flatnonzero(~shared).tolist():  # few: lengths that occur once
        rest = uniq[uniq != lengths[i]]
        closest[i] = _closest_lengths(lengths[i : i + 1], rest)[0]
    return _scores(nums, dens, lengths.tolist(), closest.tolist(), ns, smoothing)


def self_bleu(
    sentences: Sequence[Sequence[str]],
    ns: Sequence[int] = (2, 3, 4, 5),
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
    smoothing: str = "method1",
) -> dict[str, float]:
    """Mean BLEU-n of each sentence against all the others (diversity; lower is more diverse).

    Args:
        sentences: tokenised generated sentences (at least 2).
        ns, smoothing: as for :func:`bleu`.
        max_hypotheses: average over a seeded subset of this many sentences; each is
            still scored against all the other sentences.
        seed: seed of that subset.

    Returns:
        ``{"self_bleu2": ..., ...}``.

    Raises:
        ValueError: fewer than 2 sentences.
    """
    scores = self_bleu_scores(sentences, ns, smoothing)
    picked = _select(len(sentences), max_hypotheses, seed)
    return {f"self_bleu{n}": math.fsum(scores[n][i] for i in picked) / len(picked) for n in ns}


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    tokenize: str = "none",
) -> float:
    """Corpus BLEU (0-100) with sacrebleu, for reporting.

    Args:
        hypotheses: detokenised or pre-tokenised output lines.
        references: one reference line per hypothesis, or several streams
            (a list of lists, each line-aligned with the hypotheses).
        tokenize: sacrebleu tokenizer: ``none`` for pre-tokenised text, ``13a`` for raw text.
    """
    import sacrebleu

    if references and isinstance(references[0], str):
        streams = [list(references)]  # type: ignore[arg-type]
    else:
        streams = [list(r) for r in references]  # type: ignore[union-attr]
    for stream in streams:
        if len(stream) != len(hypotheses):
            raise ValueError(f"corpus BLEU: {len(hypotheses)} hypotheses but a reference stream of {len(stream)}")
    # force: pre-tokenised input is intended with tokenize="none" (silences sacrebleu's warning).
    return float(sacrebleu.corpus_bleu(list(hypotheses), streams, tokenize=tokenize, force=True).score)
