"""What the trainers share, one module per job, under one name (``from textgan.train import common
as C``; ``C.save_checkpoint(...)``):

- ``train/rundir.py``: the run directory: its lock, its skeleton, the files written at its start;
- ``train/checkpoints.py``: checkpoints (loaded with ``weights_only``) and RNG state;
- ``train/loop.py``: signals that stop a run cleanly, progress bars or log lines, the metrics log;
- ``train/objectives.py``: the GAN objectives of both tasks and the optimiser step.

The run-file names and ``read_metrics`` (``runs``) and the atomic writes (``utils``) are here too.
Trainers call these through this module, so a test can replace one (``monkeypatch.setattr(C, ...)``).
"""

# ruff: noqa: F401 - this module re-exports

from __future__ import annotations

from textgan.runs import (
    CONFIG_FILE,
    GENERATOR_FILE,
    METRICS_FILE,
    MODEL_FILE,
    TENSORBOARD_DIR,
    VOCAB_FILE,
    load_safetensors,
    read_metrics,
    read_run_files,
)
from textgan.train.checkpoints import (
    KEY_CONFIG,
    KEY_EPOCH,
    KEY_FORMAT,
    KEY_MODELS,
    KEY_OPTIMIZERS,
    KEY_RNG,
    KEY_STATE,
    KEY_STEP,
    KEY_TASK,
    export_safetensors,
    load_checkpoint,
    load_surviving_checkpoint,
    restore_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from textgan.train.loop import (
    LOG_PROGRESS_SECONDS,
    WARMUP_AUC_ROWS,
    LogProgress,
    MetricsLogger,
    TrainingInterrupted,
    progress_bar,
    require_tensorboard,
    stop_now,
    stop_on_signals,
    truncate_metrics,
    warm_up_critic,
)
from textgan.train.objectives import (
    clipped_ratio_loss,
    critic_objective,
    critic_rows,
    optimizer_step,
    penalty_weight,
)
from textgan.train.rundir import (
    CHECKPOINT_DIR,
    LAST_CHECKPOINT,
    LOCK_FILE,
    PREV_CHECKPOINT,
    RUN_START_FILES,
    SAMPLES_DIR,
    is_skeleton,
    lock_run_dir,
    prepare_hf_files,
    prepare_run_dir,
    remove_if_only_skeleton,
    unlock_run_dir,
    write_run_files,
)
from textgan.utils import UserError, atomic_path, atomic_torch_save, atomic_write_bytes
