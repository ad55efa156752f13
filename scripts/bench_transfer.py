"""Benchmark ``textgan transfer`` throughput (sentences/s) on CPU.

Transfers the Yelp test sentences (both styles, to the other style) with
``transfer_sentences``: greedy in batches of 256 and beam search (K=4) in batches,
against a baseline measured in the same run: greedy decoding one sentence at a time,
as a per-sentence script loop would call the model. Also prints the time of the first
call, which includes model loading.

Then a rerank grid (``--grid G`` settings of beam 16 with ``--no-repeat``: content weights at
orders 2 and 4, plus style weight 1 under the run's classifier when ``--run`` is given), as
``eval style`` and ``style_decode_sweep.py`` score it: one beam search whose kept beams are ranked
once per setting (``beam_tokens`` + ``Beams.choose``), against the baseline of one beam search per
setting, and a check that both give the same outputs.

With ``--run RUN_DIR`` (a ``textgan train style`` run) the trained model is timed;
without it, an untrained model of the yelp preset's sizes on the data's vocabulary,
whose outputs never stop early (every output runs to max_len: the slowest case).

Usage: python scripts/bench_transfer.py [--run RUN_DIR] [--data ../shared/data/yelp]
       [--sentences 1000] [--threads 1 2] [--device cpu]
Skips cleanly (exit 0) when the data directory is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from textgan.config import STYLE_PRESETS
from textgan.data.style import load_style_corpus
from textgan.data.vocab import Tokenizer
from textgan.decoding import Rerank, beam_tokens, transfer_sentences
from textgan.models.style import StyleTransferModel
from textgan.runs import load_style_run


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device: str) -> tuple[float, list[str]]:
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, help="trained style run dir (default: untrained yelp-sized model)")
    p.add_argument("--data", default="../shared/data/yelp", help="style directory with test.0 / test.1")
    p.add_argument("--sentences", type=int, default=1000, help="sentences transferred per measurement")
    p.add_argument("--baseline-sentences", type=int, default=200, help="sentences for the one-at-a-time baseline")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to time")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precisions", default="fp32,bf16", help="transfer --precision values to time (comma-separated)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--grid", type=int, default=8, help="rerank settings in the grid timing (0: skip it)")
    p.add_argument("--grid-sentences", type=int, default=200, help="sentences of the grid timing")
    a = p.parse_args(argv)
    if not Path(a.data).is_dir():
        print(f"skipped: {a.data} not found", file=sys.stderr)
        return 0

    t0 = time.perf_counter()
    classifier = None
    if a.run:
        model, classifier, vocab, cfg = load_style_run(a.run, a.device)
        lowercase, what = cfg.data.lowercase, f"trained run {a.run}"
    else:
        preset = STYLE_PRESETS["yelp"]
        corpus = load_style_corpus(a.data, max_len=preset.data.max_len)
        torch.manual_seed(0)
        model = StyleTransferModel(preset.model, len(corpus.vocab), corpus.max_len).to(a.device).eval()
        vocab, lowercase, what = corpus.vocab, False, "untrained yelp-preset model (outputs run to max_len)"
    load_s = time.perf_counter() - t0
    tokenizer = Tokenizer("space", lowercase)
    sources, targets = [], []
    for style in (0, 1):
        lines = (Path(a.data) / f"test.{style}").read_text(encoding="utf-8").splitlines()
        sources += lines
        targets += [1 - style] * len(lines)
    reps = -(-a.sentences // len(sources))
    sources, targets = (sources * reps)[: a.sentences], (targets * reps)[: a.sentences]
    n_base = min(a.baseline_sentences, len(sources))
    print(f"model: {what}; vocab {len(vocab)}, max_len {model.max_len}; loaded in {load_s:.2f} s; device {a.device}")
    print(f"{len(sources)} sentences (baseline: {n_base}, one at a time)\n")
    bs = a.batch_size
    print(
        f"| threads | precision | one at a time, fp32 (baseline) | greedy, batch {bs} | speed-up | beam 4, batch {bs} "
        "| outputs equal to fp32 (greedy) |"
    )
    print("|---|---|---|---|---|---|---|")
    for threads in a.threads:
        torch.set_num_threads(threads)
        transfer_sentences(model, vocab, tokenizer, sources[:64], targets[:64])  # warm-up
        base_s, _ = _timed(
            lambda: [
                transfer_sentences(model, vocab, tokenizer, [s], [t], batch_size=1)
                for s, t in zip(sources[:n_base], targets[:n_base], strict=True)
            ],
            a.device,
        )
        base_rate = n_base / base_s
        reference = None
        for precision in a.precisions.split(","):
            kw = {"batch_size": bs, "precision": precision}
            transfer_sentences(model, vocab, tokenizer, sources[:64], targets[:64], **kw)  # warm-up
            greedy_s, out = _timed(
                lambda kw=kw: transfer_sentences(model, vocab, tokenizer, sources, targets, **kw), a.device
            )
            beam_s, _ = _timed(
                lambda kw=kw: transfer_sentences(model, vocab, tokenizer, sources, targets, beam=4, **kw), a.device
            )
            reference = reference or out
            same = sum(x == y for x, y in zip(out, reference, strict=True)) / len(out)
            greedy_rate, beam_rate = len(sources) / greedy_s, len(sources) / beam_s
            print(
                f"| {threads} | {precision} | {base_rate:,.0f} sent/s | {greedy_rate:,.0f} sent/s | "
                f"**{greedy_rate / base_rate:.1f}x** | {beam_rate:,.0f} sent/s | {same:.1%} |"
            )
    if a.grid:
        bench_grid(a, model, classifier, vocab, tokenizer, sources[: a.grid_sentences], targets[: a.grid_sentences])
    return 0


def bench_grid(a, model, classifier, vocab, tokenizer, sources, targets) -> None:
    """One beam search ranked under every setting of a rerank grid, against one beam search per setting."""
    style = 1.0 if classifier is not None else 0.0
    grid = [Rerank(classifier, style, w, order) for w in (6, 8, 10, 12, 16, 20) for order in (2, 4)][: a.grid]
    toks = [tokenizer.tokenize(s) for s in sources]
    print(f"\nrerank grid: {len(grid)} settings, beam 16, --no-repeat, {len(sources)} sentences")
    print(
        "| threads | one beam search per setting (baseline) | one beam search, ranked per setting | speed-up | same outputs |"
    )
    print("|---|---|---|---|---|")
    for threads in a.threads:
        torch.set_num_threads(threads)
        kw = {"beam": 16, "no_repeat": True, "batch_size": a.batch_size}
        base_s, base = _timed(
            lambda kw=kw: [transfer_sentences(model, vocab, tokenizer, sources, targets, rerank=r, **kw) for r in grid],
            a.device,
        )

        def ranked() -> list[list[str]]:
            beams = beam_tokens(model, vocab, toks, targets, 16, batch_size=a.batch_size, no_repeat=True)
            return [[" ".join(t) for t in beams.choose(r)] for r in grid]

        grid_s, out = _timed(ranked, a.device)
        print(
            f"| {threads} | {base_s:.1f} s | {grid_s:.1f} s | **{base_s / grid_s:.1f}x** | "
            f"{'yes' if out == base else 'NO'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
