"""Style-transfer study: variants x seeds from one autoencoder, at one adversarial budget.

Every run starts from the same autoencoder run (``textgan train style --init-from AE``) and gets
the same ``--adv-steps`` (which also sets the beta schedule), ``--adv-eval-every`` and learning
rate; variants differ only in their own flags. Each finished run is scored once more with
``textgan eval style`` (greedy, evaluator classifier, perplexity under ``--lm``) into
``RUN/eval.json``. Accuracy swings between evaluations of one run, so the summary also gives
the mean of each run's last ``--last`` periodic evaluations.

Outputs in ``--out``: ``s<seed>/<variant>/`` run dirs, ``results.jsonl`` (one line per finished
run), ``summary.md`` (mean ± std over seeds). Finished runs are skipped and interrupted ones
resumed, so the study can be rerun to continue. With ``--deadline S`` no run starts after S
seconds and running ones get SIGTERM (they checkpoint and can be resumed).

Usage (the README's Yelp study):
  python scripts/style_study.py --ae runs/yelp-ae-wd --data ../shared/data/yelp \\
      --classifier runs/yelp-clf --lm runs/yelp-lm --variants ppo,wgan-gp --seeds 1,2 \\
      --adv-steps 200 --parallel 2 --deadline 6000 --out runs/style-study
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from runner import Job, Pool, mean_std, read_records, shell, textgan, thread_env

VARIANTS: dict[str, list[str]] = {
    "ppo": ["--loss", "ppo"],
    "wgan-gp": ["--loss", "wgan-gp"],
    "ppo-no-clip": ["--loss", "ppo", "--no-clip"],
    "ppo-no-reweight": ["--loss", "ppo", "--no-reweight"],
    "ppo-cycle": ["--loss", "ppo", "--cycle-weight", "1"],
}
KEYS = ("accuracy", "bleu_src", "bleu_ref", "bleu_ref_multi", "ppl", "gm")
PERIODIC = ("accuracy", "bleu_src", "bleu_ref", "gm")


def finished(run: Path) -> bool:
    return (run / "eval.json").is_file()


def score_command(a: argparse.Namespace, run: Path, flags: list[str] = (), name: str = "") -> list[str]:
    """``textgan eval style`` of a run (greedy, or with decoding ``flags`` into ``transfers-NAME.tsv``)."""
    cmd = textgan("eval", "style", "--run", str(run), "--data", a.data, "--classifier", a.classifier, "--json")
    if a.lm:
        cmd += ["--lm", a.lm]
    if name:
        cmd += [*flags, "--out", str(run / f"transfers-{name}.tsv")]
    return cmd


def decode_evals(a: argparse.Namespace, run: Path) -> list[tuple[list[str], Path]]:
    """The ``--decode`` scorings of a run still missing: (command, its JSON output file)."""
    return [
        (score_command(a, run, flags, name), run / f"eval-{name}.json")
        for name, flags in a.decodes.items()
        if not (run / f"eval-{name}.json").is_file()
    ]


def commands(a: argparse.Namespace, run: Path, flags: list[str], seed: str) -> list[tuple[list[str], Path | None]]:
    if (run / "checkpoints" / "last.pt").is_file():
        train = textgan("train", "style", "--resume", "--run-dir", str(run), "--no-progress")
    else:
        train = textgan(
            "train", "style", "--preset", a.preset, "--data", a.data, "--init-from", a.ae,
            "--eval-classifier", a.classifier, "--adv-steps", str(a.adv_steps),
            "--adv-eval-every", str(a.adv_eval_every), "--adv-lr", str(a.adv_lr), "--seed", seed,
            "--run-dir", str(run), "--no-progress", *flags,
        )  # fmt: skip
    # eval.json last: it marks the run finished
    return [(train, None), *decode_evals(a, run), (score_command(a, run), run / "eval.json")]


def summarize(a: argparse.Namespace, jobs: list[tuple[str, str, Path]]) -> None:
    rows: dict[str, list[dict[str, float]]] = {}
    with open(Path(a.out) / "results.jsonl", "w", encoding="utf-8") as out:
        for seed, name, run in jobs:
            if not finished(run):
                continue
            final = json.loads((run / "eval.json").read_text())
            recs = read_records(run / "metrics.jsonl")
            adv = [r for r in recs if r.get("phase") == "adv"][-a.last :]
            last = {}
            for k in PERIODIC:
                vals = [r[k] for r in adv if isinstance(r.get(k), (int, float)) and r[k] == r[k]]
                last[f"last_{k}"] = statistics.mean(vals) if vals else None
            row = {"variant": name, "seed": int(seed), **{k: final.get(k) for k in KEYS}, **last}
            out.write(json.dumps(row) + "\n")
            rows.setdefault(name, []).append(row)
            for dname in a.decodes:  # the same model with another decoding (no periodic evaluations)
                path = run / f"eval-{dname}.json"
                if path.is_file():
                    scored = json.loads(path.read_text())
                    drow = {"variant": f"{name}+{dname}", "seed": int(seed), **{k: scored.get(k) for k in KEYS}}
                    out.write(json.dumps(drow) + "\n")
                    rows.setdefault(drow["variant"], []).append(drow)

    def cell(vals: list[float | None], digits: int = 1) -> str:
        return mean_std([v if isinstance(v, (int, float)) and v == v else None for v in vals], digits)  # no NaN

    cols = [*KEYS, *(f"last_{k}" for k in PERIODIC)]
    lines = [
        f"Style study: {a.adv_steps} adversarial iterations from {a.ae}, adv-lr {a.adv_lr}"
        f"{', common flags ' + a.common if a.common else ''}; mean ± std over seeds "
        f"(final greedy evaluation; last_*: mean of the last {a.last} periodic evaluations).",
        "",
        "| variant | seeds | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for name, rs in rows.items():
        seeds = ",".join(str(r["seed"]) for r in rs)
        lines.append(f"| {name} | {seeds} | " + " | ".join(cell([r.get(c) for r in rs]) for c in cols) + " |")
    (Path(a.out) / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines), flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ae", required=True, help="autoencoder style run to start every variant from")
    p.add_argument("--data", required=True)
    p.add_argument("--classifier", required=True, help="evaluator classifier run")
    p.add_argument("--lm", default="", help="LM run for the perplexity of the transfers")
    p.add_argument("--preset", default="yelp")
    p.add_argument("--variants", default="ppo,wgan-gp", help=f"comma-separated, from {', '.join(VARIANTS)}")
    p.add_argument("--define", action="append", default=[], help="NAME=FLAGS: a variant of your own")
    p.add_argument("--common", default="", help="flags given to every variant (e.g. '--word-drop 0.15')")
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--adv-steps", type=int, default=200)
    p.add_argument("--adv-eval-every", type=int, default=50)
    p.add_argument("--adv-lr", type=float, default=5e-4)
    p.add_argument("--last", type=int, default=3, help="periodic evaluations averaged in last_* columns")
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--deadline", type=float, default=0.0, help="seconds; no run starts after it, running ones stop")
    p.add_argument(
        "--decode",
        action="append",
        default=[],
        help="NAME=FLAGS: also score every run with `textgan eval style FLAGS` (e.g. 'b4=--beam 4 --style-rerank "
        "0.5'), reported as VARIANT+NAME; finished runs without it are scored when the study (or --summary-only) runs",
    )
    p.add_argument("--summary-only", action="store_true")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    variants = dict(VARIANTS)
    for spec in a.define:
        name, _, flags = spec.partition("=")
        variants[name] = flags.split()
    a.decodes = {}
    for spec in a.decode:
        name, _, flags = spec.partition("=")
        a.decodes[name] = flags.split()
    names = a.variants.split(",")
    unknown = [n for n in names if n not in variants]
    if unknown:
        print(f"error: unknown variants {unknown} (known: {', '.join(variants)})", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(s, n, out / f"s{s}" / n) for s in a.seeds.split(",") for n in names]
    env = thread_env(a.threads)
    for _, _, run in jobs:  # finished runs not yet scored with every --decode
        if finished(run):
            for cmd, target in decode_evals(a, run):
                print(f"score {run} -> {target.name}", flush=True)
                subprocess.run(["bash", "-c", shell([(cmd, target)])], env=env, check=False)
    if a.summary_only:
        summarize(a, jobs)
        return 0
    pool_jobs = []
    for seed, name, run in jobs:
        if finished(run):
            continue
        flags = [*a.common.split(), *variants[name]]
        info = {"seed": seed, "name": name, "run": run}
        pool_jobs.append(Job(f"s{seed}/{name}", commands(a, run, flags, seed), run.parent / f"{run.name}.log", info))
    Pool(a.parallel, a.deadline, env, on_done=lambda job, code: summarize(a, jobs), poll=5.0).run(pool_jobs)
    summarize(a, jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
