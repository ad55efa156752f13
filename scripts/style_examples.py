"""Example transfers for the README, chosen by a seed (not by hand): N test sentences of each
style, their human rewrite (``reference.{0,1}``) and the run's transfer, as a Markdown table.

Usage: python scripts/style_examples.py --run runs/yelp-ppo --data ../shared/data/yelp [--n 10] [--seed 0]
    [--beam K [--style-rerank W] [--content-rerank W] [--content-order N] [--insert-penalty W]] [--no-repeat]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from textgan.runs import StyleRun, load


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="style-transfer run dir")
    p.add_argument("--data", required=True, help="style directory with test.{0,1} and reference.{0,1}")
    p.add_argument("--n", type=int, default=10, help="sentences per direction")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beam", type=int, default=1)
    p.add_argument("--style-rerank", type=float, default=0.0, metavar="W", help="as in textgan transfer")
    p.add_argument("--content-rerank", type=float, default=0.0, metavar="W", help="as in textgan transfer")
    p.add_argument("--content-order", type=int, default=2, metavar="N", help="as in textgan transfer")
    p.add_argument("--insert-penalty", type=float, default=0.0, metavar="W", help="as in textgan transfer")
    p.add_argument("--no-repeat", action="store_true", help="as in textgan transfer")
    a = p.parse_args()
    run = load(a.run)
    assert isinstance(run, StyleRun)
    rng = random.Random(a.seed)
    rows = ["| from → to | input | human rewrite | textgan |", "|---|---|---|---|"]
    for style in (0, 1):
        path = Path(a.data) / f"reference.{style}"
        pairs = [ln.split("\t", 1) for ln in path.read_text(encoding="utf-8").splitlines()]
        picked = sorted(rng.sample(range(len(pairs)), a.n))
        sources = [pairs[i][0] for i in picked]
        target = run.style_names[1 - style]
        outputs = run.transfer(
            sources,
            to=target,
            beam=a.beam,
            style_rerank=a.style_rerank,
            no_repeat=a.no_repeat,
            content_rerank=a.content_rerank,
            content_order=a.content_order,
            insert_penalty=a.insert_penalty,
        )
        for i, src, out in zip(picked, sources, outputs, strict=True):
            human = pairs[i][1].strip()
            shown = run.normalizer.detokenize(run.normalizer.tokenize(src))
            rows.append(f"| {run.style_names[style]} → {target} | {shown} | {human} | {out} |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
