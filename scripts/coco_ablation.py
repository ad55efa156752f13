"""The COCO ablation: one MLE-pretrained generator, the same adversarial budget per variant.

Runs every (variant, seed) as its own ``textgan train lm --init-from PRETRAINED`` process, in
parallel, and writes ``OUT/summary.md`` and ``OUT/summary.json``: BLEU-2..5, self-BLEU-2..5 and
NLL_gen (test) of the MLE generator (adversarial step 0) and of every variant at the same
adversarial step, mean and standard deviation over seeds.

With ``--deadline S`` the runs get SIGTERM after S seconds (each writes a checkpoint and stops),
and the table uses the largest evaluated step that every run reached, so all variants have the
same budget whatever the machine's speed.

Usage:
  python scripts/coco_ablation.py --data ../shared/data/coco --init-from runs/coco-mle \\
      --adv-steps 200 --adv-eval-every 50 --seeds 1,2 --parallel 2 --out runs/ablation
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from runner import Job, Pool, mean_std, read_records, textgan, thread_env

VARIANTS = {
    "ppo-exact": ["--loss", "ppo", "--ratio", "exact"],
    "ppo-exact-k1": ["--loss", "ppo", "--ratio", "exact", "--g-steps", "1"],
    "ppo-discriminator": ["--loss", "ppo", "--ratio", "discriminator"],
    "rsgan": ["--loss", "rsgan", "--g-steps", "1"],
    "wgan-gp": ["--loss", "wgan-gp", "--g-steps", "1"],
}
KEYS = ["bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu3", "self_bleu4", "self_bleu5", "nll_gen"]


def read(run: Path) -> list[dict]:
    """The adversarial records of a run's metrics."""
    return [r for r in read_records(run / "metrics.jsonl") if r.get("phase") == "adv"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--init-from", required=True, help="MLE-pretrained run dir")
    p.add_argument("--adv-steps", type=int, default=200)
    p.add_argument("--adv-eval-every", type=int, default=50)
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--variants", default="ppo-exact,ppo-discriminator,rsgan,wgan-gp")
    p.add_argument("--device", default="cpu")
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--threads-per-run", type=int, default=1)
    p.add_argument("--deadline", type=float, default=0.0, help="seconds before SIGTERM to all runs (0: none)")
    p.add_argument("--extra", default="", help="extra flags for every run, e.g. '--eval-samples 500'")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for variant in a.variants.split(","):
        for seed in a.seeds.split(","):
            run = out / f"{variant}-s{seed}"
            cmd = textgan(
                "train", "lm", "--preset", "coco", "--data", a.data, "--init-from", a.init_from,
                "--adv-steps", str(a.adv_steps), "--adv-eval-every", str(a.adv_eval_every), "--seed", seed,
                "--device", a.device, "--no-progress", "--run-dir", str(run), *VARIANTS[variant], *a.extra.split(),
            )  # fmt: skip
            jobs.append((variant, seed, run, cmd))
    start = time.time()
    pool_jobs = [Job(run.name, [(cmd, None)], out / f"{run.name}.log") for _, _, run, cmd in jobs]
    Pool(a.parallel, a.deadline, thread_env(a.threads_per_run)).run(pool_jobs)
    wall = time.time() - start

    records = {(v, s): read(r) for v, s, r, _ in jobs}
    reached = min((max((r["adv_step"] for r in recs), default=0) for recs in records.values()), default=0)
    rows = {"MLE (adversarial step 0)": {k: [] for k in KEYS}}
    for (variant, _seed), recs in records.items():
        by_step = {r["adv_step"]: r for r in recs}
        rows.setdefault(variant, {k: [] for k in KEYS})
        for step, name in ((0, "MLE (adversarial step 0)"), (reached, variant)):
            rec = by_step.get(step)
            if rec:
                for k in KEYS:
                    rows[name][k].append(rec[k])
    secs = [
        statistics.mean(r["seconds_per_iter"] for r in recs if "seconds_per_iter" in r)
        for recs in records.values()
        if any("seconds_per_iter" in r for r in recs)
    ]
    lines = [
        f"Adversarial budget: {reached} iterations per run (seeds {a.seeds}); device {a.device}; "
        f"{len(jobs)} runs, {a.parallel} in parallel, wall {wall / 60:.1f} min; "
        f"mean {statistics.mean(secs) if secs else float('nan'):.2f} s per iteration per run.",
        "",
        "| variant | " + " | ".join(KEYS) + " |",
        "|---" * (len(KEYS) + 1) + "|",
    ]
    for name, vals in rows.items():
        lines.append(f"| {name} | " + " | ".join(mean_std(vals[k]) for k in KEYS) + " |")
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(json.dumps({"reached": reached, "wall_s": wall, "rows": rows}, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
