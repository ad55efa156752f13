"""Checkpoints and RNG state.

A checkpoint is one dict of plain containers and tensors that loads with
``torch.load(path, map_location="cpu", weights_only=True)``; its keys are the
constants below. Files are written atomically (temp file, flush, fsync,
``os.replace``) so that a crash at any moment leaves the previous one intact, and
the checkpoint before the last is kept as ``prev.pt``.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
from pathlib import Path
from typing import Any

import torch

from textgan.config import FORMAT_VERSION
from textgan.runs import METRICS_FILE, read_metrics
from textgan.train.loop import truncate_metrics
from textgan.train.rundir import CHECKPOINT_DIR, LAST_CHECKPOINT, PREV_CHECKPOINT
from textgan.utils import UserError, atomic_path, atomic_torch_save

log = logging.getLogger(__name__)


KEY_FORMAT = "format_version"


KEY_TASK = "task"


KEY_CONFIG = "config"


KEY_STEP = "step"


KEY_EPOCH = "epoch"


KEY_MODELS = "models"


KEY_OPTIMIZERS = "optimizers"


KEY_RNG = "rng"


KEY_STATE = "state"


def rng_state(data_generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every RNG state a run uses, as weights-only-loadable containers."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": list(_flatten_py_state(random.getstate()))}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if data_generator is not None:
        state["data"] = data_generator.get_state()
    return state


def _flatten_py_state(st: tuple) -> tuple:
    version, internal, gauss = st
    return (version, list(internal), gauss)


def set_rng_state(state: dict[str, Any], data_generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if data_generator is not None and "data" in state:
        data_generator.set_state(state["data"])


def save_checkpoint(
    path: Path,
    task: str,
    config: dict[str, Any],
    step: int,
    epoch: int,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rng: dict[str, Any],
    state: dict[str, Any] | None = None,
) -> None:
    """Write a checkpoint atomically, refusing non-finite weights.

    Raises:
        FloatingPointError: a model has a NaN/Inf parameter (nothing is written).
    """
    for name, model in models.items():
        for pname, p in model.state_dict().items():
            if p.is_floating_point() and not torch.isfinite(p).all():
                raise FloatingPointError(f"refusing to checkpoint non-finite weights ({name}.{pname})")
    atomic_torch_save(
        {
            KEY_FORMAT: FORMAT_VERSION,
            KEY_TASK: task,
            KEY_CONFIG: config,
            KEY_STEP: step,
            KEY_EPOCH: epoch,
            KEY_MODELS: {k: m.state_dict() for k, m in models.items()},
            KEY_OPTIMIZERS: {k: o.state_dict() for k, o in optimizers.items()},
            KEY_RNG: rng,
            KEY_STATE: state or {},
        },
        path,
        keep_previous=path.with_name(PREV_CHECKPOINT) if path.name == LAST_CHECKPOINT else None,
    )


def load_checkpoint(path: Path, task: str) -> dict[str, Any]:
    """Load a checkpoint without executing code, checking its task and version.

    Raises:
        UserError: missing, truncated or foreign file, another task, a newer format.
    """
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unpickling refused"
        raise UserError(f"{path}: not a loadable textgan checkpoint (refused: {first[:160]})") from None
    except Exception as err:  # truncated zip, random bytes, ...
        raise UserError(f"{path}: not a textgan checkpoint or truncated ({type(err).__name__})") from None
    if not isinstance(ckpt, dict) or KEY_FORMAT not in ckpt or KEY_MODELS not in ckpt:
        raise UserError(f"{path}: not a textgan checkpoint")
    if int(ckpt[KEY_FORMAT]) > FORMAT_VERSION:
        raise UserError(
            f"{path}: checkpoint format {ckpt[KEY_FORMAT]} is newer than this textgan supports ({FORMAT_VERSION}); upgrade textgan"
        )
    if ckpt.get(KEY_TASK) != task:
        raise UserError(f"{path}: checkpoint is from a '{ckpt.get(KEY_TASK)}' run, expected '{task}'")
    return ckpt


def load_surviving_checkpoint(run_dir: Path, task: str) -> dict[str, Any]:
    """``checkpoints/last.pt``, or, when it is missing or will not load (truncated, zero bytes,
    damaged), ``checkpoints/prev.pt`` with one warning naming the steps lost. The unreadable file
    is renamed ``last.pt.damaged``, so that the next checkpoint never replaces the surviving one.

    Raises:
        UserError: neither loads (both reasons named).
    """
    folder = run_dir / CHECKPOINT_DIR
    last, prev = folder / LAST_CHECKPOINT, folder / PREV_CHECKPOINT
    try:
        return load_checkpoint(last, task)
    except UserError as err:
        if not prev.is_file():
            raise
        why = str(err)
    try:
        ckpt = load_checkpoint(prev, task)
    except UserError as err2:
        raise UserError(f"{why}; and the one before: {err2}") from None
    if last.is_file():
        os.replace(last, last.with_name(LAST_CHECKPOINT + ".damaged"))
    step = int(ckpt[KEY_STEP])
    logged = [int(r["step"]) for r in read_metrics(run_dir / METRICS_FILE) if "step" in r]
    lost = "no logged step is lost"
    if logged and max(logged) > step:
        lost = f"steps {step + 1}-{max(logged)} are lost and will be trained again"
    log.warning("%s; resuming from %s (step %d): %s", why.split(" (")[0], prev.name, step, lost)
    return ckpt


def restore_checkpoint(
    run_dir: Path,
    task: str,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    data_generator: torch.Generator,
) -> dict[str, Any]:
    """Load ``run_dir/checkpoints/last.pt`` into models, optimisers and RNG states; returns the checkpoint.

    Models and optimisers absent from the checkpoint (e.g. the critic of a run resumed from
    its MLE phase) keep their fresh state.

    Raises:
        UserError: no or a bad checkpoint, or one whose tensors do not fit these models.
    """
    ckpt = load_surviving_checkpoint(run_dir, task)
    try:
        for name, model in models.items():
            if name in ckpt[KEY_MODELS]:
                model.load_state_dict(ckpt[KEY_MODELS][name])
        for name, opt in optimizers.items():
            if name in ckpt[KEY_OPTIMIZERS]:
                opt.load_state_dict(ckpt[KEY_OPTIMIZERS][name])
    except (RuntimeError, ValueError, KeyError) as err:
        raise UserError(
            f"--resume: the checkpoint does not fit this config ({str(err).splitlines()[0][:160]})"
        ) from None
    set_rng_state(ckpt[KEY_RNG], data_generator)
    truncate_metrics(run_dir / METRICS_FILE, int(ckpt[KEY_STEP]))
    return ckpt


def export_safetensors(model: torch.nn.Module, path: Path) -> None:
    """Export weights for users (``safetensors``; tied weights stored once), atomically."""
    from safetensors.torch import save_model

    with atomic_path(path) as tmp:
        save_model(model, str(tmp), metadata={"format_version": str(FORMAT_VERSION)})
