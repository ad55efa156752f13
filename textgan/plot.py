"""PNG curves of a run from its ``metrics.jsonl`` (``textgan plot RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path

from textgan.runs import METRICS_FILE, read_metrics
from textgan.utils import UserError

PANELS: dict[str, tuple[str, list[str]]] = {
    "losses": ("losses", ["train_loss", "critic_loss", "g_loss", "d_loss"]),
    "bleu": ("BLEU (test split) and self-BLEU", ["bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu5"]),
    "nll": ("NLL per token", ["nll_gen", "nll_oracle"]),
    "ratio": ("ratio and reweighting", ["ratio_mean", "ratio_max", "clip_frac", "max_weight", "critic_gap", "gp"]),
    "auc": ("real vs generated ROC AUC (test split vs fresh samples; 0.5: no signal)", ["critic_auc", "d_auc"]),
}
AXIS_LABELS = {
    "nll_oracle": "NLL_oracle of samples (quality; lower is better)",
    "nll_test": "NLL_test (coverage; lower is better)",
    "reverse_nll": "reverse LM NLL of the test split (coverage; lower is better)",
    "lm_nll": "samples' NLL under a real-data LM (quality; lower is better)",
}


def plot_run(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write one PNG per panel that has data; returns their paths.

    Raises:
        UserError: no metrics file or no records.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run_dir)
    path = run / METRICS_FILE
    if not path.is_file():
        raise UserError(f"{run}: no {METRICS_FILE} (not a textgan run directory, or nothing logged yet)")
    records = read_metrics(path)
    if not records:
        raise UserError(f"{path}: no records yet")
    out = Path(out_dir) if out_dir else run / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    adv_start = next((r["step"] for r in records if r.get("phase") == "adv"), None)
    for name, (title, keys) in PANELS.items():
        series = {k: [(r["step"], r[k]) for r in records if isinstance(r.get(k), (int, float))] for k in keys}
        series = {k: v for k, v in series.items() if v}
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        for key, points in series.items():
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
        if adv_start is not None:
            ax.axvline(adv_start, color="grey", linestyle=":", label="adversarial start")
        ax.set_xlabel("step (MLE batches, then adversarial iterations)")
        ax.set_title(f"{title} - {run.name}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        target = out / f"{name}.png"
        fig.savefig(target, dpi=110)
        plt.close(fig)
        written.append(target)
    return written


FRONTIER_FILE = "frontier.jsonl"


def read_frontier(path: str | Path) -> list[dict]:
    """The points of ``textgan eval lm --temperatures`` from a run dir (its ``frontier.jsonl``) or a JSONL file.

    Raises:
        UserError: no such file, or it holds no points.
    """
    import json

    p = Path(path)
    file = p / FRONTIER_FILE if p.is_dir() else p
    if not file.is_file():
        raise UserError(
            f"{p}: no {FRONTIER_FILE}; run 'textgan eval lm --run {p} --temperatures 0.7,0.8,0.9,1.0,1.1' first"
        )
    try:
        points = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{file}: not a frontier file ({err})") from None
    points = [q for q in points if isinstance(q, dict) and "temperature" in q]
    if not points:
        raise UserError(f"{file}: no frontier points")
    return points


def _axis_label(key: str) -> str:
    if key in AXIS_LABELS:
        return AXIS_LABELS[key]
    if key.startswith("self_bleu"):
        return f"self-BLEU-{key[9:]} (diversity; lower is better)"
    if key.startswith("bleu"):
        return f"BLEU-{key[4:]} vs test split (quality; higher is better)"
    return key


def plot_frontier(
    runs: list[str],
    out: str | Path,
    labels: list[str] | None = None,
    order: int = 4,
    title: str | None = None,
    x: str | None = None,
    y: str | None = None,
) -> Path:
    """One quality-diversity figure, one curve per run (and per resampling weight A), points
    labelled by temperature.

    Synthetic-oracle runs (points with ``nll_oracle``): x = NLL_oracle of samples
    (quality), y = NLL_test of the tempered model (diversity / coverage); both lower
    is better, so the best corner is the bottom left. Real data: x = BLEU-``order``
    vs the test split (higher is better), y = self-BLEU-``order`` (lower is better).
    ``x`` / ``y`` pick other keys of the points, e.g. ``reverse_nll`` (the sample-based coverage
    that also holds resampled samplers) or ``lm_nll``.

    Args:
        runs: run dirs or frontier JSONL files.
        out: the PNG to write.
        labels: legend names (default: the run dirs' names).
        order: the BLEU order on real data.
        x, y: point keys of the axes (default: as above).

    Raises:
        UserError: a run without points, mixed oracle and real runs, or labels of the wrong count.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if labels and len(labels) != len(runs):
        raise UserError(f"--labels: {len(labels)} names for {len(runs)} runs")
    curves = [read_frontier(r) for r in runs]
    oracle = ["nll_oracle" in c[0] for c in curves]
    if len(set(oracle)) > 1:
        raise UserError("--frontier: mixes synthetic-oracle and real-data runs; plot them separately")
    xk, yk = ("nll_oracle", "nll_test") if oracle[0] else (f"bleu{order}", f"self_bleu{order}")
    xk, yk = x or xk, y or yk
    fig, ax = plt.subplots(figsize=(7, 5))
    for run, curve, name in zip(runs, curves, labels or [Path(r).name or r for r in runs], strict=True):
        usable = [p for p in curve if xk in p and yk in p]
        if not usable:
            raise UserError(f"{run}: its frontier has no {xk} / {yk}")
        alphas = sorted({p.get("alpha") for p in usable}, key=lambda a: -1.0 if a is None else a)
        for alpha in alphas:  # one curve per resampling weight (None: plain sampling)
            pts = sorted((p for p in usable if p.get("alpha") == alpha), key=lambda p: p["temperature"])
            label = name if alpha is None else f"{name}, resampled A={alpha:g} (M={pts[0].get('resample')})"
            style = "o-" if alpha is None else "s--"
            (line,) = ax.plot([p[xk] for p in pts], [p[yk] for p in pts], style, markersize=4, label=label)
            for p in pts:
                ax.annotate(
                    f"{p['temperature']:g}",
                    (p[xk], p[yk]),
                    textcoords="offset points",
                    xytext=(4, 3),
                    fontsize=7,
                    color=line.get_color(),
                )
    ax.set_xlabel(_axis_label(xk))
    ax.set_ylabel(_axis_label(yk))
    ax.set_title(title or "quality-diversity frontier (points: sampling temperature)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    target = Path(out)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
