"""PNG curves of a run from its ``metrics.jsonl`` (``textgan plot RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path

from textgan.train.common import METRICS_FILE, read_metrics
from textgan.utils import UserError

PANELS: dict[str, tuple[str, list[str]]] = {
    "losses": ("losses", ["train_loss", "critic_loss", "g_loss", "d_loss"]),
    "bleu": ("BLEU (test split) and self-BLEU", ["bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu5"]),
    "nll": ("NLL per token", ["nll_gen", "nll_oracle"]),
    "ratio": ("ratio and reweighting", ["ratio_mean", "ratio_max", "clip_frac", "max_weight", "critic_gap", "gp"]),
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
