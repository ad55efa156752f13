"""How far can any rerank of a style run's beam go? An oracle that sees the human rewrites.

One beam search over the test split (as ``textgan eval style --beam K``), then, for each sentence,
the hypothesis an oracle would pick: the highest BLEU-ref (nltk sentence BLEU-4 against the first
human rewrite, the table's metric) among the hypotheses the *evaluator* reads as the target style,
or among all of them when none is. No rerank of that beam, by any score, can beat the oracle's
BLEU-ref at its accuracy; if that ceiling is below a target, the target needs another beam (another
model or decoder), not another rerank. Printed beside it: plain beam search (the highest
length-normalised log-probability), the unchanged input, and the ceiling with the input itself
added to the beam.

    python scripts/style_beam_ceiling.py --run RUN --data ../shared/data/yelp --classifier runs/yelp-clf \\
        --beam 16 --no-repeat [--json OUT.json]

Refuses a bad run, data or classifier directory with one ``error:`` line (exit 2).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def ceiling(
    hyps: list[list[str]],
    source: list[str],
    ref: list[str],
    target: int,
    read: list[int],
    bleu: dict,
) -> tuple[float, bool]:
    """(BLEU-ref ×100, target style reached) of the oracle's pick among ``hyps`` (evaluator readings ``read``)."""
    from textgan.metrics.style import paired_bleu4

    def score(h: list[str]) -> float:
        key = (tuple(h), tuple(ref))
        if key not in bleu:
            bleu[key] = paired_bleu4([h], [[ref]])
        return bleu[key]

    hit = [h for h, r in zip(hyps, read, strict=True) if r == target]
    pool = hit or hyps or [source]
    return max(score(h) for h in pool), bool(hit)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="style-transfer run dir")
    p.add_argument("--data", required=True, help="style directory with test.{0,1} and human rewrites")
    p.add_argument("--classifier", required=True, help="the evaluator (textgan train classifier run)")
    p.add_argument("--beam", type=int, default=16)
    p.add_argument("--no-repeat", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    a = p.parse_args(argv)
    from textgan.utils import UserError

    try:
        return run(a)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(a: argparse.Namespace) -> int:
    from textgan.decoding import beam_tokens
    from textgan.metrics.style import paired_bleu4, transfer_split
    from textgan.runs import load_classifier, load_style_run, predict_styles
    from textgan.utils import UserError

    if a.beam < 2:
        raise UserError("--beam: must be >= 2 (the ceiling of a rerank needs a beam to rank)")
    start = time.time()
    model, _, vocab, cfg = load_style_run(a.run, a.device)
    evaluator, ev_vocab, _ = load_classifier(a.classifier, a.device)
    sources, targets, refs, toks = transfer_split(a.data, cfg, vocab, "test")
    if not any(refs):
        raise UserError(f"--data {a.data}: no human rewrites (reference.0 / reference.1) to score against")
    beams = beam_tokens(model, vocab, toks, targets, a.beam, no_repeat=a.no_repeat)
    hyps = beams.hypotheses()
    plain = beams.choose(None)  # plain beam search: the highest length-normalised log-probability
    flat = [" ".join(h) for hs in hyps for h in hs]
    read = predict_styles(evaluator, ev_vocab, flat)
    bleu: dict = {}
    plain_read = predict_styles(evaluator, ev_vocab, [" ".join(t) for t in plain])
    rows: dict[str, list[tuple[float, bool]]] = {"beam_search": [], "oracle": [], "oracle_with_copy": [], "copy": []}
    at = 0
    copy_read = predict_styles(evaluator, ev_vocab, sources)
    for i, (hs, src, tgt) in enumerate(zip(hyps, sources, targets, strict=True)):
        r = read[at : at + len(hs)]
        at += len(hs)
        if not refs[i]:
            continue
        ref = list(refs[i][0])
        s = src.split()
        rows["beam_search"].append((paired_bleu4([plain[i]], [[ref]]), plain_read[i] == tgt))
        rows["oracle"].append(ceiling(hs, s, ref, tgt, r, bleu))
        rows["oracle_with_copy"].append(ceiling([*hs, s], s, ref, tgt, [*r, copy_read[i]], bleu))
        rows["copy"].append((paired_bleu4([s], [[ref]]), copy_read[i] == tgt))
    out = {}
    for name, vals in rows.items():
        out[name] = {
            "accuracy": round(100.0 * sum(h for _, h in vals) / len(vals), 2),
            "bleu_ref": round(math.fsum(b for b, _ in vals) / len(vals), 2),
        }
        print(f"{name:<18} accuracy {out[name]['accuracy']:6.2f}   BLEU-ref {out[name]['bleu_ref']:6.2f}")
    wall = time.time() - start
    print(f"({len(rows['beam_search'])} test sentences with a rewrite, beam {a.beam}; {wall:.0f} s)")
    if a.json:
        meta = {"run": a.run, "beam": a.beam, "no_repeat": a.no_repeat, "seconds": round(wall)}
        Path(a.json).write_text(json.dumps({**meta, **out}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
