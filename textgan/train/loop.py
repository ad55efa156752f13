"""What a training loop needs beside its model: signals that stop it cleanly, progress bars
(or log lines off a terminal), and the metrics log."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textgan import distributed as D
from textgan.runs import read_metrics
from textgan.train.rundir import unlock_run_dir
from textgan.utils import UserError, atomic_write_bytes

log = logging.getLogger(__name__)


class TrainingInterrupted(Exception):
    """Training stopped on a signal after writing a checkpoint (the message says how to resume)."""


@contextmanager
def stop_on_signals(trainer: Any) -> Iterator[None]:
    """While active, SIGINT / SIGTERM set ``trainer.stop_requested`` (a second signal stops at once);
    on leaving, the trainer's metrics log is closed and its run dir unlocked.

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
        metrics = getattr(trainer, "metrics", None)
        if isinstance(metrics, MetricsLogger):
            metrics.close()
        unlock_run_dir(trainer.run_dir)


def stop_now(trainer: Any) -> bool:
    """Whether to stop after this step: a signal reached this process or (under torchrun) any rank."""
    return D.any_rank(trainer.stop_requested)


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


WARMUP_AUC_EVERY = 50  # critic updates between the AUC checks of --critic-warmup-auc
WARMUP_AUC_ROWS = 512  # real training sentences (and as many samples) of each check, per style in style runs


def warm_up_critic(
    trainer: Any, updates: Callable[[int], Iterable[dict[str, float]]], auc: Callable[[], float]
) -> None:
    """``--critic-warmup`` critic updates before the first generator update, the loop of both tasks.

    ``updates(k)`` runs the next ``k`` (at most ``--n-critic``) critic updates, yielding each one's
    stats; ``auc()`` is the critic's AUC on training sentences, checked every ``WARMUP_AUC_EVERY``
    updates when ``--critic-warmup-auc`` is set (the warm-up ends once it reaches it). The warm-up's
    updates are the run's first ``trainer.critic_updates``, so a signal stops it after the current
    chunk with a checkpoint, and resuming goes on from there. Sets ``trainer.critic_warmed`` and
    writes a checkpoint at the end.
    """
    adv = trainer.cfg.adv
    done, stats, value = trainer.critic_updates, {}, None
    reached = False
    bar = progress_bar(adv.critic_warmup, "critic warm-up", "step", trainer.cfg.progress, initial=done)
    while done < adv.critic_warmup and not reached:
        for update in updates(min(adv.n_critic, adv.critic_warmup - done)):
            stats = update
            done += 1
            bar.update(1)
            if adv.critic_warmup_auc and done % WARMUP_AUC_EVERY == 0:
                value = auc()
                if value >= adv.critic_warmup_auc:
                    reached = True
                    break
        bar.set_postfix(gap=f"{stats.get('critic_gap', 0):.3f}", **({} if value is None else {"auc": f"{value:.3f}"}))
        if not reached and done < adv.critic_warmup and stop_now(trainer):
            bar.close()
            trainer._stop()
    bar.close()
    shown = "" if value is None else f", AUC on training sentences {value:.3f} (target {adv.critic_warmup_auc})"
    log.info("critic warm-up: %d updates, real-fake gap %.4f%s", done, stats.get("critic_gap", 0.0), shown)
    trainer.critic_warmed = True
    trainer.checkpoint()


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
    """Append one JSON object per line to ``metrics.jsonl``; with ``tensorboard`` (a directory),
    also every number of each record as a TensorBoard scalar ``<phase>/<key>`` at the record's
    ``step`` (``--tensorboard``).

    Args:
        path: the ``metrics.jsonl`` file.
        tensorboard: the event-file directory (``RUN/tensorboard``), or None.
        purge_step: on resume, the first step after the checkpoint: TensorBoard drops the events
            a stopped run wrote from there on, as ``truncate_metrics`` drops its records.
    """

    def __init__(self, path: Path, tensorboard: Path | None = None, purge_step: int | None = None) -> None:
        self.path = path
        self.tensorboard = tensorboard
        self.purge_step = purge_step
        self._writer: Any = None

    def log(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=False) + "\n")
            fh.flush()
        if self.tensorboard is not None:
            self._scalars(record)

    def _scalars(self, record: dict[str, Any]) -> None:
        if self._writer is None:  # made on the first record: ranks other than 0 write no event file
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.tensorboard), purge_step=self.purge_step)
        step = int(record.get("step", 0))
        phase = str(record.get("phase", "eval"))
        for key, value in record.items():
            if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                self._writer.add_scalar(f"{phase}/{key}", value, step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def require_tensorboard() -> None:
    """Raises UserError when ``--tensorboard`` cannot work here (the package is not installed)."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise UserError(
            "--tensorboard: the tensorboard package is not installed; pip install 'textgan[tensorboard]' "
            "(or pip install tensorboard)"
        )


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records after ``step`` (used on resume, so the log matches the checkpoint)."""
    if not path.is_file():
        return
    keep = [r for r in read_metrics(path) if int(r.get("step", 0)) <= step]
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in keep).encode("utf-8"))
