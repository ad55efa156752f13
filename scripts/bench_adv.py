"""Where an adversarial iteration of the oracle preset spends its time, per critic input.

One iteration is ``n_critic`` critic updates on fresh fake batches, then a generator phase of
``g_steps`` updates. For each ``--critic-input`` (``soft``: the paper's Gumbel-softmax rows;
``hard``: the sampled tokens) this times, at each thread count, the three parts (drawing the fake
batches, the critic updates, the generator phase) and the whole iteration, and prints each as a
ratio to the ``soft`` iteration measured in the same run, with the machine and its fp32 matmul peak.

Usage: python scripts/bench_adv.py [--iters 4] [--threads 1,2] [--init-from RUN]
(without --init-from the generator is untrained: the times differ little, the samples are longer).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from textgan.config import PRESETS
from textgan.train.lm import LMTrainer


def gemm_peak(threads: int, n: int = 2048) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def parts(critic_input: str, iters: int, init_from: str) -> dict[str, float]:
    """Median seconds of the parts of one iteration, after one warm-up iteration."""
    logging.getLogger("textgan").setLevel(logging.WARNING)
    preset = PRESETS["oracle"]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(
            preset,
            run_dir=str(Path(tmp) / "run"),
            device="cpu",
            progress=False,
            init_from=init_from,
            train=dataclasses.replace(preset.train, mle_epochs=0),
            adv=dataclasses.replace(preset.adv, adv_steps=1000, critic_input=critic_input),
        )
        trainer = LMTrainer(cfg)
        trainer.generator.train()
        trainer.critic.train()
        beta, n = 1.0, cfg.adv.n_critic
        times: dict[str, list[float]] = {"fake batches": [], "critic updates": [], "generator phase": []}
        for i in range(iters + 1):
            t0 = time.perf_counter()
            fakes = trainer._fake_rows(beta, n)
            t1 = time.perf_counter()
            for fake in fakes:
                trainer.critic_step(beta, fake)
            t2 = time.perf_counter()
            trainer.generator_phase(beta)
            t3 = time.perf_counter()
            if i:  # the first is the warm-up
                for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                    times[k].append(v)
        out = {k: statistics.median(v) for k, v in times.items()}
        out["iteration"] = sum(out.values())
        return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iters", type=int, default=4, help="timed iterations per setting (after one warm-up)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--critic-inputs", default="soft,hard")
    p.add_argument("--init-from", default="", help="an MLE run of the oracle preset to start from")
    a = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}")
    for threads in [int(t) for t in a.threads.split(",")]:
        peak = gemm_peak(threads)
        print(
            f"\n{threads} thread(s), fp32 matmul peak {peak:.0f} GFLOP/s; oracle preset, batch 64, median of {a.iters}"
        )
        torch.set_num_threads(threads)
        rows = {ci: parts(ci, a.iters, a.init_from) for ci in a.critic_inputs.split(",")}
        base = rows.get("soft", next(iter(rows.values())))["iteration"]
        keys = ["fake batches", "critic updates", "generator phase", "iteration"]
        print(f"{'critic input':<13}" + "".join(f"{k:>17}" for k in keys) + f"{'x soft iteration':>18}")
        for ci, r in rows.items():
            print(f"{ci:<13}" + "".join(f"{r[k]:16.2f}s" for k in keys) + f"{r['iteration'] / base:18.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
