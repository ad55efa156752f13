"""Tune a style run's decoding on the dev split, then score the chosen flags on test.

Every combination of ``--beams``, ``--style-rerank`` and ``--content-rerank`` weights and
``--content-orders`` (with ``--no-repeat``) is scored with ``textgan eval style --split dev``
(evaluator accuracy and BLEU-src; dev has no human rewrites), one call per run and beam: the rerank
weights only rank each sentence's final beam, so one beam search serves them all. The rule, fixed before any test number is seen: among the settings whose
dev accuracy is at least ``--min-accuracy``, the one with the highest dev BLEU-src (if none reaches
it, the most accurate). The chosen flags are then scored on test, for this run and any ``--also``
runs, with the perplexity LM if given.

    python scripts/style_decode_sweep.py --run runs/yelp-study/s1/ppo-cycle3 --data ../shared/data/yelp \\
        --classifier runs/yelp-clf --lm runs/yelp-lm --also runs/yelp-study/s2/ppo-cycle3 --out runs/sweep

With ``--tune-each`` every run (``--run`` and each ``--also``) gets its own choice by the same
rule on its own dev split, as a user tuning their own run would; ``--parallel N`` runs N
evaluations at once (one subprocess each). With ``--save`` each run's chosen flags go to
``RUN/decoding.json``, which ``textgan transfer RUN`` then uses by default.

Writes ``OUT/dev.jsonl`` (``OUT/<seed>-<variant>/dev.jsonl`` per run with ``--tune-each``; one line
per setting, appended as they finish, so a rerun skips them), ``OUT/test.jsonl`` and
``OUT/summary.md`` (per run, and mean ± std per variant over its seed folders).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def flags_of(beam: int, style: float, content: float, order: int = 2) -> list[str]:
    out = ["--beam", str(beam), "--no-repeat"]
    if style:
        out += ["--style-rerank", f"{style:g}"]
    if content:
        out += ["--content-rerank", f"{content:g}"]
        if order != 2:
            out += ["--content-order", str(order)]
    return out


def score(run: str, a: argparse.Namespace, split: str, flags: list[str], tag: str) -> list[dict]:
    """One ``textgan eval style`` in a subprocess (one torch thread): its JSON results, one per
    combination of the flags' comma-separated rerank values (all ranked from one beam search)."""
    out = Path(a.out) / f"transfers-{run_tag(run)}-{split}-{tag}.tsv"
    cmd = [sys.executable, "-m", "textgan", "eval", "style", "--run", run, "--data", a.data]
    cmd += ["--classifier", a.classifier, "--split", split, "--out", str(out), "--json", *flags]
    if a.lm and split == "test":
        cmd += ["--lm", a.lm]
    cmd += extra_flags(a)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    start = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(f"error: {' '.join(cmd)} failed: {res.stderr.strip().splitlines()[-1:]}")
    results = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    for r in results:  # each combination's share of the call
        r["seconds"] = round((time.time() - start) / len(results), 1)
    return results


def extra_flags(a: argparse.Namespace) -> list[str]:
    """The flags every setting shares: ``--style-words``, ``--content-slots``, ``--fluency-rerank`` with its LM,
    ``--insert-penalty``."""
    out = ["--style-words", f"{a.style_words:g}"] if a.style_words else []
    out += ["--content-slots"] if a.content_slots else []
    if a.fluency_rerank:
        out += ["--fluency-rerank", f"{a.fluency_rerank:g}", "--fluency-lm", a.fluency_lm]
    if a.insert_penalty:
        out += ["--insert-penalty", f"{a.insert_penalty:g}"]
    return out


def joined(values: list) -> str:
    return ",".join(f"{v:g}" for v in sorted(set(values)))


SETTING = ("beam", "style_rerank", "content_rerank", "content_order")  # one grid point, as its result's keys


def setting_of(result: dict) -> tuple:
    """A dev result's grid point ``(beam, style_rerank, content_rerank, content_order)`` (order 2 for
    results written before the order was a setting)."""
    return tuple(result.get(k, 2) if k == "content_order" else result[k] for k in SETTING)


def run_tag(run: str) -> str:
    """``s1-ppo-cycle3`` for ``.../s1/ppo-cycle3``: a run's seed folder and variant."""
    parent = Path(run).parent.name
    return f"{parent}-{Path(run).name}" if parent else Path(run).name


def choose(rows: list[dict], min_accuracy: float) -> dict:
    """The rule: the highest dev BLEU-src among settings with dev accuracy >= ``min_accuracy``
    (ties: the earlier setting), else the most accurate setting."""
    ok = [r for r in rows if r["accuracy"] >= min_accuracy]
    return max(ok, key=lambda r: r["bleu_src"]) if ok else max(rows, key=lambda r: r["accuracy"])


def num(value: float | None, digits: int = 1) -> str:
    """A number for the tables, ``-`` when missing (no human rewrites: no BLEU-ref, no GM)."""
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def mean_std(values: list[float | None]) -> str:
    if any(v is None or v != v for v in values):
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.1f} ± {std:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="style run to tune on (dev)")
    p.add_argument("--also", action="append", default=[], help="more runs scored on test with the chosen flags")
    p.add_argument(
        "--tune-each",
        action="store_true",
        help="tune every run (--run and each --also) on its own dev split by the same rule, "
        "instead of applying --run's choice to all",
    )
    p.add_argument(
        "--save",
        action="store_true",
        help="write each run's chosen flags to RUN/decoding.json, the default of `textgan transfer RUN`",
    )
    p.add_argument("--data", required=True)
    p.add_argument("--classifier", required=True, help="evaluator classifier run")
    p.add_argument("--lm", default=None, help="LM run for the perplexity of the test transfers")
    p.add_argument("--beams", default="4,8")
    p.add_argument("--style-rerank", default="0.5,1,2", help="comma-separated weights")
    p.add_argument("--content-rerank", default="0,1,2,4", help="comma-separated weights")
    p.add_argument("--content-orders", default="2", help="comma-separated n-gram orders of the content overlap (1-4)")
    p.add_argument(
        "--style-words",
        type=float,
        default=0.0,
        help="eval style --style-words TAU for every setting (the source's style words left out of the content overlap)",
    )
    p.add_argument(
        "--content-slots",
        action="store_true",
        help="eval style --content-slots for every setting (the source's style words become slots any one word fills)",
    )
    p.add_argument(
        "--fluency-rerank",
        type=float,
        default=0.0,
        help="eval style --fluency-rerank W for every setting (the rank adds W times the mean log p per token "
        "under --fluency-lm)",
    )
    p.add_argument("--fluency-lm", default=None, help="LM run of --fluency-rerank (another than --lm)")
    p.add_argument(
        "--insert-penalty",
        type=float,
        default=0.0,
        help="eval style --insert-penalty W for every setting (hypotheses that only insert words rank W lower)",
    )
    p.add_argument("--min-accuracy", type=float, default=87.0, help="dev accuracy a setting must reach")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each evaluation")
    p.add_argument("--parallel", type=int, default=1, help="evaluations at once")
    p.add_argument("--deadline", type=float, default=None, help="seconds; no evaluation starts after it")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.fluency_rerank and not a.fluency_lm:
        p.error("--fluency-rerank: needs --fluency-lm LM_RUN")
    start = time.time()
    out = Path(a.out)
    runs = list(dict.fromkeys([a.run, *a.also]))  # each run once, even when --also repeats --run
    tuned = runs if a.tune_each else [a.run]
    tuned_on = {run: run if a.tune_each else a.run for run in runs}  # whose dev split picks each run's flags
    lock = threading.Lock()
    dev_file = {run: (out / run_tag(run) if a.tune_each else out) / "dev.jsonl" for run in tuned}
    done: dict[str, dict[tuple, dict]] = {run: {} for run in tuned}
    for run, path in dev_file.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_text().splitlines():
                r = json.loads(line)
                done[run][setting_of(r)] = r
    from textgan.decoding import CONTENT_ORDERS, rerank_grid

    orders = [int(o) for o in a.content_orders.split(",") if o.strip()]
    if not orders or any(o not in CONTENT_ORDERS for o in orders):
        p.error("--content-orders: comma-separated values from 1 to 4")
    combos = rerank_grid(floats(a.style_rerank), floats(a.content_rerank), orders)
    grid = [(int(b), *combo) for b in a.beams.split(",") for combo in combos]
    todo = [(run, setting) for run in tuned for setting in grid if setting not in done[run]]
    partial = False

    def dev_job(run: str, beam: int, points: list[tuple]) -> None:
        """The missing ``points`` of one run and beam: one evaluation, one beam search for them all."""
        nonlocal partial
        if a.deadline and time.time() - start > a.deadline:
            partial = True
            return
        flags = ["--beam", str(beam), "--no-repeat", "--style-rerank", joined([p[1] for p in points])]
        flags += ["--content-rerank", joined([p[2] for p in points]), "--content-order", joined([p[3] for p in points])]
        results = score(run, a, "dev", flags, f"b{beam}")
        if len(results) == 1:  # a single combination comes back without its weights
            results[0].update(style_rerank=points[0][1], content_rerank=points[0][2], content_order=points[0][3])
        with lock:
            for r in results:
                r["beam"] = beam
                setting = setting_of(r)
                if setting not in points:  # a combination of the lists that the grid lacks
                    continue
                done[run][setting] = r
                with dev_file[run].open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(
                    f"dev {run_tag(run)} beam {beam} style {setting[1]:g} content {setting[2]:g} order "
                    f"{setting[3]}: acc {r['accuracy']:.1f} bleu_src {r['bleu_src']:.2f}",
                    flush=True,
                )

    jobs: dict[tuple, list[tuple]] = {}
    for run, setting in todo:
        jobs.setdefault((run, setting[0]), []).append(setting)
    with ThreadPoolExecutor(max(1, a.parallel)) as pool:
        for future in [pool.submit(dev_job, run, beam, points) for (run, beam), points in jobs.items()]:
            future.result()
    if partial:
        print("deadline reached: the sweep is partial; rerun to go on", file=sys.stderr)
        return 1
    rows = {run: sorted(done[run].values(), key=setting_of) for run in tuned}
    best = {run: choose(rows[run], a.min_accuracy) for run in tuned}
    rule = f"highest dev BLEU-src with dev accuracy >= {a.min_accuracy:g}"
    chosen = {run: flags_of(*setting_of(best[tuned_on[run]])) for run in runs}
    for run in tuned:
        print(f"chosen on dev for {run_tag(run)}:", " ".join(chosen[run]), flush=True)
    if a.save:
        from textgan.decoding import write_decoding

        for run in runs:
            b = best[tuned_on[run]]
            decoding = {**dict(zip(SETTING, setting_of(b), strict=True)), "no_repeat": True}
            if a.style_words and decoding["content_rerank"]:
                decoding["style_words"] = a.style_words
            if a.content_slots and decoding["content_rerank"]:
                decoding["content_slots"] = True
            if a.fluency_rerank:
                decoding.update(fluency_rerank=a.fluency_rerank, fluency_lm=a.fluency_lm)
            if a.insert_penalty:
                decoding["insert_penalty"] = a.insert_penalty
            path = write_decoding(
                run,
                decoding,
                chosen_by=f"scripts/style_decode_sweep.py on the dev split of {tuned_on[run]}: {rule}",
                dev_accuracy=round(b["accuracy"], 2),
                dev_bleu_src=round(b["bleu_src"], 2),
            )
            print(f"saved {path}", flush=True)

    def test_job(run: str) -> dict:
        r = score(run, a, "test", chosen[run], "chosen")[0]
        r.update(run=run, flags=" ".join([*chosen[run], *extra_flags(a)]))
        print(
            f"test {run}: acc {r['accuracy']:.1f} bleu_src {r['bleu_src']:.2f} bleu_ref {num(r['bleu_ref'], 2)} "
            f"ppl {num(r['ppl'])} gm {num(r['gm'], 2)}",
            flush=True,
        )
        return r

    with ThreadPoolExecutor(max(1, a.parallel)) as pool:
        test_rows = list(pool.map(test_job, runs))
    (out / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test_rows))
    lines = [
        f"Decoding sweep on dev ({rule}); "
        + ("each run tuned on its own dev." if a.tune_each else f"tuned on {a.run}, applied to every run."),
        "",
    ]
    for run in tuned:
        lines += [
            f"Dev of {run}:",
            "",
            "| beam | style W | content W | order | dev accuracy | dev BLEU-src | seconds (share of its call) |",
        ]
        lines.append("|---|---|---|---|---|---|---|")
        for r in rows[run]:
            mark = " **chosen**" if r is best[run] else ""
            lines.append(
                f"| {r['beam']} | {r['style_rerank']:g} | {r['content_rerank']:g} | {r.get('content_order', 2)} | "
                f"{r['accuracy']:.1f} | "
                f"{r['bleu_src']:.1f}{mark} | {r['seconds']} |"
            )
        lines.append("")
    lines += [
        "Test:",
        "",
        "| run | flags | accuracy | BLEU-src | BLEU-ref | PPL | GM |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in test_rows:
        lines.append(
            f"| {r['run']} | `{r['flags']}` | {r['accuracy']:.1f} | {r['bleu_src']:.1f} | {num(r['bleu_ref'])} | "
            f"{num(r.get('ppl'), 0)} | {num(r['gm'])} |"
        )
    by_variant: dict[str, list[dict]] = {}
    for r in test_rows:
        by_variant.setdefault(Path(r["run"]).name, []).append(r)
    if any(len(v) > 1 for v in by_variant.values()):
        lines += ["", "Test, mean ± std over the runs of each variant (seed folders):", ""]
        lines += ["| variant | runs | accuracy | BLEU-src | BLEU-ref | PPL | GM |", "|---|---|---|---|---|---|---|"]
        for variant, rs in by_variant.items():
            cols = [mean_std([r[k] for r in rs]) for k in ("accuracy", "bleu_src", "bleu_ref")]
            ppl = mean_std([r.get("ppl") for r in rs])
            seeds = ",".join(Path(r["run"]).parent.name for r in rs)
            lines.append(f"| {variant} | {seeds} | {' | '.join(cols)} | {ppl} | {mean_std([r['gm'] for r in rs])} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print(f"summary in {out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
