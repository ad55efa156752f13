"""Benchmark data-parallel MLE on CPU: torchrun with N processes x 1 thread against one process
with N threads (and 1 thread), same global batch, COCO with the coco preset (RelGAN sizes).

Each configuration trains one MLE epoch on the first ``--sentences`` training sentences through
the real CLI (``textgan train lm``) and reports the epoch's tokens/s from ``metrics.jsonl``
(measured inside the training loop: start-up and the evaluation are excluded).

Usage: python scripts/bench_ddp.py [--data ../shared/data/coco] [--sentences 3200] [--procs 2]
Skips cleanly (exit 0) when the data directory is absent. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def train(run: Path, a: argparse.Namespace, procs: int, threads: int) -> float:
    """tokens/s of one MLE epoch with ``procs`` processes of ``threads`` threads each."""
    flags = [
        "train", "lm", "--preset", "coco", "--data", a.data, "--max-train-sentences", str(a.sentences),
        "--max-test-sentences", "64", "--eval-samples", "64", "--mle-epochs", "1", "--adv-steps", "0",
        "--batch-size", str(a.batch_size), "--run-dir", str(run), "--no-progress",
    ]  # fmt: skip
    if procs == 1:
        cmd = [sys.executable, "-m", "textgan", *flags]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}"]
        cmd += ["-m", "textgan", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"bench_ddp: {' '.join(cmd[:6])} ... failed:\n{res.stderr[-2000:]}")
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return float(next(r for r in records if r.get("phase") == "mle")["tokens_per_s"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/data/coco")
    p.add_argument("--sentences", type=int, default=3200, help="training sentences (one epoch)")
    p.add_argument("--batch-size", type=int, default=64, help="the global batch")
    p.add_argument("--procs", type=int, default=2, help="torchrun processes (and the threads of the baseline)")
    a = p.parse_args()
    if not Path(a.data).is_dir():
        print(f"bench_ddp: {a.data} not found; skipped")
        return
    n = a.procs
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("1 process x 1 thread", train(Path(tmp) / "p1t1", a, 1, 1)),
            (f"1 process x {n} threads (baseline)", train(Path(tmp) / f"p1t{n}", a, 1, n)),
            (f"torchrun {n} processes x 1 thread", train(Path(tmp) / f"p{n}t1", a, n, 1)),
        ]
    base = rows[1][1]
    print(f"MLE, coco preset, {a.sentences} sentences, global batch {a.batch_size}")
    print(f"{'configuration':<36} {'tokens/s':>10} {'vs baseline':>12}")
    for name, tps in rows:
        print(f"{name:<36} {tps:>10.0f} {tps / base:>11.2f}x")


if __name__ == "__main__":
    main()
