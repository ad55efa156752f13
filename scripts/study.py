"""The method study: MLE vs GAN losses on the quality-diversity frontier, at equal wall-clock budgets.

For every seed: one MLE-pretrained generator (``mle-pre``); from it, each GAN variant runs
``--adv-steps`` adversarial iterations (``textgan train lm --init-from``); the ``mle``
variant continues MLE pretraining of a copy of ``mle-pre`` for as many extra epochs as
the slowest GAN variant of that seed took wall-clock time (so MLE gets the GAN's
adversarial minutes as extra epochs). Every final model is then swept over sampling
temperatures (``textgan eval lm --run R --temperatures ...``), which writes
``R/frontier.jsonl``.

Outputs in ``--out``: ``s<seed>/<variant>/`` run dirs, ``results.jsonl`` (one line per
finished run: variant, seed, wall seconds, frontier points), ``summary.md`` (tables,
mean ± std over seeds), ``frontier.png`` (mean curve over seeds per variant) and
``mean/<variant>.jsonl``. Runs already finished are skipped, so the study can be
rerun to continue. With ``--deadline S`` no run starts after S seconds and running
ones get SIGTERM (they checkpoint); the summary covers what finished.

Usage (the README's oracle study):
  python scripts/study.py --preset oracle --seeds 1,2,3 --mle-epochs 3 --adv-steps 40 \\
      --variants mle,rsgan,wgan-gp,ppo-paper,ppo-best,rsgan-lr1e-3 --parallel 2 --deadline 4500 \\
      --out runs/study-oracle
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from runner import Job, Pool, mean_std, read_records, textgan

VARIANTS: dict[str, list[str]] = {
    "rsgan": ["--loss", "rsgan", "--g-steps", "1"],
    "wgan-gp": ["--loss", "wgan-gp", "--g-steps", "1"],
    # The paper's settings: official clip rule, raw critic score as advantage, one ratio per sentence.
    "ppo-paper": ["--loss", "ppo", "--ratio", "exact", "--clip-rule", "paper", "--advantage", "raw"],
    # Chosen from the recipe sweep (README, "The method study"): textbook clip, centred advantage, lr 3e-4.
    "ppo-best": [
        "--loss", "ppo", "--ratio", "exact", "--clip-rule", "ppo", "--advantage", "centered", "--adv-lr", "3e-4",
    ],
    # RelGAN's loss at the learning rate that moved it furthest along the frontier in the sweep.
    "rsgan-lr1e-3": ["--loss", "rsgan", "--g-steps", "1", "--adv-lr", "1e-3"],
}  # fmt: skip
ORACLE_KEYS = ("nll_oracle", "nll_test", "self_bleu4", "bleu4")
REAL_KEYS = ("bleu4", "self_bleu4", "bleu2", "self_bleu2", "nll_test")


class Study:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.out = Path(a.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.seeds = [s.strip() for s in a.seeds.split(",") if s.strip()]
        self.variants = [v.strip() for v in a.variants.split(",") if v.strip()]
        self.defs = dict(VARIANTS)
        for d in a.define:
            name, _, flags = d.partition("=")
            self.defs[name.strip()] = flags.split()
        unknown = [v for v in self.variants if v != "mle" and v not in self.defs]
        if unknown:
            raise SystemExit(f"error: unknown variants {unknown} (known: mle, {', '.join(self.defs)}; or --define)")
        self.env = {**os.environ, "OMP_NUM_THREADS": str(a.threads_per_run), "MKL_NUM_THREADS": str(a.threads_per_run)}
        self.start = time.time()

    # -- bookkeeping ---------------------------------------------------------------------
    def run_dir(self, seed: str, name: str) -> Path:
        return self.out / f"s{seed}" / name

    def done(self, seed: str, name: str) -> bool:
        return (self.run_dir(seed, name) / "study-done.json").is_file()

    def info(self, seed: str, name: str) -> dict:
        return json.loads((self.run_dir(seed, name) / "study-done.json").read_text())

    def common(self, seed: str) -> list[str]:
        """Flags every training run of this seed shares."""
        a = self.a
        flags = ["--preset", a.preset, "--seed", seed, "--device", a.device, "--no-progress"]
        if a.data:
            flags += ["--data", a.data]
        return flags + a.extra.split()

    # -- jobs: each returns a list of commands and is marked done when all succeed -------
    def jobs_for(self, seed: str, name: str) -> list[list[str]] | None:
        """Commands of one run, or None while its inputs are not ready."""
        a = self.a
        run = self.run_dir(seed, name)
        frontier = textgan(
            "eval", "lm", "--run", str(run), "--temperatures", a.temperatures, "--samples-per-point",
            str(a.samples_per_point), "--seed", str(a.eval_seed), "--json", "--device", a.device,
        )  # fmt: skip
        if name == "mle-pre":
            train = textgan(
                "train", "lm", *self.common(seed), "--mle-epochs", str(a.mle_epochs), "--eval-every",
                str(a.mle_epochs), "--adv-steps", "0", "--run-dir", str(run),
            )  # fmt: skip
            return [train, frontier]
        if not self.done(seed, "mle-pre"):
            return None
        pre = self.run_dir(seed, "mle-pre")
        if name == "mle":
            gans = [v for v in self.variants if v != "mle"]
            if not all(self.done(seed, v) for v in gans):
                return None
            budget = max((self.info(seed, v)["train_seconds"] for v in gans), default=0.0)
            pre_s = self.info(seed, "mle-pre")["train_seconds"]
            extra = max(1, round(budget / (pre_s / a.mle_epochs))) if budget else 0
            epochs = a.mle_epochs + extra
            train = textgan(
                "train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", str(epochs), "--eval-every",
                str(epochs), "--no-progress",
            )  # fmt: skip
            return [["copy", str(pre), str(run)], train, frontier]
        train = textgan(
            "train", "lm", *self.common(seed), "--init-from", str(pre), "--adv-steps", str(a.adv_steps),
            "--adv-eval-every", str(a.adv_steps), "--run-dir", str(run), *self.defs[name],
        )  # fmt: skip
        return [train, frontier]

    def job(self, seed: str, name: str, cmds: list[list[str]]) -> Job:
        """One study run as a pool job: a small Python driver runs its commands in turn and marks
        the run done (an unfinished earlier attempt is started over)."""
        run = self.run_dir(seed, name)
        if run.exists():
            shutil.rmtree(run)
        run.parent.mkdir(parents=True, exist_ok=True)
        driver = [sys.executable, __file__, "--_drive", json.dumps({"cmds": cmds, "run": str(run)})]
        return Job(f"s{seed}/{name}", [(driver, None)], run.parent / f"{name}.log")

    def run(self) -> None:
        """Three rounds on one pool: each seed's shared MLE run; the GAN variants from it; then the
        ``mle`` runs, whose extra epochs match the slowest GAN run of their seed (equal wall clock)."""
        a = self.a
        gans = [v for v in self.variants if v != "mle"]
        rounds = [
            [(s, "mle-pre") for s in self.seeds],
            [(s, v) for s in self.seeds for v in gans],
            [(s, "mle") for s in self.seeds if "mle" in self.variants],
        ]
        for jobs in rounds:
            left = a.deadline - (time.time() - self.start) if a.deadline else 0.0
            if a.deadline and left <= 0:
                print("deadline reached; the study is partial (rerun it to go on)", flush=True)
                return
            ready = []
            for seed, name in jobs:
                if self.done(seed, name):
                    continue
                cmds = self.jobs_for(seed, name)
                if cmds is None:
                    print(f"cannot start s{seed}/{name}: a run it needs did not finish", flush=True)
                    continue
                ready.append(self.job(seed, name, cmds))
            pool = Pool(a.parallel, deadline=left, env=self.env)
            pool.run(ready)
            if pool.stopping:  # SIGTERM / SIGINT to the study: no further round
                return

    # -- summary ----------------------------------------------------------------------
    def summary(self) -> str:
        a = self.a
        from textgan.metrics.temperature import value_at
        from textgan.plot import plot_frontier

        names = ["mle-pre", *self.variants]
        runs = {(s, n): self.info(s, n) for s in self.seeds for n in names if self.done(s, n)}
        with open(self.out / "results.jsonl", "w") as f:
            for (s, n), info in runs.items():
                f.write(json.dumps({"variant": n, "seed": s, **info}) + "\n")
        if not runs:
            return "no finished runs\n"
        oracle = "nll_oracle" in next(iter(runs.values()))["frontier"][0]
        keys = ORACLE_KEYS if oracle else REAL_KEYS
        temps = sorted({p["temperature"] for info in runs.values() for p in info["frontier"]})

        ms = mean_std

        lines = [
            f"Study in `{self.out}`: preset {a.preset}, data {a.data or 'preset default'}, seeds {a.seeds}, "
            f"{a.mle_epochs} MLE epochs shared per seed, {a.adv_steps} adversarial iterations per GAN run, "
            f"`mle` = MLE continued for the slowest GAN's wall time; {a.samples_per_point} samples per temperature; "
            f"device {a.device}, {a.threads_per_run} thread(s) per run, {a.parallel} runs at a time.",
            "",
            "Wall time per run (training only, minutes) and MLE epochs of the `mle` runs:",
            "",
            "| variant | seeds done | train minutes | extra |",
            "|---|---|---|---|",
        ]
        for n in names:
            infos = [runs[(s, n)] for s in self.seeds if (s, n) in runs]
            extra = ms([i["mle_epochs"] for i in infos], 0) + " MLE epochs" if n == "mle" and infos else ""
            lines.append(f"| {n} | {len(infos)} | {ms([i['train_seconds'] / 60 for i in infos], 1)} | {extra} |")
        # Matched diversity. Only the branch of each curve from the lowest T up to its most diverse
        # point is used: NLL_test stops falling (and rises) above some T near 1, and it is lowering T
        # that trades diversity for quality.
        if oracle:
            qk, dk, sign = "nll_oracle", "nll_test", -1.0  # lower NLL_oracle is better
            what = "NLL_oracle at the T where NLL_test"
        else:
            qk, dk, sign = "bleu4", "self_bleu4", 1.0
            what = "BLEU-4 at the T where self-BLEU-4"
        refs = [r for r in ("mle-pre", "mle") if r in names]

        def branch(points: list[dict]) -> list[dict]:
            pts = sorted(points, key=lambda p: p["temperature"])
            best = min(range(len(pts)), key=lambda i: pts[i][dk])
            return pts[: best + 1]

        lines += [
            "",
            f"Matched diversity, mean ± std over seeds. `matched`: {what} equals the `mle` run's at T = 1 "
            "(`-`: the run never reaches that diversity). `gain vs tempered X`: the run's quality "
            "at T = 1 against the quality X reaches, by lowering its temperature, at the same diversity "
            "(positive: the run is better than tempering X; `-`: outside X's swept range).",
            "",
            "| variant | matched | its T | "
            + " | ".join(f"gain vs tempered {r}" for r in refs)
            + " | at T = 1: "
            + " | ".join(keys)
            + " |",
            "|---" * (3 + len(refs) + len(keys)) + "|",
        ]
        target_name = "mle" if "mle" in names else "mle-pre"
        for n in names:
            matched, tees, at1, gains = [], [], {k: [] for k in keys}, {r: [] for r in refs}
            for s in self.seeds:
                if (s, n) not in runs:
                    continue
                pts = runs[(s, n)]["frontier"]
                one = next((p for p in pts if p["temperature"] == 1.0), None)
                if one is None:
                    continue
                for k in keys:
                    at1[k].append(one[k])
                for r in refs:
                    if (s, r) in runs:
                        ref_q = value_at(branch(runs[(s, r)]["frontier"]), dk, one[dk], qk)
                        if ref_q is not None:
                            gains[r].append(sign * (one[qk] - ref_q))
                if (s, target_name) in runs:
                    tgt = next((p for p in runs[(s, target_name)]["frontier"] if p["temperature"] == 1.0), None)
                    if tgt is not None:
                        q = value_at(branch(pts), dk, tgt[dk], qk)
                        if q is not None:
                            matched.append(q)
                            tees.append(value_at(branch(pts), dk, tgt[dk], "temperature"))
            lines.append(
                f"| {n} | {ms(matched)} | {ms(tees, 2)} | "
                + " | ".join(f"{ms(gains[r])} ({len(gains[r])})" for r in refs)
                + " | "
                + " | ".join(ms(at1[k]) for k in keys)
                + " |"
            )
        lines += ["", "Frontier per temperature (mean ± std over seeds):", ""]
        lines += ["| variant | T | " + " | ".join(keys) + " |", "|---" * (2 + len(keys)) + "|"]
        mean_dir = self.out / "mean"
        mean_dir.mkdir(exist_ok=True)
        plotted = []
        for n in names:
            curve = []
            for t in temps:
                vals = {k: [] for k in keys}
                for s in self.seeds:
                    p = next((p for p in runs.get((s, n), {}).get("frontier", []) if p["temperature"] == t), None)
                    if p:
                        for k in keys:
                            vals[k].append(p[k])
                if vals[keys[0]]:
                    lines.append(f"| {n} | {t:g} | " + " | ".join(ms(vals[k]) for k in keys) + " |")
                    curve.append({"temperature": t, **{k: statistics.mean(v) for k, v in vals.items()}})
            if curve:
                (mean_dir / f"{n}.jsonl").write_text("".join(json.dumps(p) + "\n" for p in curve))
                plotted.append(n)
        if plotted:
            plot_frontier(
                [str(mean_dir / f"{n}.jsonl") for n in plotted],
                self.out / "frontier.png",
                labels=plotted,
                title=f"{a.preset}: mean over seeds {a.seeds} (points: temperature)",
            )
        text = "\n".join(lines) + "\n"
        (self.out / "summary.md").write_text(text)
        return text


def drive(spec: str) -> int:
    """Child process: run the commands of one study run in order; mark it done on success."""
    job = json.loads(spec)
    run = Path(job["run"])
    t_train = 0.0
    frontier_out = None
    for cmd in job["cmds"]:
        print("$", " ".join(cmd), flush=True)
        if cmd[0] == "copy":
            shutil.copytree(cmd[1], cmd[2])
            (Path(cmd[2]) / "study-done.json").unlink(missing_ok=True)
            (Path(cmd[2]) / "frontier.jsonl").unlink(missing_ok=True)
            continue
        t0 = time.time()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            print(f"exit code {proc.returncode}", flush=True)
            return proc.returncode
        if "train" in cmd[3:5]:
            t_train += time.time() - t0
        else:
            from textgan.plot import read_frontier

            frontier_out = read_frontier(run)  # the run's frontier.jsonl, written by the command
    cfg = json.loads((run / "config.json").read_text())
    records = read_records(run / "metrics.jsonl")
    info = {
        "train_seconds": round(t_train, 1),
        "mle_epochs": cfg["train"]["mle_epochs"],
        "adv_steps": cfg["adv"]["adv_steps"] if cfg.get("init_from") else 0,
        "last_record": records[-1] if records else {},
        "frontier": frontier_out or [],
    }
    (run / "study-done.json").write_text(json.dumps(info))
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--_drive":
        return drive(sys.argv[2])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="oracle", help="textgan train lm preset (oracle, coco, ...)")
    p.add_argument("--data", default="", help="corpus directory (default: the preset's)")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--mle-epochs", type=int, default=3, help="shared MLE pretraining epochs per seed")
    p.add_argument("--adv-steps", type=int, default=40, help="adversarial iterations per GAN run")
    p.add_argument("--variants", default="mle,rsgan,wgan-gp,ppo-paper,ppo-best")
    p.add_argument("--define", action="append", default=[], help="extra variant: 'NAME=--flag value ...'")
    p.add_argument("--temperatures", default="0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2")
    p.add_argument("--samples-per-point", type=int, default=1000)
    p.add_argument("--eval-seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--threads-per-run", type=int, default=1)
    p.add_argument("--deadline", type=float, default=0.0, help="seconds; no run starts after it, running ones stop")
    p.add_argument("--extra", default="", help="extra flags for every training run")
    p.add_argument("--summary-only", action="store_true", help="only rebuild the summary of finished runs")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    study = Study(a)
    if not a.summary_only:
        study.run()
    print(study.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
