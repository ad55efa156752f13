"""Where an adversarial iteration of the oracle preset spends its time, per critic input.

One iteration is ``n_critic`` critic updates on fresh fake batches, then a generator phase of
``g_steps`` updates. For each ``--critic-input`` (``soft``: the paper's Gumbel-softmax rows;
``hard``: the sampled tokens) this times, at each thread count, the three parts (drawing the fake
batches, the critic updates, the generator phase) and the whole iteration, and prints each as a
ratio to the ``soft`` iteration measured in the same run, with the machine and its fp32 matmul peak.

``--vocab-sizes V1,V2,..`` instead times the iteration at each vocabulary size (the oracle's, so
that only V changes; e.g. 50257, GPT-2's) with ``--max-len`` tokens, each in a fresh process, and
prints its peak memory (max RSS) beside the times, as ratios to the first size: what a critic over
a pretrained model's vocabulary (``--generator hf``) costs, since the fake rows are (B, T, V).

Usage: python scripts/bench_adv.py [--iters 4] [--threads 1,2] [--init-from RUN]
       python scripts/bench_adv.py --vocab-sizes 5004,50257 --max-len 32 --threads 2 [--critic-inputs soft]
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


def parts(critic_input: str, iters: int, init_from: str, vocab_size: int = 0, max_len: int = 0) -> dict[str, float]:
    """Median seconds of the parts of one iteration, after one warm-up iteration (``vocab_size`` /
    ``max_len``: the oracle's, specials included; 0: the preset's)."""
    logging.getLogger("textgan").setLevel(logging.WARNING)
    preset = PRESETS["oracle"]
    data = preset.data
    if vocab_size:
        data = dataclasses.replace(data, oracle_vocab_size=vocab_size - 4, oracle_train_size=2000, oracle_test_size=500)
    if max_len:
        data = dataclasses.replace(data, oracle_len=max_len)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(
            preset,
            data=data,
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
            fakes = trainer.fake_rows(beta, n)
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


def by_vocab(a: argparse.Namespace) -> None:
    """The iteration and its peak memory at each ``--vocab-sizes`` (a fresh process each)."""
    import json
    import subprocess

    sizes = [int(v) for v in a.vocab_sizes.split(",")]
    for threads in [int(t) for t in a.threads.split(",")]:
        peak = gemm_peak(threads)
        print(
            f"\n{threads} thread(s), fp32 matmul peak {peak:.0f} GFLOP/s; oracle preset, batch 64, "
            f"{a.max_len} tokens, median of {a.iters}"
        )
        rows = {}
        for ci in a.critic_inputs.split(","):
            for v in sizes:
                cmd = [sys.executable, __file__, "--child", f"{ci},{v},{a.max_len},{threads}", "--iters", str(a.iters)]
                rows[(ci, v)] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        base = rows[next(iter(rows))]
        keys = ["fake batches", "critic updates", "generator phase", "iteration"]
        print(
            f"{'critic input':<13}{'V':>7}"
            + "".join(f"{k:>17}" for k in keys)
            + f"{'max RSS':>10}{'x first':>9}{'x RSS':>7}"
        )
        for (ci, v), r in rows.items():
            print(
                f"{ci:<13}{v:>7}" + "".join(f"{r[k]:16.2f}s" for k in keys)
                + f"{r['max_rss_gb']:8.2f}GB{r['iteration'] / base['iteration']:9.2f}{r['max_rss_gb'] / base['max_rss_gb']:7.2f}"
            )  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iters", type=int, default=4, help="timed iterations per setting (after one warm-up)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--critic-inputs", default="soft,hard")
    p.add_argument("--init-from", default="", help="an MLE run of the oracle preset to start from")
    p.add_argument("--vocab-sizes", default="", help="time the iteration at these vocabulary sizes instead")
    p.add_argument("--max-len", type=int, default=32, help="tokens per sentence with --vocab-sizes")
    p.add_argument("--child", default="", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:  # one setting, in this process: its parts and peak memory as JSON
        import json
        import resource

        ci, v, max_len, threads = a.child.split(",")
        torch.set_num_threads(int(threads))
        out = parts(ci, a.iters, "", int(v), int(max_len))
        out["max_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(json.dumps(out))
        return 0
    if a.vocab_sizes:
        print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}")
        by_vocab(a)
        return 0
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
