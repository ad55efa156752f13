"""textgan: text GANs with probability-ratio clipping and sample reweighting.

The Python API (the command line calls the same functions)::

    import textgan
    cfg = textgan.lm_config("smoke", run_dir="runs/demo")   # a preset plus flag-named overrides
    final = textgan.train_lm(cfg)                            # dict: the last evaluation's metrics
    run = textgan.load("runs/demo")                          # LMRun (or StyleRun for style runs)
    print(run.generate(5, temperature=0.8, seed=0))          # list[str]

Heavy modules (torch) load on first use, so ``import textgan`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "LMRun",
    "StyleRun",
    "__version__",
    "evaluate_frontier",
    "evaluate_style",
    "evaluate_style_outputs",
    "lm_config",
    "load",
    "style_config",
    "train_lm",
    "train_style",
]

if TYPE_CHECKING:
    from textgan.config import LMConfig, StyleConfig
    from textgan.metrics.style import evaluate_style, evaluate_style_outputs
    from textgan.metrics.temperature import evaluate_frontier
    from textgan.runs import LMRun, StyleRun, load

_LAZY = {
    "load": "textgan.runs",
    "LMRun": "textgan.runs",
    "StyleRun": "textgan.runs",
    "evaluate_frontier": "textgan.metrics.temperature",  # an LM run's quality-diversity frontier
    "evaluate_style": "textgan.metrics.style",  # a style run's transfers scored by an evaluator
    "evaluate_style_outputs": "textgan.metrics.style",  # any system's transfers scored the same way
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'textgan' has no attribute {name!r}")


def lm_config(preset: str = "oracle", **overrides: Any) -> LMConfig:
    """``textgan.config.lm_config``: a ``train lm`` preset with fields set by flag name
    (``mle_epochs=2`` for ``--mle-epochs 2``)."""
    from textgan.config import lm_config as build

    return build(preset, **overrides)


def style_config(preset: str = "yelp", **overrides: Any) -> StyleConfig:
    """``textgan.config.style_config``: a ``train style`` preset with fields set by flag name."""
    from textgan.config import style_config as build

    return build(preset, **overrides)


def train_lm(config: LMConfig, resume: bool = False) -> dict[str, Any]:
    """Train an unconditional generator (MLE, then the adversarial phase) as ``textgan train lm``.

    Args:
        config: an ``LMConfig`` (``lm_config(...)``); ``config.run_dir`` receives the run.
        resume: continue the run in ``config.run_dir`` from its last checkpoint.

    Returns:
        The last evaluation's metrics (``nll_gen``, ``bleu2``..., ``nll_oracle`` on oracle data).
    """
    from textgan.train.lm import train_lm as run

    return run(config, resume)


def train_style(config: StyleConfig, resume: bool = False) -> dict[str, Any]:
    """Train a style-transfer model (autoencoder, then adversarial) as ``textgan train style``.

    Args:
        config: a ``StyleConfig`` (``style_config(...)``).
        resume: continue the run in ``config.run_dir`` from its last checkpoint.

    Returns:
        The last evaluation's metrics (``accuracy``, ``bleu_src``, ``bleu_ref``, ``gm``, ...).
    """
    from textgan.train.style import train_style as run

    return run(config, resume)
