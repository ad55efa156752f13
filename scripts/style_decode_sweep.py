"""Tune a style run's decoding on the dev split, then score the chosen flags on test.

Every combination of ``--beams``, ``--style-rerank`` and ``--content-rerank`` weights (with
``--no-repeat``) is scored with ``textgan eval style --split dev`` (evaluator accuracy and BLEU-src;
dev has no human rewrites). The rule, fixed before any test number is seen: among the settings whose
dev accuracy is at least ``--min-accuracy``, the one with the highest dev BLEU-src (if none reaches
it, the most accurate). The chosen flags are then scored on test, for this run and any ``--also``
runs, with the perplexity LM if given.

    python scripts/style_decode_sweep.py --run runs/yelp-study/s1/ppo-cycle3 --data ../shared/data/yelp \\
        --classifier runs/yelp-clf --lm runs/yelp-lm --also runs/yelp-study/s2/ppo-cycle3 --out runs/sweep

Writes ``OUT/dev.jsonl`` (one line per setting, appended as they finish, so a rerun skips them),
``OUT/test.jsonl`` and ``OUT/summary.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def flags_of(beam: int, style: float, content: float) -> list[str]:
    out = ["--beam", str(beam), "--no-repeat"]
    if style:
        out += ["--style-rerank", f"{style:g}"]
    if content:
        out += ["--content-rerank", f"{content:g}"]
    return out


def score(run: str, a: argparse.Namespace, split: str, flags: list[str], tag: str) -> dict:
    """One ``textgan eval style`` in a subprocess (one torch thread), its JSON result."""
    out = Path(a.out) / f"transfers-{Path(run).parent.name}-{Path(run).name}-{split}-{tag}.tsv"
    cmd = [sys.executable, "-m", "textgan", "eval", "style", "--run", run, "--data", a.data]
    cmd += ["--classifier", a.classifier, "--split", split, "--out", str(out), "--json", *flags]
    if a.lm and split == "test":
        cmd += ["--lm", a.lm]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    start = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(f"error: {' '.join(cmd)} failed: {res.stderr.strip().splitlines()[-1:]}")
    result = json.loads(res.stdout.strip().splitlines()[-1])
    result["seconds"] = round(time.time() - start, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="style run to tune on (dev)")
    p.add_argument("--also", action="append", default=[], help="more runs scored on test with the chosen flags")
    p.add_argument("--data", required=True)
    p.add_argument("--classifier", required=True, help="evaluator classifier run")
    p.add_argument("--lm", default=None, help="LM run for the perplexity of the test transfers")
    p.add_argument("--beams", default="4,8")
    p.add_argument("--style-rerank", default="0.5,1,2", help="comma-separated weights")
    p.add_argument("--content-rerank", default="0,1,2,4", help="comma-separated weights")
    p.add_argument("--min-accuracy", type=float, default=87.0, help="dev accuracy a setting must reach")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--deadline", type=float, default=None, help="seconds; no setting starts after it")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    start = time.time()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    dev_file = out / "dev.jsonl"
    done = {}
    if dev_file.exists():
        for line in dev_file.read_text().splitlines():
            r = json.loads(line)
            done[(r["beam"], r["style_rerank"], r["content_rerank"])] = r
    grid = itertools.product([int(b) for b in a.beams.split(",")], floats(a.style_rerank), floats(a.content_rerank))
    for beam, style, content in grid:
        if (beam, style, content) in done:
            continue
        if a.deadline and time.time() - start > a.deadline:
            print("deadline reached: the sweep is partial", file=sys.stderr)
            break
        r = score(a.run, a, "dev", flags_of(beam, style, content), f"b{beam}-s{style:g}-c{content:g}")
        r.update(beam=beam, style_rerank=style, content_rerank=content)
        done[(beam, style, content)] = r
        with dev_file.open("a") as f:
            f.write(json.dumps(r) + "\n")
        print(
            f"dev beam {beam} style {style:g} content {content:g}: acc {r['accuracy']:.1f} "
            f"bleu_src {r['bleu_src']:.2f} ({r['seconds']} s)",
            flush=True,
        )
    rows = sorted(done.values(), key=lambda r: (r["beam"], r["style_rerank"], r["content_rerank"]))
    ok = [r for r in rows if r["accuracy"] >= a.min_accuracy]
    best = max(ok, key=lambda r: r["bleu_src"]) if ok else max(rows, key=lambda r: r["accuracy"])
    flags = flags_of(best["beam"], best["style_rerank"], best["content_rerank"])
    print("chosen on dev:", " ".join(flags), flush=True)
    test_rows = []
    for run in [a.run, *a.also]:
        r = score(run, a, "test", flags, "chosen")
        r.update(run=run, flags=" ".join(flags))
        test_rows.append(r)
        print(
            f"test {run}: acc {r['accuracy']:.1f} bleu_src {r['bleu_src']:.2f} bleu_ref {r['bleu_ref']:.2f} "
            f"ppl {r['ppl']} gm {r['gm']:.2f}",
            flush=True,
        )
    (out / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test_rows))
    lines = [
        f"Decoding sweep on dev for {a.run} (rule: highest dev BLEU-src with dev accuracy >= {a.min_accuracy:g}).",
        "",
        "| beam | style W | content W | dev accuracy | dev BLEU-src | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = " **chosen**" if r is best else ""
        lines.append(
            f"| {r['beam']} | {r['style_rerank']:g} | {r['content_rerank']:g} | {r['accuracy']:.1f} | "
            f"{r['bleu_src']:.1f}{mark} | {r['seconds']} |"
        )
    lines += ["", f"Test with `{' '.join(flags)}`:", "", "| run | accuracy | BLEU-src | BLEU-ref | PPL | GM |"]
    lines.append("|---|---|---|---|---|---|")
    for r in test_rows:
        ppl = f"{r['ppl']:.0f}" if r.get("ppl") else "-"
        lines.append(
            f"| {r['run']} | {r['accuracy']:.1f} | {r['bleu_src']:.1f} | {r['bleu_ref']:.1f} | {ppl} | {r['gm']:.1f} |"
        )
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print(f"summary in {out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
