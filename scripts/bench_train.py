"""Benchmark MLE training and sampling speed of the coco preset (RelGAN sizes) on CPU.

Prints MLE tokens/s, seconds per MLE epoch on COCO, and generator sampling
sentences/s, at 1 and 2 torch threads, next to the reference figures of
TextGAN-PyTorch's RelGAN, measured side by side on this machine class (same sizes, batch 64):
1.30 / 0.78 s per MLE batch and 83.3 / 57.7 s per `rsgan` adversarial iteration at 1 / 2 threads.
It also measures the machine's matmul peak, counts the matmul FLOPs of each part, and prints what
the peak allows: the seconds at 100 % of it, and the fraction of it that issue 13's targets need.

Usage: python scripts/bench_train.py [--data ../shared/data/coco] [--batches 30] [--generator rmc]
Skips cleanly (exit 0) when the data directory is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from textgan.config import PRESETS, DataConfig
from textgan.data import load_corpus
from textgan.models.generators import alive_mask, build_generator
from textgan.train.lm import mle_loss
from textgan.utils import autocast

# TextGAN-PyTorch RelGAN MLE batch, COCO, batch 64, measured side by side (issue 13): 1.30 / 0.78 s.
REFERENCE_S_PER_BATCH = {1: 1.30, 2: 0.78}
TARGETS = {"mle": 6.0, "adv": 10.0, "eval_s": 5.0}  # issue 13: >= 6x per MLE epoch, >= 10x per iteration, <= 5 s
# TextGAN-PyTorch `rsgan` adversarial iteration (5 critic steps + 1 generator step), RelGAN's COCO sizes,
# batch 64, untrained generators, evaluation excluded; measured side by side with textgan (issue 13).
REFERENCE_S_PER_ADV_ITER = {1: 83.3, 2: 57.7}


def gemm_peak(threads: int, dtype: torch.dtype = torch.float32, n: int = 2048, device: str = "cpu") -> float:
    """This machine's matmul throughput in GFLOP/s: the best of several ``n x n`` products."""
    torch.set_num_threads(threads)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(5):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def iteration_flops(trainer, beta: float) -> float:
    """Matmul/conv FLOPs of one adversarial iteration (forward and backward), counted by
    ``torch.utils.flop_counter`` (elementwise work is not counted)."""

    def iteration() -> None:
        for fake in trainer.fake_rows(beta, trainer.cfg.adv.n_critic):
            trainer.critic_step(beta, fake)
        trainer.generator_phase(beta)

    compiled = trainer.critic.compiled  # counted eagerly: a dispatch mode would send dynamo recompiling
    trainer.critic.compiled = False
    flops = counted_flops(iteration)
    trainer.critic.compiled = compiled
    return flops


def counted_flops(fn, *args) -> float:
    """Matmul/conv FLOPs of ``fn(*args)`` (``torch.utils.flop_counter``; elementwise work not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return float(counter.get_total_flops())


def mle_backward(gen, batches, amp) -> None:
    """MLE forward and backward of ``batches`` (gradients accumulate; the caller zeroes them)."""
    for batch in batches:
        with amp:
            loss = mle_loss(gen, batch)
        loss.backward()


def floor_line(what: str, flops: float, peak_gflops: float, target_s: float) -> str:
    """What the machine's matmul peak allows: the seconds of ``flops`` at 100 % of the peak, and the
    fraction of the peak that ``target_s`` would need (over 100 %: out of reach at this precision)."""
    floor = flops / peak_gflops / 1e9
    return (
        f"  {what}: {flops / 1e9:,.0f} GFLOP of matmuls; at 100 % of the {peak_gflops:.0f} GFLOP/s peak "
        f"{floor:.1f} s; the target ({target_s:.1f} s) needs {floor / target_s:.0%} of the peak"
    )


def bench_eval(gen, corpus) -> tuple[float, float, float, float]:
    """Seconds of the periodic evaluation's parts (NLL_gen on the test split, 1,000 samples,
    BLEU + self-BLEU) and the NLL_gen value."""
    from textgan.metrics.ngrams import bleu, self_bleu
    from textgan.metrics.nll import nll_gen
    from textgan.models.generators import generate_ids

    gen.eval()
    t0 = time.perf_counter()
    nll = nll_gen(gen, corpus.test)
    t1 = time.perf_counter()
    ids = generate_ids(gen, 1000, torch.Generator(device=gen.banned.device).manual_seed(0))
    t2 = time.perf_counter()
    words = [t.split() for t in corpus.detokenize(ids)]
    bleu(words, corpus.test_words, (2, 3, 4, 5))
    self_bleu(words, (2, 3, 4, 5))
    t3 = time.perf_counter()
    gen.train()
    return t1 - t0, t2 - t1, t3 - t2, nll


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_adversarial(
    data: str,
    generator: str,
    iters: int,
    device: str = "cpu",
    loss: str = "ppo",
    g_steps: int = 1,
    precision: str = "fp32",
    compile: bool = False,
    gp_every: int = 1,
    critic_input: str = "soft",
) -> tuple[float, float, float, float]:
    """Seconds per adversarial iteration (5 critic steps + a ``g_steps`` generator phase), per critic
    step, per extra G step, and the iteration's matmul FLOPs."""
    import dataclasses
    import logging
    import tempfile

    from textgan.train.lm import LMTrainer

    logging.getLogger("textgan").setLevel(logging.WARNING)
    preset = PRESETS["coco"]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(
            preset,
            run_dir=str(Path(tmp) / "run"),
            device=device,
            progress=False,
            precision=precision,
            compile=compile,
            data=dataclasses.replace(preset.data, data=data),
            model=dataclasses.replace(preset.model, generator=generator),
            adv=dataclasses.replace(
                preset.adv, g_steps=g_steps, adv_steps=1000, loss=loss, gp_every=gp_every, critic_input=critic_input
            ),
        )
        trainer = LMTrainer(cfg)
        beta = 10.0
        for _ in range(gp_every):  # warm-up (with --compile: compiling), a penalty step included
            trainer.critic_step(beta)
        trainer.generator_phase(beta)
        flops = iteration_flops(trainer, beta)
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(iters):
            for fake in trainer.fake_rows(beta, cfg.adv.n_critic):
                trainer.critic_step(beta, fake)
            trainer.generator_phase(beta)
        _sync(device)
        per_iter = (time.perf_counter() - t0) / iters
        t0 = time.perf_counter()
        for _ in range(iters):
            trainer.critic_step(beta)
        _sync(device)
        per_critic = (time.perf_counter() - t0) / iters
        per_g = {}
        for k in (1, 3):
            trainer.cfg = dataclasses.replace(cfg, adv=dataclasses.replace(cfg.adv, g_steps=k))
            t0 = time.perf_counter()
            for _ in range(iters):
                trainer.generator_phase(beta)
            _sync(device)
            per_g[k] = (time.perf_counter() - t0) / iters
        trainer.cfg = cfg
        return per_iter, per_critic, (per_g[3] - per_g[1]) / 2, flops


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco"))
    p.add_argument("--batches", type=int, default=30, help="timed MLE batches per thread count")
    p.add_argument("--generator", default="rmc", choices=["rmc", "lstm", "gpt2"])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--adv-iters", type=int, default=3, help="timed adversarial iterations per thread count (0: skip)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (on CUDA the thread loop is moot)")
    p.add_argument("--precisions", default="fp32,bf16", help="--precision values to time (comma-separated)")
    p.add_argument(
        "--adv-losses",
        default=f"rsgan:1,ppo:1,ppo:{PRESETS['coco'].adv.g_steps}",
        help="adversarial iterations to time, as LOSS:K (K generator steps per phase)",
    )
    p.add_argument("--eval", action=argparse.BooleanOptionalAction, default=True, help="time the periodic evaluation")
    p.add_argument(
        "--compile", default="off", choices=("off", "on", "both"), help="adversarial iterations with --compile"
    )
    p.add_argument("--gp-every", default="1", help="--gp-every values to time (comma-separated; ppo and wgan-gp)")
    p.add_argument("--critic-inputs", default="soft", help="--critic-input values to time (comma-separated: soft,hard)")
    a = p.parse_args()
    if not Path(a.data, "train.txt").is_file():
        print(f"skip: no COCO data at {a.data}")
        return 0
    preset = PRESETS["coco"]
    data_cfg = DataConfig(data=a.data, tokenizer=preset.data.tokenizer, lowercase=preset.data.lowercase)
    corpus = load_corpus(data_cfg)
    n_batches = -(-corpus.train.shape[0] // preset.train.batch_size)
    print(
        f"COCO train: {corpus.train.shape[0]} sentences, vocab {len(corpus.vocab)}, max_len {corpus.max_len}, "
        f"{n_batches} batches of {preset.train.batch_size}; generator {a.generator} (coco preset sizes); device {a.device}"
    )
    precisions = a.precisions.split(",")
    thread_counts = [int(t) for t in a.threads.split(",")]
    peaks = {t: (gemm_peak(t, torch.float32, device=a.device), gemm_peak(t, torch.bfloat16, device=a.device))
             for t in thread_counts}  # fmt: skip
    print("matmul peak of this machine (2048 x 2048, best of 5): " + ", ".join(
        f"{t} thread(s) fp32 {p32:.0f} / bf16 {p16:.0f} GFLOP/s" for t, (p32, p16) in peaks.items()
    ) + "\n")  # fmt: skip
    total_tokens = int(alive_mask(corpus.train).sum())
    total_test = int(alive_mask(corpus.test).sum())
    floors: list[str] = []
    print(
        f"{'prec':>4} {'threads':>7} {'s/batch':>8} {'tokens/s':>9} {'s/epoch':>8} {'ref s/epoch':>11} {'speed-up':>8} "
        f"{'sample sent/s':>13}"
    )
    evals: list[tuple] = []
    for precision, threads in [(pr, int(t)) for pr in precisions for t in a.threads.split(",")]:
        amp = autocast(precision, torch.device(a.device))
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model_cfg = preset.model.__class__(**{**preset.model.__dict__, "generator": a.generator})
        gen = build_generator(model_cfg, len(corpus.vocab), corpus.max_len, corpus.banned_ids).to(a.device)
        opt = torch.optim.Adam(gen.parameters(), lr=preset.train.mle_lr)
        rng = torch.Generator().manual_seed(0)
        sample_rng = torch.Generator(device=a.device).manual_seed(0)
        batches = list(corpus.batches(preset.train.batch_size, rng))
        batches = [b.to(a.device) for b in batches]
        for batch in batches[:2]:  # warm-up
            with amp:
                loss = mle_loss(gen, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()

        per_token = counted_flops(mle_backward, gen, batches[:2], amp) / sum(
            int(alive_mask(b).sum()) for b in batches[:2]
        )
        opt.zero_grad()
        timed = batches[2 : 2 + a.batches]
        tokens = sum(int(alive_mask(b).sum()) for b in timed)
        t0 = time.perf_counter()
        for batch in timed:
            with amp:
                loss = mle_loss(gen, batch)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(gen.parameters(), preset.train.grad_clip)
            opt.step()
        _sync(a.device)
        dt = (time.perf_counter() - t0) / len(timed)
        epoch = dt * n_batches
        gen.eval()
        t0 = time.perf_counter()
        n_sample = 0
        while time.perf_counter() - t0 < 3.0:
            with amp:
                gen.sample_ids(256, generator=sample_rng)
            n_sample += 256
        sps = n_sample / (time.perf_counter() - t0)
        on_cpu = a.device == "cpu" and threads in REFERENCE_S_PER_BATCH
        ref = REFERENCE_S_PER_BATCH[threads] * n_batches if on_cpu else None
        speed = f"{ref / epoch:7.1f}x" if ref else "      -"
        if ref:
            floors.append(floor_line(
                f"MLE epoch, {precision}, {threads} thread(s), {TARGETS['mle']:g}x", per_token * total_tokens,
                peaks[threads][precision == "bf16"], ref / TARGETS["mle"],
            ))  # fmt: skip
        print(
            f"{precision:>4} {threads:>7} {dt:8.3f} {tokens / len(timed) / dt:9.0f} {epoch:8.1f} "
            f"{ref or float('nan'):11.0f} {speed:>8} {sps:13.0f}"
        )
        if a.eval and precision == "fp32":  # evaluations run in fp32 whatever --precision
            evals.append((precision, threads, *bench_eval(gen, corpus)))
            from textgan.metrics.nll import nll_gen

            part = corpus.test[:1000]
            nll_flops = counted_flops(nll_gen, gen, part) * total_test / int(alive_mask(part).sum())
            floors.append(floor_line(
                f"NLL_gen of the evaluation alone, fp32, {threads} thread(s)", nll_flops, peaks[threads][0],
                TARGETS["eval_s"],
            ))  # fmt: skip
    if a.eval:
        print("\nperiodic evaluation, fp32 (coco preset: NLL_gen on the whole test split, 1,000 samples, BLEU-2..5")
        print("and self-BLEU-2..5; a barely trained generator, whose samples run longer than a trained one's)")
        print(
            f"{'prec':>4} {'threads':>7} {'NLL_gen s':>9} {'sample s':>8} {'BLEU s':>6} {'total s':>7} {'NLL_gen':>8}"
        )
        for precision, threads, t_nll, t_sample, t_bleu, nll in evals:
            total = t_nll + t_sample + t_bleu
            print(f"{precision:>4} {threads:>7} {t_nll:9.2f} {t_sample:8.2f} {t_bleu:6.2f} {total:7.2f} {nll:8.4f}")
    if a.adv_iters > 0:
        print("\nadversarial iteration (5 critic steps + a generator phase of K steps, batch 64, coco sizes)")
        print(
            f"{'loss':>6} {'K':>2} {'prec':>4} {'comp':>4} {'gp/k':>4} {'input':>5} {'threads':>7} {'s/iter':>8} {'ref s/iter':>10} "
            f"{'speed-up':>8} {'s/critic step':>13} {'s/extra G step':>14} {'GFLOP/iter':>10} {'GFLOP/s':>8} "
            f"{'of its peak':>12}"
        )
        # rsgan: RelGAN's loss (no gradient penalty) with K = 1, as the reference ran; ppo at K = 1 and
        # at its default K = 5. The reference column is TextGAN-PyTorch's rsgan iteration throughout.
        pairs = [(lo, int(k)) for lo, _, k in (x.partition(":") for x in a.adv_losses.split(","))]
        compiles = {"off": [False], "on": [True], "both": [False, True]}[a.compile]
        gp_everys = [int(x) for x in a.gp_every.split(",")]
        runs = [
            (lo, k, pr, co, ge, ci)
            for lo, k in pairs
            for pr in precisions
            for co in compiles
            for ge in (gp_everys if lo in ("ppo", "wgan-gp") else [1])
            for ci in a.critic_inputs.split(",")
        ]
        for loss, k, precision, comp, gp_every, critic_input in runs:
            for threads in thread_counts:
                torch.set_num_threads(threads)
                torch.manual_seed(0)
                per_iter, per_critic, per_g, flops = bench_adversarial(
                    a.data, a.generator, a.adv_iters, a.device, loss, k, precision, comp, gp_every, critic_input
                )
                ref = REFERENCE_S_PER_ADV_ITER.get(threads) if a.device == "cpu" else None
                speed = f"{ref / per_iter:7.1f}x" if ref else "      -"
                rate = flops / per_iter / 1e9
                if ref:
                    floors.append(floor_line(
                        f"{loss} K={k} {precision} gp-every {gp_every}, {threads} thread(s), {TARGETS['adv']:g}x",
                        flops, peaks[threads][precision == "bf16"], ref / TARGETS["adv"],
                    ))  # fmt: skip
                print(
                    f"{loss:>6} {k:>2} {precision:>4} {'on' if comp else 'off':>4} {gp_every:>4} {critic_input:>5} {threads:>7} {per_iter:8.2f} {ref or float('nan'):10.0f} {speed:>8} "
                    f"{per_critic:13.3f} {per_g:14.3f} {flops / 1e9:10.0f} {rate:8.1f} {rate / peaks[threads][precision == 'bf16']:11.0%}"
                )
    if floors:
        print("\nwhat the matmul peak allows (issue 13's targets against the machine's arithmetic limit):")
        print("\n".join(floors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
