"""How well can a critic tell a style run's transfers from real sentences of the target style?

For each finished style run: the ROC AUC of its own two critics (as trained, e.g. on Gumbel-softmax
rows) and of two fresh critics trained on the run's frozen model with ``--critic-input hard`` (the
sampled transfers' tokens) at ``--critic-lr``, every ``--eval-every`` updates up to ``--updates``.
Each AUC is the mean over the two target styles t of critic t's AUC between the test sentences of
style t and sampled transfers of the other style's test sentences into t (0.5: indistinguishable),
``StyleTrainer.test_critic_auc``, as every adversarial evaluation of a run logs it. A fresh critic
gives every system the same judge: a lower AUC means transfers closer to real text of the target
style. The fresh critics train on the training split only; the test split is only scored.

Outputs in ``--out``: ``results.jsonl`` (one line per run, written as each finishes; finished runs
are skipped, so the script resumes) and ``summary.md`` (mean ± std over seeds per system).

Usage:
  python scripts/style_critic_auc.py --out runs/style-critic-auc \\
      --run ppo:1=runs/yelp23/study/s1/ppo-cycle3 --run none:1=runs/yelp23/study/s1/none-cycle3 ...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path


def parse_run(spec: str) -> tuple[str, str, Path]:
    """``SYSTEM:SEED=DIR`` -> (system, seed, dir)."""
    name, sep, run = spec.partition("=")
    system, colon, seed = name.partition(":")
    if not sep or not colon or not system or not seed or not run:
        raise SystemExit(f"error: --run {spec!r}: expected SYSTEM:SEED=RUN_DIR")
    if not (Path(run) / "checkpoints" / "last.pt").is_file():
        raise SystemExit(f"error: --run {spec!r}: {run} has no checkpoints/last.pt (not a finished style run)")
    return system, seed, Path(run)


def probe(a: argparse.Namespace, system: str, seed: str, run: Path) -> dict:
    import torch

    from textgan.config import StyleConfig, load_json
    from textgan.train import common as C
    from textgan.train.style import StyleTrainer

    src = load_json(StyleConfig, run / "config.json")
    work = Path(a.out) / f"{system}-s{seed}"
    if work.exists():  # a probe stopped half-way: start it again
        import shutil

        shutil.rmtree(work)
    adv = dataclasses.replace(
        src.adv, critic_input="hard", critic_lr=a.critic_lr, critic_warmup=0, critic_warmup_auc=0.0
    )
    cfg = dataclasses.replace(
        src, adv=adv, init_from=str(run), run_dir=str(work), seed=a.seed, device=a.device, progress=False
    )
    t0 = time.time()
    trainer = StyleTrainer(cfg)
    try:
        fresh = {k: v.clone() for k, v in trainer.critics.state_dict().items()}
        ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
        trainer.critics.load_state_dict(ckpt["models"]["critics"])
        own = trainer.test_critic_auc()
        trainer.critics.load_state_dict(fresh)
        trainer.model.requires_grad_(False)
        curve = []
        done = 0
        while done < a.updates:
            k = min(a.eval_every, a.updates - done)
            for _ in trainer._warmup_updates(k, beta=1.0):
                done += 1
            curve.append({"updates": done, "test_auc": round(trainer.test_critic_auc(), 4)})
            print(f"{system} seed {seed}: {done} updates, test AUC {curve[-1]['test_auc']:.4f}", flush=True)
    finally:
        C.unlock_run_dir(trainer.run_dir)
    return {
        "system": system,
        "seed": seed,
        "run": str(run),
        "own_critic_auc": round(own, 4),
        "own_critic_input": src.adv.critic_input,
        "fresh_critic_auc": curve[-1]["test_auc"],
        "curve": curve,
        "seconds": round(time.time() - t0, 1),
    }


def summary(out: Path, rows: list[dict]) -> str:
    def ms(v: list[float]) -> str:
        if not v:
            return "- (no critic trained: `--adv-weight 0`)"
        return f"{statistics.mean(v):.3f}" + (f" ± {statistics.stdev(v):.3f}" if len(v) > 1 else "")

    def trained(r: dict) -> bool:  # a run with --adv-weight 0 never updates its critics
        cfg = Path(r["run"]) / "config.json"
        return not cfg.is_file() or json.loads(cfg.read_text())["train"].get("adv_weight", 1.0) > 0

    systems: dict[str, list[dict]] = {}
    for r in rows:
        systems.setdefault(r["system"], []).append(r)
    lines = [
        "| system | seeds | own critics' AUC | fresh hard critic's AUC | fresh critic's AUC per seed |",
        "|---|---|---|---|---|",
    ]
    for name, rs in systems.items():
        rs = sorted(rs, key=lambda r: r["seed"])
        lines.append(
            f"| {name} | {', '.join(r['seed'] for r in rs)} | {ms([r['own_critic_auc'] for r in rs if trained(r)])} | "
            f"{ms([r['fresh_critic_auc'] for r in rs])} | {' / '.join(format(r['fresh_critic_auc'], '.3f') for r in rs)} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    return text


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", action="append", required=True, metavar="SYSTEM:SEED=RUN_DIR")
    p.add_argument("--out", required=True)
    p.add_argument("--updates", type=int, default=500)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--critic-lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1, help="the fresh critics' initialisation and sampling")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--deadline", type=float, default=0.0, help="seconds: start no probe after it")
    a = p.parse_args()
    if a.updates < 1 or a.eval_every < 1:
        raise SystemExit("error: --updates and --eval-every must be >= 1")
    import torch

    torch.set_num_threads(a.threads)
    runs = [parse_run(s) for s in a.run]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    rows = [json.loads(x) for x in results.read_text().splitlines()] if results.is_file() else []
    done = {(r["system"], r["seed"]) for r in rows}
    start = time.time()
    for system, seed, run in runs:
        if (system, seed) in done:
            continue
        if a.deadline and time.time() - start > a.deadline:
            print(f"deadline: not starting {system} seed {seed}", flush=True)
            break
        row = probe(a, system, seed, run)
        rows.append(row)
        with results.open("a") as f:
            f.write(json.dumps(row) + "\n")
    print(summary(out, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
