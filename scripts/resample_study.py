"""The resampling study: does sampling from q ∝ p_θ · exp(A · s) beat tempered MLE on the frontier?

For each seed (one process per seed; run two seeds side by side), in ``--out/s<seed>/``:

1. ``mle``: ``textgan train lm --preset P --mle-epochs E --adv-steps 0`` (early-stopped tempered
   MLE is the baseline every sampler is compared with);
2. ``d-train``: ``textgan train ratio --run mle`` (D on the training split, early-stopped on a
   held-out slice of it); on the oracle also ``d-fresh``: ``--fresh-real`` (a fresh oracle batch
   every step: the upper bound with unlimited real data);
3. frontiers, each a ``textgan eval lm --run mle --temperatures ...`` with ``--reverse-lm``:
   ``tempered`` (plain sampling over ``--temperatures``), ``tempered-again`` (the same generator at
   ``--sir-temperatures`` with other samples: the noise floor of every gain; ``--no-noise-check``
   leaves it out) and, per D, ``sir-<d>`` (``--resample M --alpha A1,A2,..`` over
   ``--sir-temperatures``; ``--resample-sweep`` adds ``sir-<d>-m<M>`` at other M; ``--d-ensemble k``
   adds ``sir-d-ens<k>``, resampled by the mean logit of k Ds that differ only in D's seed, and
   ``sir-d-member<j>`` for each of them alone: the summary then sets the spread of the gain over D's
   seeds beside its spread over the study's seeds; ``--d-kind NAME=FLAGS`` trains another kind of D,
   ``d-NAME``, and adds ``sir-d-NAME`` and ``sir-d-train+NAME``, resampled by it alone and by its mean
   logit with ``d-train``).

Each step is skipped when its output exists, so the study resumes; ``--deadline S`` stops starting
steps after S seconds. Each seed notes the machines that ran its steps (``s<seed>/machine.json``:
CPU name, family and model, torch's vector extension and version), and the summary names them: one
seed gives the same bits on one machine, and other numbers on another micro-architecture.
``--summary`` (no training) reads every seed's frontiers and writes ``summary.md``, ``results.jsonl``
and the figures ``frontier.png`` (NLL_oracle vs NLL_test, q's in the M → ∞ limit) and
``frontier-reverse.png`` (NLL_oracle vs the reverse LM score, the sample-based coverage that holds
every sampler). Gains are measured against the same seed's
tempered curve at matched coverage: positive = lower NLL_oracle than tempering reaches there.

On real data (``--data DIR``, no oracle) the quality axis is ``lm_nll``: the samples' NLL under a
*judge*, an LM of another architecture trained once on the real training split (``--out/judge``,
``--judge-flags``; the first seed process to get ``judge.lock`` trains it, the others go on and
wait for it before their first evaluation).

Usage (the README's oracle study):
  for s in 1 2; do python scripts/resample_study.py --seed $s --out runs/resample-oracle & done; wait
  python scripts/resample_study.py --seed 3 --out runs/resample-oracle
  python scripts/resample_study.py --summary --seeds 1,2,3 --out runs/resample-oracle

COCO (the judge is trained by one of the two):
  for s in 1 2; do python scripts/resample_study.py --preset coco --data ../shared/data/coco \
      --mle-epochs 5 --seed $s --out runs/resample-coco & done; wait
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from runner import describe_machine, machine, textgan
from runner import mean_std as ms
from runner import read_records as read

NOISE_SEED_OFFSET = 1000  # --noise-check samples with seed + this: other samples of the same generator
ENSEMBLE_SEED_STEP = 100  # --d-ensemble: member k's D has seed + k * this


def steps(a: argparse.Namespace, seed_dir: Path) -> list[tuple[Path, list[str]]]:
    """(output that marks the step done, command) for one seed, in order."""
    mle = seed_dir / "mle"
    train = textgan(
        "train", "lm", "--preset", a.preset, "--seed", str(a.seed), "--mle-epochs", str(a.mle_epochs),
        "--eval-every", str(a.mle_epochs), "--adv-steps", "0", "--no-progress", "--device", a.device,
        "--run-dir", str(mle), *(["--data", a.data] if a.data else []),
    )  # fmt: skip
    out = [(mle / "generator.safetensors", train)]
    ds = ["d-train"] + (["d-fresh"] if a.preset == "oracle" and not a.data else [])
    ratio = [
        "--steps",
        str(a.ratio_steps),
        "--seed",
        str(a.seed),
        "--no-progress",
        "--device",
        a.device,
        *a.ratio_flags.split(),
    ]
    for d in ds:
        extra = ["--fresh-real"] if d == "d-fresh" else []
        cmd = textgan("train", "ratio", "--run", str(mle), "--run-dir", str(seed_dir / d), *ratio, *extra)
        out.append((seed_dir / d / "ratio.json", cmd))
    for name, flags in other_kinds(a):  # another kind of D, same data and seed (its flags come last and win)
        cmd = textgan(
            "train", "ratio", "--run", str(mle), "--run-dir", str(seed_dir / f"d-{name}"), *ratio, *flags.split()
        )
        out.append((seed_dir / f"d-{name}" / "ratio.json", cmd))
    members = ensemble_members(a, a.seed)
    for member, seed in members[1:]:  # d-train again with other seeds: the ensemble's other Ds
        cmd = textgan(
            "train", "ratio", "--run", str(mle), "--run-dir", str(seed_dir / member), *ratio, "--seed", str(seed)
        )
        out.append((seed_dir / member / "ratio.json", cmd))

    def evaluation(seed: int) -> list[str]:  # the flags every frontier evaluation shares
        judge = ["--lm", str(judge_dir(a))] if real_data(a) else []
        return ["--samples-per-point", str(a.samples_per_point), "--seed", str(seed), "--reverse-lm", "--json",
                "--device", a.device, *judge]  # fmt: skip

    ev = evaluation(a.seed)
    out.append((seed_dir / "tempered.jsonl", textgan(
        "eval", "lm", "--run", str(mle), "--temperatures", a.temperatures, *ev, "--out", str(seed_dir / "tempered.jsonl")
    )))  # fmt: skip
    if a.noise_check:  # the MLE generator against its own curve, other samples: the comparison's noise
        out.append((seed_dir / "tempered-again.jsonl", textgan(
            "eval", "lm", "--run", str(mle), "--temperatures", a.sir_temperatures, *evaluation(a.seed + NOISE_SEED_OFFSET),
            "--out", str(seed_dir / "tempered-again.jsonl"),
        )))  # fmt: skip
    for name, flags in adversarial(a):
        run = seed_dir / f"adv-{name}"
        out.append((run / "generator.safetensors", textgan(
            "train", "lm", "--init-from", str(mle), "--mle-epochs", "0", "--adv-steps", str(a.adv_steps),
            "--adv-eval-every", str(a.adv_eval_every), "--seed", str(a.seed), "--no-progress", "--device", a.device,
            "--run-dir", str(run), *flags.split(),
        )))  # fmt: skip
        out.append((seed_dir / f"adv-{name}.jsonl", textgan(
            "eval", "lm", "--run", str(run), "--temperatures", a.adv_temperatures, *ev,
            "--out", str(seed_dir / f"adv-{name}.jsonl"),
        )))  # fmt: skip
        if a.adv_alphas:  # the trained generator resampled by its own critic: q ∝ p_θ · exp(A · f)
            out.append((seed_dir / f"adv-{name}-sir.jsonl", textgan(
                "eval", "lm", "--run", str(run), "--temperatures", a.adv_temperatures, "--resample", str(a.resample),
                "--resample-with", "critic", "--alpha", a.adv_alphas, *ev, "--out", str(seed_dir / f"adv-{name}-sir.jsonl"),
            )))  # fmt: skip

    def sir(name: str, ratio: str, temperatures: str = a.sir_temperatures, m: int = a.resample) -> None:
        """SIR from the MLE run by the D(s) in ``ratio`` (one directory, or several: their mean logit)."""
        target = seed_dir / f"{name}.jsonl"
        out.append((target, textgan(
            "eval", "lm", "--run", str(mle), "--temperatures", temperatures, "--resample", str(m),
            "--alpha", a.alphas, "--ratio", ratio, *ev, "--out", str(target),
        )))  # fmt: skip

    for d in ds:
        sir(f"sir-{d}", str(seed_dir / d))
    for k in ensembles(a):  # the mean logit of the first k members
        sir(f"sir-d-ens{k}", ",".join(str(seed_dir / member) for member, _ in members[:k]))
    for j, (member, _) in enumerate(members[1:], start=2):  # each other member alone: D's own seed-to-seed spread
        sir(f"sir-d-member{j}", str(seed_dir / member))
    for name, _ in other_kinds(a):  # the other kind alone, and its mean logit with d-train
        sir(f"sir-d-{name}", str(seed_dir / f"d-{name}"))
        sir(f"sir-d-train+{name}", f"{seed_dir / 'd-train'},{seed_dir / f'd-{name}'}")
    for m in sweep(a):  # the same D at other numbers of proposals
        for d in ds:
            sir(f"sir-{d}-m{m}", str(seed_dir / d), a.sweep_temperatures, m)
    return out


def sweep(a: argparse.Namespace) -> list[int]:
    """The ``--resample-sweep`` values of M other than ``--resample`` (whose files keep their names)."""
    try:
        ms_ = [int(m) for m in a.resample_sweep.split(",") if m.strip()]
    except ValueError:
        raise SystemExit(f"error: --resample-sweep {a.resample_sweep!r}: expected integers like 4,64") from None
    if any(m < 1 for m in ms_):
        raise SystemExit(f"error: --resample-sweep {a.resample_sweep!r}: every M must be >= 1")
    return [m for m in dict.fromkeys(ms_) if m != a.resample]


def ensembles(a: argparse.Namespace) -> list[int]:
    """The ``--d-ensemble`` sizes k >= 2 (k = 1 is ``d-train`` itself)."""
    try:
        ks = [int(k) for k in a.d_ensemble.split(",") if k.strip()]
    except ValueError:
        raise SystemExit(f"error: --d-ensemble {a.d_ensemble!r}: expected integers like 2,3") from None
    if any(k < 1 for k in ks):
        raise SystemExit(f"error: --d-ensemble {a.d_ensemble!r}: every size must be >= 1")
    return sorted({k for k in ks if k > 1})


def ensemble_members(a: argparse.Namespace, seed: int) -> list[tuple[str, int]]:
    """(directory name, D's seed) of the largest ensemble's members: ``d-train`` (the study's seed),
    then ``d-train-seed<seed + 100 k>``, the same recipe with other seeds of D only."""
    size, step = max(ensembles(a), default=1), ENSEMBLE_SEED_STEP
    return [("d-train", seed)] + [(f"d-train-seed{seed + step * k}", seed + step * k) for k in range(1, size)]


def real_data(a: argparse.Namespace) -> bool:
    """Whether the study's corpus has no oracle (its quality axis is then the judge's ``lm_nll``)."""
    return bool(a.data) or a.preset != "oracle"


def judge_dir(a: argparse.Namespace) -> Path:
    return Path(a.out) / "judge"


def judge_step(a: argparse.Namespace) -> tuple[Path, list[str]]:
    """The judge LM of real data: trained once, on the training split, with its own seed (0)."""
    cmd = textgan(
        "train", "lm", "--preset", a.preset, "--seed", "0", "--adv-steps", "0", "--no-progress",
        "--device", a.device, "--run-dir", str(judge_dir(a)), *(["--data", a.data] if a.data else []),
        *a.judge_flags.split(),
    )  # fmt: skip
    return judge_dir(a) / "generator.safetensors", cmd


def adversarial(a: argparse.Namespace) -> list[tuple[str, str]]:
    """The ``--adv NAME=FLAGS`` runs: (name, train lm flags)."""
    out = []
    for spec in a.adv:
        name, _, flags = spec.partition("=")
        if not name or not name.replace("-", "").isalnum():
            raise SystemExit(f"error: --adv {spec!r}: expected NAME=FLAGS with a plain NAME")
        out.append((name, flags))
    return out


def other_kinds(a: argparse.Namespace) -> list[tuple[str, str]]:
    """The ``--d-kind NAME=FLAGS`` Ds: (name, extra train ratio flags)."""
    out = []
    for spec in a.d_kind:
        name, _, flags = spec.partition("=")
        if not name or not name.replace("-", "").isalnum() or name in ("train", "fresh") or name.startswith("train-"):
            raise SystemExit(
                f"error: --d-kind {spec!r}: expected NAME=FLAGS with a plain NAME other than train or fresh"
            )
        out.append((name, flags))
    return out


def finished(done: Path, a: argparse.Namespace) -> bool:
    """Whether a step's output is complete: D's ratio.json with its final test AUC; the MLE run's
    metrics at its last epoch (its generator file is written at every epoch); a frontier file."""
    if not done.is_file():
        return False
    if done.name == "ratio.json":
        return json.loads(done.read_text()).get("test_auc") is not None
    if done.name == "generator.safetensors":
        records = read(done.parent / "metrics.jsonl")
        if done.parent.name.startswith("adv-"):
            return bool(records) and records[-1].get("adv_step") == a.adv_steps
        cfg = json.loads((done.parent / "config.json").read_text())
        return bool(records) and records[-1].get("epoch") == cfg["train"]["mle_epochs"]
    return True


def take_lock(path: Path) -> bool:
    """Create ``path`` holding this pid, or take it over from a pid that no longer runs."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            text = path.read_text().strip()
            if not text and time.time() - path.stat().st_mtime < 10:
                return False  # just created: its holder is writing its pid
            pid = int(text)
            if pid <= 0:
                raise ValueError(text)
            os.kill(pid, 0)
            return False  # its holder runs
        except (ValueError, ProcessLookupError, PermissionError, OSError):
            path.unlink(missing_ok=True)
            return take_lock(path)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def run_seed(a: argparse.Namespace) -> int:
    seed_dir = Path(a.out) / f"s{a.seed}"
    seed_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads)}
    start = time.time()
    times = json.loads((seed_dir / "times.json").read_text()) if (seed_dir / "times.json").is_file() else {}
    note_machine(seed_dir)
    todo = steps(a, seed_dir)
    judge = judge_step(a) if real_data(a) else None
    lock = Path(a.out) / "judge.lock"
    if judge and not finished(judge[0], a) and take_lock(lock):  # one process trains the judge
        todo.insert(0, judge)
    while todo:
        done, cmd = todo[0]
        if finished(done, a):
            todo.pop(0)
            continue
        if a.deadline and time.time() - start > a.deadline:
            print(f"deadline: not starting {done.name}", flush=True)
            return 0
        if judge and done.suffix == ".jsonl" and not finished(judge[0], a):  # evaluations need the judge
            if judge not in todo and take_lock(lock):  # its holder stopped: train it here
                todo.insert(0, judge)
            else:
                time.sleep(30)
            continue
        if done.name == "generator.safetensors" and (done.parent / "checkpoints" / "last.pt").is_file():
            cmd = textgan(
                "train", "lm", "--resume", "--run-dir", str(done.parent), "--no-progress"
            )  # a stopped MLE run
        print("$", " ".join(cmd[2:]), flush=True)
        t0 = time.time()
        name = done.parent.name if done.name in ("ratio.json", "generator.safetensors") else done.stem
        if done.suffix == ".jsonl" and (seed_dir / name).is_dir():  # an adversarial run's evaluation
            name += "-eval"  # its own log and time, not the training run's
        with open(seed_dir / f"{name}.log", "w") as log:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        if proc.returncode != 0:
            print(f"failed ({proc.returncode}): see {seed_dir / (name + '.log')}", flush=True)
            if judge and done == judge[0]:
                lock.unlink(missing_ok=True)  # let a rerun train it
            return proc.returncode
        times[name] = round(time.time() - t0, 1)
        (seed_dir / "times.json").write_text(json.dumps(times, indent=1))
        todo.pop(0)
    return 0


def note_machine(seed_dir: Path) -> None:
    """Add this machine to ``seed_dir/machine.json`` (every machine that ran steps of the seed), so
    that numbers that differ from an earlier run of the same seed can be told from a bug."""
    path = seed_dir / "machine.json"
    seen = json.loads(path.read_text()) if path.is_file() else []
    here = machine()
    if here not in seen:
        path.write_text(json.dumps([*seen, here], indent=1) + "\n")


def machines(out: Path, seeds: list[int]) -> list[str]:
    """The summary's line naming the machines that ran the seeds' steps (``machine.json``)."""
    seen: list[dict] = []
    for s in seeds:
        path = out / f"s{s}" / "machine.json"
        for info in json.loads(path.read_text()) if path.is_file() else []:
            if info not in seen:
                seen.append(info)
    if not seen:
        return []
    if len(seen) == 1:
        return ["", f"Machine: {describe_machine(seen[0])} (every seed)."]
    return ["", "Machines (the seeds' steps ran on several; the same seed can give other numbers on another): "
            + "; ".join(describe_machine(m) for m in seen) + "."]  # fmt: skip


def interp(points: list[dict], xk: str, x: float, yk: str) -> float | None:
    """``yk`` on the tempered curve where ``xk`` equals ``x``, on its branch from the lowest T to its
    lowest ``xk`` (coverage stops improving above some T near 1; lowering T trades coverage for
    quality), by linear interpolation; None outside it."""
    from textgan.metrics.temperature import value_at

    pts = sorted(points, key=lambda p: p["temperature"])
    best = min(range(len(pts)), key=lambda i: pts[i][xk])
    return value_at(pts[: best + 1], xk, x, yk)


def quality_key(points: list[dict]) -> str:
    """The quality axis of a frontier: NLL_oracle on the oracle, else the judge LM's ``lm_nll``."""
    return "nll_oracle" if all("nll_oracle" in p for p in points) else "lm_nll"


def summary(a: argparse.Namespace) -> str:
    from textgan.plot import plot_frontier

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [s.strip() for s in a.seeds.split(",") if s.strip()]
    rows: dict[str, dict[str, list[float]]] = {}
    qk = "nll_oracle"
    results = []
    for s in seeds:
        sd = out / f"s{s}"
        tempered = read(sd / "tempered.jsonl")
        if not tempered:
            continue
        qk = quality_key(tempered)
        # (name, frontier point, the AUC of the score it resamples by or was trained against, or None)
        samplers = [("tempered", p, None) for p in tempered]
        samplers += [("tempered-again", p, None) for p in read(sd / "tempered-again.jsonl")]
        members = [name for name, _ in ensemble_members(a, int(s))]
        aucs = {  # each D's held-out AUC, for the rows that resample by it
            d: json.loads((sd / d / "ratio.json").read_text())["heldout_auc"]
            for d in dict.fromkeys(["d-train", "d-fresh", *members, *(f"d-{n}" for n, _ in other_kinds(a))])
            if (sd / d / "ratio.json").is_file()
        }
        for d in ("d-train", "d-fresh"):
            if d in aucs:
                auc = aucs[d]
                samplers += [(f"sir-{d}", p, auc) for p in read(sd / f"sir-{d}.jsonl")]
                for m in sweep(a):  # the same D
                    samplers += [(f"sir-{d} M={m}", p, auc) for p in read(sd / f"sir-{d}-m{m}.jsonl")]
        for name, _ in other_kinds(a):  # D AUC: its own; with d-train, the mean of the two
            d = f"d-{name}"
            if d in aucs:
                samplers += [(f"sir-{d}", p, aucs[d]) for p in read(sd / f"sir-{d}.jsonl")]
                if "d-train" in aucs:
                    auc = statistics.mean((aucs["d-train"], aucs[d]))
                    samplers += [(f"sir-d-train+{name}", p, auc) for p in read(sd / f"sir-d-train+{name}.jsonl")]
        for k in ensembles(a):  # D AUC: the members' mean held-out AUC
            if all(m in aucs for m in members[:k]):
                auc = statistics.mean(aucs[m] for m in members[:k])
                samplers += [(f"sir-d-ens{k}", p, auc) for p in read(sd / f"sir-d-ens{k}.jsonl")]
        for j, member in enumerate(members[1:], start=2):  # each other member alone
            if member in aucs:
                samplers += [(f"sir-d-member{j}", p, aucs[member]) for p in read(sd / f"sir-d-member{j}.jsonl")]
        for name, _ in adversarial(a):  # the generator trained against the critic, plain sampling
            records = [r for r in read(sd / f"adv-{name}" / "metrics.jsonl") if "critic_auc" in r]
            if records:
                auc = records[-1]["critic_auc"]
                samplers += [(f"adv-{name}", p, auc) for p in read(sd / f"adv-{name}.jsonl")]
                samplers += [(f"adv-{name}-sir", p, auc) for p in read(sd / f"adv-{name}-sir.jsonl")]
        noise: dict[float, float] = {}  # T -> this seed's tempered-again gain @ NLL_test (its noise floor)
        for name, p, auc in samplers:
            label = f"{name} T={p['temperature']:g}" + (f" A={p['alpha']:g}" if "alpha" in p else "")
            result = {"seed": s, "sampler": label, "family": name, **p}
            r = rows.setdefault(
                label,
                {
                    k: []
                    for k in ("quality", "nll_test", "reverse_nll", "ess", "gain_test", "gain_rev", "gain_net", "d_auc")
                },
            )
            if qk in p:
                r["quality"].append(p[qk])
            for k in ("nll_test", "reverse_nll", "ess"):
                if k in p:
                    r[k].append(p[k])
            if auc is not None:
                r["d_auc"].append(auc)
            for key, gk in (("nll_test", "gain_test"), ("reverse_nll", "gain_rev")):
                if name == "tempered":
                    continue
                ref = interp(tempered, key, p[key], qk)
                if ref is not None:
                    r[gk].append(ref - p[qk])
                    result[gk] = ref - p[qk]
                    if gk == "gain_test" and name == "tempered-again":
                        noise[p["temperature"]] = ref - p[qk]
                    elif gk == "gain_test" and p["temperature"] in noise:  # paired by seed and T
                        r["gain_net"].append(ref - p[qk] - noise[p["temperature"]])
                elif p[key] < min(t[key] for t in tempered):
                    r.setdefault(gk + "_beyond", []).append(1.0)  # better coverage than every tempered point
                dominated = any(t[key] <= p[key] and t[qk] <= p[qk] for t in tempered)
                r.setdefault(gk + "_dominated", []).append(float(dominated))
            results.append(result)
    qname = "NLL_oracle" if qk == "nll_oracle" else "judge NLL"
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    lines = [
        f"Resampling study in `{out}`: preset {a.preset}, seeds {a.seeds}, {a.mle_epochs} MLE epochs, "
        f"{a.samples_per_point} samples per point, M = {a.resample} unless the row says; mean ± std over seeds.",
        "",
        "Quality: the samples' NLL under the oracle (`NLL_oracle`) or, on real data, under the judge LM "
        "trained on the training split (`judge NLL`, `lm_nll`).",
        "",
        "`gain @ NLL_test` / `gain @ reverse`: the tempered curve's quality at the sampler's NLL_test "
        "(q's, M → ∞) / reverse LM score, minus the sampler's (positive: better quality than "
        "tempering at equal coverage; over seeds, with mean / std in sd units). `beyond the curve in k`: in k "
        "seeds the sampler covers better than every tempered point (no matched point; see `dominated`). "
        "`dominated in k of n`: in k of n seeds some tempered point is at least as good on both axes. "
        "`D AUC`: held-out AUC of D (for `adv-*`, the generator trained adversarially from the same MLE "
        "run: its critic's `critic_auc` at the last evaluation). `tempered-again`: the MLE generator "
        f"again, with other samples (seed + {NOISE_SEED_OFFSET}): its gain is the noise of the comparison itself; `less the noise "
        "floor`: each seed's gain @ NLL_test minus that seed's tempered-again gain at the same T (paired; the "
        "tempered curve's own sampling noise, shared by every sampler of a seed, cancels in part).",
        "",
        f"| sampler | {qname} | NLL_test | reverse LM | ESS / M | D AUC | gain @ NLL_test | gain @ reverse | "
        "gain @ NLL_test less the noise floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows.items():

        def g(k: str, r: dict = r) -> str:
            v = r[k]
            text = ms(v)
            if len(v) > 1 and statistics.stdev(v) > 0:
                text += f" ({statistics.mean(v) / statistics.stdev(v):+.1f} sd)"
            beyond, dominated = r.get(k + "_beyond", []), r.get(k + "_dominated", [])
            if beyond:
                text += f"; beyond the curve in {len(beyond)}"
            if dominated:
                text += f"; dominated in {int(sum(dominated))} of {len(dominated)}"
            return text

        lines.append(
            f"| {label} | {ms(r['quality'])} | {ms(r['nll_test'])} | {ms(r['reverse_nll'])} | {ms(r['ess'], 2)} | "
            f"{ms(r['d_auc'], 3)} | {g('gain_test')} | {g('gain_rev')} | {g('gain_net')} |"
        )
    # Figures of the first seed with data: one curve per sampler family and A.
    figs = [s for s in seeds if (out / f"s{s}" / "tempered.jsonl").is_file()]
    if figs:
        sd = out / f"s{figs[0]}"
        files = [str(sd / "tempered.jsonl")] + [str(p) for p in sorted(sd.glob("sir-*.jsonl"))]
        files += [str(p) for p in sorted(sd.glob("adv-*.jsonl"))]
        names = ["tempered MLE"] + [Path(f).stem for f in files[1:]]
        title = f"{a.preset}, seed {figs[0]}: tempered MLE vs resampling (points: T)"
        qk0 = quality_key(read(sd / "tempered.jsonl"))
        plot_frontier(files, out / "frontier.png", names, title=title, x=qk0, y="nll_test")
        plot_frontier(files, out / "frontier-reverse.png", names, title=title, x=qk0, y="reverse_nll")
    lines += machines(out, seeds)
    lines += d_seed_spread(a, results)
    lines += trajectories(a, out, seeds)
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    return text


def d_seed_spread(a: argparse.Namespace, results: list[dict]) -> list[str]:
    """With ``--d-ensemble``: the gain @ NLL_test of each D alone (``d-train`` and the other members,
    which differ only in D's seed) beside their ensemble's, per study seed, and how the spread over
    D's seeds (same generator) compares with the spread over the study's seeds (other generators)."""
    size = max(ensembles(a), default=1)
    if size < 2:
        return []
    singles = ["sir-d-train"] + [f"sir-d-member{j}" for j in range(2, size + 1)]
    gains: dict[tuple[float, float], dict[str, dict[str, float]]] = {}  # (T, A) -> seed -> family -> gain
    for r in results:
        if "gain_test" in r and "alpha" in r:
            gains.setdefault((r["temperature"], r["alpha"]), {}).setdefault(r["seed"], {})[r["family"]] = r["gain_test"]
    lines = [
        "",
        f"D's seed against the generator's seed (gain @ NLL_test; {size} Ds per study seed that differ only in D's "
        "seed): each D alone, their mean and std within the seed, and the ensemble's (mean logit). "
        "`within` is the root mean within-seed variance of the single Ds' gains, `between` the std over "
        "study seeds of their per-seed mean: `between` well above `within` means the generator, not D, "
        "sets the gain.",
        "",
        "| T, A | seed: single Ds' gains (mean ± std) → ensemble | within | between |",
        "|---|---|---|---|",
    ]
    for (t, al), by_seed in sorted(gains.items()):
        cells, variances, means = [], [], []
        for seed, fam in by_seed.items():
            vals = [fam[f] for f in singles if f in fam]
            if len(vals) < 2:
                continue
            variances.append(statistics.variance(vals))
            means.append(statistics.mean(vals))
            ens = fam.get(f"sir-d-ens{size}")
            cells.append(
                f"{seed}: {' / '.join(f'{v:+.3f}' for v in vals)} ({ms(vals)})"
                + (f" → {ens:+.3f}" if ens is not None else "")
            )
        if not cells:
            continue
        within = statistics.mean(variances) ** 0.5
        between = f"{statistics.stdev(means):.3f}" if len(means) > 1 else "-"
        lines.append(f"| T={t:g}, A={al:g} | {'; '.join(cells)} | {within:.3f} | {between} |")
    return lines


def trajectories(a: argparse.Namespace, out: Path, seeds: list[str]) -> list[str]:
    """Each adversarial run's evaluations (every ``--adv-eval-every`` iterations, plain sampling at
    T = 1) against its seed's tempered curve: a table of the gain at matched NLL_test per step and
    ``frontier-adv.png`` (one panel per seed)."""
    runs = [(s, name) for s in seeds for name, _ in adversarial(a)]
    found = {k: read(out / f"s{k[0]}" / f"adv-{k[1]}" / "metrics.jsonl") for k in runs}
    found = {k: [r for r in v if r.get("phase") == "adv" and "nll_oracle" in r] for k, v in found.items()}
    found = {k: v for k, v in found.items() if v}  # (the oracle only: the trainer logs no judge NLL)
    if not found:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted({r["adv_step"] for v in found.values() for r in v})
    seed0, name0 = next(iter(found))
    cfg = json.loads((out / f"s{seed0}" / f"adv-{name0}" / "config.json").read_text())
    lines = [
        "",
        f"Adversarial runs along the way (T = 1, the trainer's own evaluation of {cfg['eval']['eval_samples']} "
        "samples): gain @ NLL_test per adversarial step over seeds, and the critic's AUC (test sentences "
        "against as many samples).",
        "",
        "| run | " + " | ".join(f"step {s}" for s in steps) + " |",
        "|---" * (len(steps) + 1) + "|",
    ]
    seed_list = sorted({s for s, _ in found})
    fig, axes = plt.subplots(1, len(seed_list), figsize=(5 * len(seed_list), 4.2), squeeze=False)
    for name in sorted({n for _, n in found}):
        gains: dict[int, list[float]] = {s: [] for s in steps}
        aucs: dict[int, list[float]] = {s: [] for s in steps}
        for i, seed in enumerate(seed_list):
            recs = found.get((seed, name), [])
            tempered = read(out / f"s{seed}" / "tempered.jsonl")
            ax = axes[0][i]
            if tempered:
                pts = sorted(tempered, key=lambda p: p["temperature"])
                ax.plot(
                    [p["nll_oracle"] for p in pts],
                    [p["nll_test"] for p in pts],
                    "o-",
                    color="0.4",
                    label="tempered MLE",
                )
                for p in pts:
                    ax.annotate(f"T={p['temperature']:g}", (p["nll_oracle"], p["nll_test"]), fontsize=7, color="0.4")
            ax.plot([r["nll_oracle"] for r in recs], [r["nll_gen"] for r in recs], "s--", label=f"adv-{name}")
            for r in recs:
                ax.annotate(str(r["adv_step"]), (r["nll_oracle"], r["nll_gen"]), fontsize=7)
                ref = interp(tempered, "nll_test", r["nll_gen"], "nll_oracle") if tempered else None
                if ref is not None:
                    gains[r["adv_step"]].append(ref - r["nll_oracle"])
                if "critic_auc" in r:
                    aucs[r["adv_step"]].append(r["critic_auc"])
            ax.set_title(f"seed {seed}")
            ax.set_xlabel("NLL_oracle of samples (quality, lower is better)")
            ax.set_ylabel("NLL_test (coverage, lower is better)")
            ax.legend(fontsize=7)
        cells = [f"{ms(gains[s])} (AUC {ms(aucs[s], 3)})" for s in steps]
        lines.append(f"| adv-{name} | " + " | ".join(cells) + " |")
    fig.suptitle(f"{a.preset}: adversarial runs from the MLE generator (labels: adversarial step)")
    fig.tight_layout()
    fig.savefig(out / "frontier-adv.png", dpi=110)
    plt.close(fig)
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seeds", default="1,2,3", help="with --summary")
    p.add_argument("--summary", action="store_true", help="only write the summary of what finished")
    p.add_argument("--preset", default="oracle")
    p.add_argument("--data", default="")
    p.add_argument("--mle-epochs", type=int, default=3)
    p.add_argument("--ratio-steps", type=int, default=2000)
    p.add_argument("--ratio-flags", default="", help="extra flags for train ratio, e.g. '--arch cnn --lr 3e-4'")
    p.add_argument("--temperatures", default="0.8,0.9,0.95,1.0,1.05,1.1,1.2")
    p.add_argument("--sir-temperatures", default="1.0,1.1")
    p.add_argument("--alphas", default="0.25,0.5,1")
    p.add_argument("--resample", type=int, default=16)
    p.add_argument(
        "--resample-sweep",
        default="",
        help="other numbers of proposals M for each D, e.g. 4,64 (files sir-<d>-m<M>.jsonl), at --sweep-temperatures",
    )
    p.add_argument("--sweep-temperatures", default="1.0")
    p.add_argument(
        "--d-ensemble",
        default="",
        help="ensembles of k Ds (d-train and k - 1 more with other seeds of D, d-train-seed<seed + 100 j>) "
        "scoring by their mean logit, e.g. 2,3 (files sir-d-ens<k>.jsonl, at --sir-temperatures)",
    )
    p.add_argument(
        "--d-kind",
        action="append",
        default=[],
        metavar="NAME=FLAGS",
        help="another kind of D, trained as d-train is plus FLAGS (which win), e.g. 'gen=--arch generator --steps 1000': "
        "files d-NAME/, sir-d-NAME.jsonl (it alone) and sir-d-train+NAME.jsonl (the mean logit of d-train and it), "
        "at --sir-temperatures (repeatable)",
    )
    p.add_argument(
        "--noise-check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also sample the MLE generator again at --sir-temperatures with other seeds (tempered-again.jsonl): "
        "its gain against its own curve is the comparison's noise",
    )
    p.add_argument("--samples-per-point", type=int, default=1000)
    p.add_argument(
        "--adv",
        action="append",
        default=[],
        metavar="NAME=FLAGS",
        help="an adversarial run from the MLE run (train lm --init-from), e.g. 'ppo-hard=--critic-input hard'; "
        "evaluated at --adv-temperatures (repeatable)",
    )
    p.add_argument("--adv-steps", type=int, default=400)
    p.add_argument("--adv-eval-every", type=int, default=100)
    p.add_argument("--adv-temperatures", default="1.0")
    p.add_argument(
        "--adv-alphas",
        default="10,30,100",
        help="A of the adversarial runs resampled by their own critic (--resample M --resample-with critic; "
        "a Wasserstein critic's scores spread far less than D's logits); empty: none",
    )
    p.add_argument(
        "--judge-flags",
        default="--generator lstm --embed-dim 128 --hidden-dim 256 --mle-lr 1e-3 --mle-epochs 8 --eval-every 2",
        help="train lm flags of the judge LM on real data (its quality axis)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--deadline", type=float, default=0.0, help="seconds: start no step after it")
    a = p.parse_args()
    if a.summary:
        print(summary(a), end="")
        return 0
    return run_seed(a)


if __name__ == "__main__":
    raise SystemExit(main())
