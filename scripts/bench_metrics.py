"""Benchmark textgan's BLEU / self-BLEU against nltk (and fast-bleu when installed) on COCO.

In one run:
  1. BLEU-2..5 of 100 hypotheses (COCO train sentences) against the 10,000 COCO test
     sentences: textgan vs nltk (vs fast-bleu), times, speed-up, max |delta|.
  2. self-BLEU-2..5 of 500 sentences: the same comparison.
  3. textgan alone: BLEU of 10,000 hypotheses, self-BLEU of 10,000 sentences.
The nltk protocol is Texygen's: sentence_bleu(references, hyp, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1), averaged; self-BLEU scores each
sentence against all the others. Skips cleanly (exit 0) without the data.

Usage: python scripts/bench_metrics.py [--data ../shared/data/coco] [--hyps 100] [--self 500]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from textgan.data.vocab import Tokenizer
from textgan.metrics.ngrams import self_bleu_scores, sentence_bleu_scores

NS = (2, 3, 4, 5)


def nltk_bleu(hyps, refs_for):
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    sf = SmoothingFunction().method1
    out = {n: [] for n in NS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, hyp in enumerate(hyps):
            refs = refs_for(i)
            for n in NS:
                out[n].append(sentence_bleu(refs, hyp, weights=tuple(1.0 / n for _ in range(n)), smoothing_function=sf))
    return out


def fast_bleu_scores(hyps, refs, self_mode: bool):
    try:
        import fast_bleu
    except ImportError:
        return None
    weights = {n: tuple(1.0 / n for _ in range(n)) for n in NS}
    if self_mode:
        scores = fast_bleu.SelfBLEU(hyps, weights).get_score()
    else:
        scores = fast_bleu.BLEU(refs, weights).get_score(hyps)
    return {n: scores[n] for n in NS}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def max_delta(a, b) -> float:
    return max(abs(x - y) for n in NS for x, y in zip(a[n], b[n], strict=True))


def report(title: str, ours, t_ours: float, nltk, t_nltk: float, fast, t_fast: float | None) -> None:
    print(f"\n{title}")
    print(f"  {'':10}{'seconds':>10}{'speed-up vs nltk':>18}{'max |delta| vs nltk':>22}")
    print(f"  {'nltk':10}{t_nltk:10.3f}{1.0:17.1f}x{0.0:22.1e}")
    if fast is not None:
        print(f"  {'fast-bleu':10}{t_fast:10.3f}{t_nltk / t_fast:17.1f}x{max_delta(fast, nltk):22.1e}")
    print(f"  {'textgan':10}{t_ours:10.3f}{t_nltk / t_ours:17.1f}x{max_delta(ours, nltk):22.1e}")
    mean = {n: sum(ours[n]) / len(ours[n]) for n in NS}
    print("  textgan means: " + "  ".join(f"BLEU-{n}={mean[n]:.4f}" for n in NS))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco"))
    p.add_argument("--hyps", type=int, default=100)
    p.add_argument("--self", dest="n_self", type=int, default=500)
    a = p.parse_args()
    root = Path(a.data)
    if not (root / "train.txt").is_file() or not (root / "test.txt").is_file():
        print(f"skip: no COCO data at {root}")
        return 0
    tok = Tokenizer("nltk", lowercase=True)
    train = [tok.tokenize(s) for s in (root / "train.txt").read_text(encoding="utf-8").splitlines()]
    test = [tok.tokenize(s) for s in (root / "test.txt").read_text(encoding="utf-8").splitlines()]
    print(f"COCO (NLTK tokens, lowercased): {len(train)} train, {len(test)} test sentences; BLEU-2..5, method1")

    hyps = train[: a.hyps]
    ours, t_ours = timed(lambda: sentence_bleu_scores(hyps, test, NS))
    nltk, t_nltk = timed(lambda: nltk_bleu(hyps, lambda i: test))
    fast, t_fast = timed(lambda: fast_bleu_scores(hyps, test, False))
    report(f"1. BLEU: {len(hyps)} hypotheses x {len(test)} references", ours, t_ours, nltk, t_nltk, fast, t_fast)

    sents = train[: a.n_self]
    ours, t_ours = timed(lambda: self_bleu_scores(sents, NS))
    nltk, t_nltk = timed(lambda: nltk_bleu(sents, lambda i: sents[:i] + sents[i + 1 :]))
    fast, t_fast = timed(lambda: fast_bleu_scores(sents, None, True))
    report(f"2. self-BLEU: {len(sents)} sentences", ours, t_ours, nltk, t_nltk, fast, t_fast)

    print("\n3. textgan alone")
    _, t = timed(lambda: sentence_bleu_scores(train, test, NS))
    print(f"  BLEU-2..5 of {len(train)} hypotheses x {len(test)} references: {t:.3f} s")
    _, t = timed(lambda: self_bleu_scores(train, NS))
    print(f"  self-BLEU-2..5 of {len(train)} sentences: {t:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
