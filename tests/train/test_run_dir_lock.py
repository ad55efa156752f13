"""One writer per run directory: an OS lock held for the life of a run, and runs killed before
their first checkpoint leave nothing that blocks a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from textgan.cli import main
from textgan.train import common as C

SMOKE = ["train", "lm", "--preset", "smoke", "--no-progress"]
HOLD = (
    "import sys, time, pathlib; from textgan.train import common as C; "
    "d = pathlib.Path(sys.argv[1]); d.mkdir(exist_ok=True); C.lock_run_dir(d); print('locked', flush=True); "
    "time.sleep(60)"
)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_a_second_trainer_on_a_locked_run_dir_exits_2_naming_the_holder(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name != C.LOCK_FILE}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        capsys.readouterr()
        assert main([*SMOKE, "--run-dir", str(run), "--resume"]) == 2
        line = one_error_line(capsys)
        assert f"in use by another textgan process (pid {holder.pid})" in line
        assert main([*SMOKE, "--run-dir", str(run)]) == 2  # a new run there names the holder too
        assert f"pid {holder.pid}" in one_error_line(capsys)
        after = {p.name: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name != C.LOCK_FILE}
        assert after == before  # the refused runs wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL released the lock: the run resumes.
    assert main([*SMOKE, "--run-dir", str(run), "--resume"]) == 0


def test_a_run_killed_before_its_first_checkpoint_can_be_started_again(tmp_path) -> None:
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "textgan", *SMOKE, "--run-dir", str(run), "--mle-epochs", "50"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not (run / C.CHECKPOINT_DIR).is_dir() and time.time() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / C.CHECKPOINT_DIR / C.LAST_CHECKPOINT).exists()
    assert C.is_skeleton(run)
    assert main([*SMOKE, "--run-dir", str(run)]) == 0
    assert (run / C.CHECKPOINT_DIR / C.LAST_CHECKPOINT).is_file()


def test_skeleton_files_are_cleared_but_other_dirs_are_refused(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    (run / C.CHECKPOINT_DIR).mkdir(parents=True)
    (run / C.SAMPLES_DIR).mkdir()
    (run / "config.json").write_text("{}")
    (run / "metrics.jsonl").write_text('{"stale": 1}\n')
    assert main([*SMOKE, "--run-dir", str(run)]) == 0
    assert "stale" not in (run / "metrics.jsonl").read_text()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main([*SMOKE, "--run-dir", str(other)]) == 2
    assert "not empty" in one_error_line(capsys)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]  # no lock file left in a user's dir
