"""Benchmark resampled generation and ``train ratio`` against plain sampling, in one run.

Resampled generation of N sentences at M proposals each (``textgan generate --resample M``) costs
N·M proposals plus one scoring pass; its baseline, measured in the same run, is plain sampling of
N·M sentences (the target: within 1.5x of it). ``train ratio`` steps/s are printed beside the
baseline's sampling rate of one step's fake batch, to show what share of a D step is sampling.

The generator and D are untrained models of the oracle preset's sizes (speed does not depend on
the weights, except through sentence lengths: oracle sentences never stop early, the slowest case).

Usage: python scripts/bench_sample.py [--sentences 1000] [--resample 16] [--threads 1 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from textgan.config import PRESETS, RatioConfig
from textgan.data.vocab import SPECIALS
from textgan.models.critics import CNNCritic
from textgan.models.generators import build_generator, generate_ids
from textgan.models.ratio import build_discriminator
from textgan.sampling import resample_ids


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=1000)
    p.add_argument("--resample", type=int, default=16)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--ratio-steps", type=int, default=30, help="D steps timed per architecture")
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    cfg = PRESETS["oracle"]
    v, t = cfg.data.oracle_vocab_size + len(SPECIALS), cfg.data.oracle_len
    torch.manual_seed(0)
    gen = build_generator(cfg.model, v, t, [0, 1, 2, 3]).to(a.device).eval()
    critic = CNNCritic(cfg.critic, v, t).to(a.device).eval()
    rc = RatioConfig(run="-")
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), None) if (
        platform.system() == "Linux"
    ) else None  # fmt: skip
    print(f"machine: {cpu or platform.processor() or platform.machine()}, torch {torch.__version__}, device {a.device}")
    print(f"oracle preset: vocabulary {v}, length {t}, generator {cfg.model.generator}")
    n, m = a.sentences, a.resample

    def rng() -> torch.Generator:
        return torch.Generator(device=a.device).manual_seed(0)

    for threads in a.threads:
        torch.set_num_threads(threads)
        plain = timed(lambda: generate_ids(gen, n * m, rng()), a.device)
        res = timed(lambda: resample_ids(gen, lambda x: critic(ids=x), n, m, 1.0, rng=rng()), a.device)
        print(
            f"[{threads} thread(s)] plain sampling of {n * m:,}: {plain:.2f} s; resampled {n:,} at M={m} "
            f"(critic score): {res:.2f} s = {res / plain:.2f}x plain (target <= 1.5x)"
        )
        d = build_discriminator("lstm", v, t, cfg.critic, rc.embed_dim, rc.hidden_dim, rc.dropout).to(a.device).eval()
        res_d = timed(lambda d=d: resample_ids(gen, lambda x: d(x), n, m, 1.0, rng=rng()), a.device)
        print(
            f"[{threads} thread(s)] resampled {n:,} at M={m} (lstm D's score): {res_d:.2f} s = "
            f"{res_d / plain:.2f}x plain (target <= 1.5x)"
        )
        one_batch = timed(lambda: gen.sample_ids(rc.batch_size, generator=rng()), a.device, 3)
        for arch in ("lstm", "cnn"):
            d = build_discriminator(arch, v, t, cfg.critic, rc.embed_dim, rc.hidden_dim, rc.dropout).to(a.device)
            opt = torch.optim.AdamW(d.parameters(), lr=rc.lr)
            real = torch.randint(4, v, (rc.batch_size, t), device=a.device)

            def steps(d=d, opt=opt, real=real) -> None:
                for _ in range(a.ratio_steps):
                    fake = gen.sample_ids(rc.batch_size, generator=rng())[0]
                    loss = d.loss(real, 1.0) + d.loss(fake, 0.0)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()

            s = timed(steps, a.device, 1) / a.ratio_steps
            print(
                f"[{threads} thread(s)] train ratio --arch {arch}, batch {rc.batch_size}: {1 / s:.1f} steps/s; "
                f"sampling the step's fakes alone {one_batch / s:.0%} of a step"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
