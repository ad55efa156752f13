"""What every trainer does around its phases: join the torchrun job, open the run dir, start the
metrics log, write the run files or restore the last checkpoint, checkpoint, stop on a signal.

A trainer subclasses :class:`Trainer`, names its task, and fills in the hooks:

- ``_setup(cfg, resume)``: inside ``with self.opened(resume):`` load the data and build the models,
  ``self.models`` and ``self.optimizers`` (names as in the checkpoint); then ``self.start(resume,
  vocab, meta)``;
- ``_replicate()``: wrap what trains under DDP (``distributed.replicate``);
- ``state()`` / ``load_state(state)``: the trainer's own counters in a checkpoint.

The order is one for every task: the run dir is created and locked first (a tokenizer model, the
Hugging Face files of ``--generator hf``, go into it), then the data are read; data that fail to
load leave no half-made run dir behind.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from textgan import distributed as D
from textgan.config import to_dict
from textgan.runs import METRICS_FILE, TENSORBOARD_DIR, read_metrics
from textgan.train import checkpoints as K
from textgan.train import loop as L
from textgan.train import rundir as R
from textgan.utils import autocast, seed_everything


class Trainer:
    """The scaffold of a training run; subclasses implement the phases and the hooks above.

    Class attributes:
        task: the run's task (``runs.TASK_LM``, ...), checked when a checkpoint is restored.
        command: the ``textgan train`` subcommand, for the resume hint.
        exports: ``(attribute, file)`` pairs exported as safetensors at every checkpoint.
    """

    task = ""
    command = ""
    exports: tuple[tuple[str, str], ...] = ()

    def __init__(self, cfg: Any, resume: bool = False) -> None:
        if cfg.tensorboard:
            L.require_tensorboard()
        self.dist = D.setup(cfg.device)
        self.device = self.dist.device
        if not self.dist.is_main:  # rank 0 alone shows progress and writes files
            cfg = dataclasses.replace(cfg, progress=False)
        self.cfg = cfg
        default = Path("runs") / time.strftime(f"{self.command}-%Y%m%d-%H%M%S")
        self.run_dir = Path(cfg.run_dir) if cfg.run_dir else D.from_main(default)
        self.local_batch = D.local_batch_size(cfg.train.batch_size)
        self.amp = lambda: autocast(cfg.precision, self.device)  # the forward passes' --precision
        self.step = self.epoch = 0
        self.stop_requested = False
        with D.main_first():  # rank 0 makes the run dir; the others then read its files
            self._setup(cfg, resume)
        self._replicate()

    # -- hooks --------------------------------------------------------------------------------------
    def _setup(self, cfg: Any, resume: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _replicate(self) -> None:
        """Wrap the modules that train under DDP (nothing by default)."""

    def state(self) -> dict[str, Any]:
        """The trainer's counters saved in a checkpoint beside step and epoch."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Set the counters of :meth:`state` from a restored checkpoint."""

    # -- the scaffold -------------------------------------------------------------------------------
    @contextmanager
    def opened(self, resume: bool) -> Iterator[None]:
        """Create and lock the run dir (rank 0) and seed everything; a failure inside the block
        (bad data, a model that will not load) removes what a new run had made of the dir."""
        main = self.dist.is_main
        if main:
            R.prepare_run_dir(self.run_dir, resume)
        seed_everything(self.cfg.seed)
        try:
            yield
        except BaseException:
            if not resume and main:
                R.remove_if_only_skeleton(self.run_dir)
            raise

    def start(self, resume: bool, vocab: Any, meta: dict[str, Any]) -> None:
        """Once the models exist: the metrics log, then the last checkpoint (``resume``) or the run
        files (``config.json``, ``vocab.txt``, ``model.json`` with ``task`` and ``meta``)."""
        tensorboard = self.run_dir / TENSORBOARD_DIR if self.cfg.tensorboard else None
        self.metrics = L.MetricsLogger(self.run_dir / METRICS_FILE, tensorboard)
        self.started = time.time()
        if resume:
            self._restore()
            self.metrics.purge_step = self.step + 1
        elif self.dist.is_main:
            R.write_run_files(self.run_dir, to_dict(self.cfg), vocab, {"task": self.task, **meta})
        if self.dist.enabled:  # each rank its own sampling stream (same weights, different samples)
            torch.manual_seed(self.cfg.seed + 1_000_003 * self.dist.rank + self.step)

    def _restore(self) -> None:
        ckpt = K.restore_checkpoint(self.run_dir, self.task, self.models, self.optimizers, self.data_rng)
        self.step, self.epoch = int(ckpt[K.KEY_STEP]), int(ckpt[K.KEY_EPOCH])
        self.load_state(ckpt[K.KEY_STATE])

    def checkpoint(self) -> None:
        """Write ``checkpoints/last.pt`` and the exported weights (rank 0 only)."""
        if not self.dist.is_main:
            return
        K.save_checkpoint(
            self.run_dir / R.CHECKPOINT_DIR / R.LAST_CHECKPOINT,
            self.task,
            to_dict(self.cfg),
            self.step,
            self.epoch,
            self.models,
            self.optimizers,
            K.rng_state(self.data_rng),
            self.state(),
        )
        for attr, file in self.exports:
            K.export_safetensors(getattr(self, attr), self.run_dir / file)

    def _stop(self) -> None:
        """Write a checkpoint after the current step and leave (SIGINT / SIGTERM)."""
        self.checkpoint()
        raise L.TrainingInterrupted(
            f"interrupted at step {self.step}; checkpoint written. Resume with: "
            f"textgan train {self.command} --resume --run-dir {self.run_dir}"
        )

    def last_record(self) -> dict[str, Any]:
        """After the phases: every rank waits for rank 0's last evaluation and checkpoint; rank 0's
        last metrics record ({} on the other ranks)."""
        D.barrier()
        if not self.dist.is_main:
            return {}
        records = read_metrics(self.run_dir / METRICS_FILE)
        return records[-1] if records else {}
