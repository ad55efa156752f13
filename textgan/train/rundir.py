"""Run directories: the lock that keeps two trainers out of one, the skeleton a run starts with,
and the files written once at its start."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from textgan.config import FORMAT_VERSION
from textgan.data.vocab import HF_MODEL_DIR, HF_TOKENIZER_DIR
from textgan.runs import CONFIG_FILE, METRICS_FILE, MODEL_FILE, VOCAB_FILE
from textgan.utils import UserError, atomic_write_bytes

log = logging.getLogger(__name__)


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
RUN_START_DIRS = frozenset({HF_MODEL_DIR, HF_TOKENIZER_DIR})  # --generator hf: the model's config and tokenizer


def is_skeleton(run_dir: Path) -> bool:
    """True for a dir holding only what a run writes before its first checkpoint (the run files,
    samples, an empty ``checkpoints/``, the lock): a run killed that early cannot be resumed, and
    starting it anew in the same dir loses nothing."""
    for p in run_dir.iterdir():
        if p.name == CHECKPOINT_DIR and p.is_dir():
            if any(p.iterdir()):
                return False
        elif not (
            (p.name in RUN_START_DIRS | {SAMPLES_DIR} and p.is_dir())
            or (p.is_file() and p.name in RUN_START_FILES | {LOCK_FILE})
        ):
            return False
    return True


def _clear_skeleton(run_dir: Path) -> None:
    """Remove the files of a run that never wrote a checkpoint (``is_skeleton``), keeping the dirs."""
    for name in RUN_START_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for name in RUN_START_DIRS:
        shutil.rmtree(run_dir / name, ignore_errors=True)
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
        for name in RUN_START_DIRS:
            shutil.rmtree(run_dir / name, ignore_errors=True)
    for sub in (CHECKPOINT_DIR, SAMPLES_DIR):
        p = run_dir / sub
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def prepare_hf_files(run_dir: Path, source: str, from_run: bool = False) -> None:
    """Put a Hugging Face model's tokenizer and config (``--generator hf``) into a new run dir:
    from ``source`` (``--hf-model``: a directory or hub name), or copied from the run dir
    ``source`` when ``from_run`` (``--init-from``). The weights go into the generator.

    Raises:
        UserError: the model or its tokenizer cannot be loaded.
    """
    if from_run:
        for name in (HF_MODEL_DIR, HF_TOKENIZER_DIR):
            if not (Path(source) / name).is_dir():
                raise UserError(f"--init-from {source}: no {name}/ (not a --generator hf run)")
            shutil.copytree(Path(source) / name, run_dir / name, dirs_exist_ok=True)
        return
    from transformers import AutoTokenizer

    from textgan.models.generators import hf_config

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        config = hf_config(source)
    except (OSError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"--hf-model {source}: cannot load it as a Hugging Face causal LM ({first})") from None
    tokenizer.save_pretrained(str(run_dir / HF_TOKENIZER_DIR))
    config.save_pretrained(str(run_dir / HF_MODEL_DIR))
