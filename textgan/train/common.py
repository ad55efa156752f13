"""Run directories, checkpoints, RNG state, metric logging and the optimiser step.

A checkpoint is one dict of plain containers and tensors that loads with
``torch.load(path, map_location="cpu", weights_only=True)``; its keys are the
constants below. Files are written atomically (temp file, flush, fsync,
``os.replace``) so that a crash at any moment leaves the previous one intact.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from textgan import distributed as D
from textgan import losses as L
from textgan.config import FORMAT_VERSION
from textgan.runs import (  # noqa: F401 - re-exported: the trainers read and write run files through common
    CONFIG_FILE,
    GENERATOR_FILE,
    METRICS_FILE,
    MODEL_FILE,
    VOCAB_FILE,
    load_safetensors,
    read_metrics,
    read_run_files,
)
from textgan.utils import UserError, atomic_path, atomic_torch_save, atomic_write_bytes  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

# Checkpoint keys.
KEY_FORMAT = "format_version"
KEY_TASK = "task"
KEY_CONFIG = "config"
KEY_STEP = "step"
KEY_EPOCH = "epoch"
KEY_MODELS = "models"
KEY_OPTIMIZERS = "optimizers"
KEY_RNG = "rng"
KEY_STATE = "state"

CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last.pt"
PREV_CHECKPOINT = "prev.pt"  # the checkpoint before last.pt, kept for a last.pt that will not load
SAMPLES_DIR = "samples"


LOCK_FILE = ".lock"
_LOCKS: dict[str, Any] = {}  # run dir -> the open, locked file of this process


def lock_run_dir(run_dir: Path) -> None:
    """Hold an exclusive OS lock on ``run_dir/.lock`` until ``unlock_run_dir`` or the process ends.

    The OS releases it on any exit (SIGKILL included), so a crashed run never blocks a resume.
    The file holds the holder's pid. A no-op where ``fcntl`` does not exist (Windows).

    Raises:
        UserError: another process holds the lock (named by its pid).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    if str(run_dir.resolve()) in _LOCKS:  # held by this process already (a resume in the same process)
        return
    f = open(run_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the run's life
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        raise UserError(
            f"--run-dir {run_dir}: in use by another textgan process (pid {holder}); "
            "wait for it to finish or stop it first"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    _LOCKS[str(run_dir.resolve())] = f


def unlock_run_dir(run_dir: Path) -> None:
    """Release this process's lock on ``run_dir`` (if it holds one)."""
    f = _LOCKS.pop(str(run_dir.resolve()), None)
    if f is not None:
        f.close()


# What a run writes before its first checkpoint (besides checkpoints/, samples/ and the lock).
RUN_START_FILES = frozenset({CONFIG_FILE, MODEL_FILE, VOCAB_FILE, METRICS_FILE, "spm.model", "spm.vocab"})


def is_skeleton(run_dir: Path) -> bool:
    """True for a dir holding only what a run writes before its first checkpoint (the run files,
    samples, an empty ``checkpoints/``, the lock): a run killed that early cannot be resumed, and
    starting it anew in the same dir loses nothing."""
    for p in run_dir.iterdir():
        if p.name == CHECKPOINT_DIR and p.is_dir():
            if any(p.iterdir()):
                return False
        elif not ((p.name == SAMPLES_DIR and p.is_dir()) or (p.is_file() and p.name in RUN_START_FILES | {LOCK_FILE})):
            return False
    return True


def _clear_skeleton(run_dir: Path) -> None:
    """Remove the files of a run that never wrote a checkpoint (``is_skeleton``), keeping the dirs."""
    for name in RUN_START_FILES:
        (run_dir / name).unlink(missing_ok=True)
    samples = run_dir / SAMPLES_DIR
    if samples.is_dir():
        for p in samples.iterdir():
            if p.is_file():
                p.unlink()


def prepare_run_dir(run_dir: Path, resume: bool) -> None:
    """Create and lock the run directory, refusing to reuse a non-empty one unless resuming.

    A skeleton left by a run killed before it wrote anything (``is_skeleton``) counts as empty.

    Raises:
        UserError: non-empty without ``--resume``; ``--resume`` without a checkpoint;
            a path that is a file; another process holds the dir.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--run-dir {run_dir}: exists and is not a directory")
    if run_dir.is_dir() and (resume or (run_dir / LOCK_FILE).is_file()):
        lock_run_dir(run_dir)  # before reading its state: a live run there is named first
    try:
        if resume:
            if not any((run_dir / CHECKPOINT_DIR / n).is_file() for n in (LAST_CHECKPOINT, PREV_CHECKPOINT)):
                hint = " (start it anew without --resume)" if run_dir.is_dir() and is_skeleton(run_dir) else ""
                raise UserError(f"--resume: no checkpoint in {run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT}{hint}")
            return
        if run_dir.is_dir():
            if not is_skeleton(run_dir):
                raise UserError(f"--run-dir {run_dir}: directory exists and is not empty (use --resume to continue it)")
            if any(run_dir.iterdir()):
                lock_run_dir(run_dir)  # before clearing: another process may be starting there
                log.warning("--run-dir %s: reusing the files of a run stopped before its first checkpoint", run_dir)
                _clear_skeleton(run_dir)
    except UserError:
        unlock_run_dir(run_dir)
        raise
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    (run_dir / SAMPLES_DIR).mkdir(exist_ok=True)
    lock_run_dir(run_dir)


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


class TrainingInterrupted(Exception):
    """Training stopped on a signal after writing a checkpoint (the message says how to resume)."""


@contextmanager
def stop_on_signals(trainer: Any) -> Iterator[None]:
    """While active, SIGINT / SIGTERM set ``trainer.stop_requested`` (a second signal stops at once);
    on leaving, the trainer's run dir is unlocked.

    The trainer checks the flag after each step, writes a checkpoint and raises
    :class:`TrainingInterrupted`. Handlers are installed only in the main thread.
    """
    import signal
    import threading

    def request_stop(signum: int, frame: Any) -> None:
        if trainer.stop_requested:
            raise KeyboardInterrupt
        log.warning("signal %d: stopping after the current step (send again to stop at once)", signum)
        trainer.stop_requested = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, request_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        unlock_run_dir(trainer.run_dir)


def write_run_files(run_dir: Path, config: dict[str, Any], vocab: Any, meta: dict[str, Any]) -> None:
    """Write ``config.json``, ``vocab.txt`` and ``model.json`` (task, sizes, format version)."""
    atomic_write_bytes(run_dir / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())
    vocab.save(run_dir / VOCAB_FILE)
    meta = {**meta, "format_version": FORMAT_VERSION}
    atomic_write_bytes(run_dir / MODEL_FILE, (json.dumps(meta, indent=2) + "\n").encode())


def remove_if_only_skeleton(run_dir: Path) -> None:
    """Remove the empty ``checkpoints/`` and ``samples/`` this run made (and its lock), and the dir if then empty."""
    if run_dir.is_dir() and is_skeleton(run_dir):
        unlock_run_dir(run_dir)
        (run_dir / LOCK_FILE).unlink(missing_ok=True)
    for sub in (CHECKPOINT_DIR, SAMPLES_DIR):
        p = run_dir / sub
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def progress_bar(total: int, desc: str, unit: str, enabled: bool, initial: int = 0) -> Any:
    """The one progress display of a training phase.

    A tqdm bar when stderr is a terminal; otherwise (a log file, ``nohup``) one log line
    at most every ``LOG_PROGRESS_SECONDS`` with the count, rate and time left. Nothing
    with ``--no-progress``.
    """
    from tqdm.auto import tqdm

    from textgan.utils import progress_enabled

    if enabled and not progress_enabled(enabled) and not os.environ.get("TEXTGAN_NO_PROGRESS"):
        return LogProgress(total, desc, unit, initial)
    return tqdm(
        total=total, initial=initial, desc=desc, unit=unit, disable=not progress_enabled(enabled), dynamic_ncols=True
    )


LOG_PROGRESS_SECONDS = 60.0


class LogProgress:
    """tqdm's ``update`` / ``set_postfix`` / ``close`` as periodic log lines (non-terminal stderr)."""

    def __init__(self, total: int, desc: str, unit: str, initial: int = 0, every: float | None = None) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.every = LOG_PROGRESS_SECONDS if every is None else every
        self.start_n, self.postfix = initial, ""
        self.start = self.last = time.monotonic()

    def set_postfix(self, **values: Any) -> None:
        self.postfix = " ".join(f"{k}={v}" for k, v in values.items())

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.every or self.n >= self.total:
            self.last = now
            rate = (now - self.start) / max(self.n - self.start_n, 1)
            left = max(self.total - self.n, 0) * rate
            log.info(
                "%s: %s %d/%d (%.0f%%), %.2f s/%s, %s left%s",
                self.desc,
                self.unit,
                self.n,
                self.total,
                100.0 * self.n / max(self.total, 1),
                rate,
                self.unit,
                time.strftime("%H:%M:%S", time.gmtime(left)),
                f", {self.postfix}" if self.postfix else "",
            )

    def close(self) -> None:
        pass


class MetricsLogger:
    """Append one JSON object per line to ``metrics.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def log(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=False) + "\n")
            fh.flush()


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records after ``step`` (used on resume, so the log matches the checkpoint)."""
    if not path.is_file():
        return
    keep = [r for r in read_metrics(path) if int(r.get("step", 0)) <= step]
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in keep).encode("utf-8"))


def penalty_weight(adv: Any, critic_updates: int) -> float:
    """Weight of the gradient penalty at critic update number ``critic_updates`` (0-based):
    ``gp_weight`` every update, or ``gp_weight * k`` on every k-th one with ``--gp-every k``
    (0 in between, where the penalty is not computed at all)."""
    if adv.loss not in ("ppo", "wgan-gp") or adv.gp_weight <= 0:
        return 0.0
    return adv.gp_weight * adv.gp_every if critic_updates % adv.gp_every == 0 else 0.0


def optimizer_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, grad_clip: float, what: str, step: int
) -> float:
    """Backward, check finiteness, clip and step.

    Returns:
        The gradient norm before clipping.

    Raises:
        FloatingPointError: the loss or a gradient is NaN/Inf (naming ``what`` and the step).
    """
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite {what} loss ({loss.item()}) at step {step}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
    if not torch.isfinite(norm):
        raise FloatingPointError(f"non-finite {what} gradient at step {step}")
    optimizer.step()
    return float(norm)


def clipped_ratio_loss(
    adv: Any,
    scores: torch.Tensor,
    cur: Any,
    old: Any = None,
    log_ratio: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The ``ppo`` generator term of both tasks, as the adversarial config sets it up.

    Args:
        adv: the ``AdvConfig`` (``advantage``, ``clip_rule``, ``ratio_level``, ``clip``, ``clip_eps``).
        scores: (B,) critic scores of the current soft rows (carry gradient).
        cur, old: ``Sample`` of the current weights and of theta_old on the same tokens
            (the exact ratio); ``old`` is unused when ``log_ratio`` is given.
        log_ratio: (B,) a ratio from elsewhere (the discriminator's), else the exact one.
    """
    batch_scores = D.gather(scores) if D.world_size() > 1 and adv.advantage != "raw" else None
    advantage = L.shape_advantage(scores, adv.advantage, batch_scores)
    token_rows = None
    if log_ratio is None:
        if adv.ratio_level == "token":
            log_ratio = L.log_ratio_exact(cur.token_log_prob, old.token_log_prob)
            token_rows = cur.token_rows
        else:
            log_ratio = L.log_ratio_exact(cur.log_prob, old.log_prob)
    loss, stats = L.clipped_generator_loss(log_ratio, advantage, adv.clip_eps, adv.clip, adv.clip_rule, token_rows)
    return loss, D.reduce_stats(stats)


def critic_objective(
    adv: Any, critic: Any, real: torch.Tensor, fake: torch.Tensor, critic_updates: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The critic loss of both tasks: the reweighted Wasserstein loss for ``ppo`` (weights over
    the global batch under torchrun) or the baseline's, plus the gradient penalty where
    ``penalty_weight`` gives one.

    Args:
        adv: the ``AdvConfig``.
        critic: called as ``critic(ids=...)`` / ``critic(soft=...)`` -> (B,) scores (cast to fp32).
        real: (B, T) ids of real text; fake: (B, T, V) soft rows, or (B, T) ids of generated
            text (``--critic-input hard``: the penalty then interpolates two one-hot rows).
        critic_updates: the update's number (for ``--gp-every``).
    """
    hard = not fake.is_floating_point()
    f_real = critic(ids=real).float()
    f_fake = critic(ids=fake).float() if hard else critic(soft=fake).float()
    if adv.loss == "ppo":
        batch = D.gather(f_fake) if D.world_size() > 1 and adv.reweight else None
        loss, stats = L.critic_loss(f_real, f_fake, reweight=adv.reweight, batch_scores=batch)
    else:
        loss, stats = L.baseline_critic_loss(adv.loss, f_real, f_fake)
    gp_weight = penalty_weight(adv, critic_updates)
    if gp_weight > 0:
        dtype = torch.float32 if hard else fake.dtype
        rows = torch.nn.functional.one_hot(real, critic.vocab_size).to(dtype)
        if hard:
            fake = torch.nn.functional.one_hot(fake, critic.vocab_size).to(dtype)
        alpha = torch.rand(real.shape[0], device=real.device)
        gp, gp_stats = L.gradient_penalty(lambda x: critic(soft=x).float(), rows, fake, alpha)
        loss = loss + gp_weight * gp
        stats.update(gp_stats)
    return loss, stats


def stop_now(trainer: Any) -> bool:
    """Whether to stop after this step: a signal reached this process or (under torchrun) any rank."""
    return D.any_rank(trainer.stop_requested)
