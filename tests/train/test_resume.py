"""Interrupting a run and resuming it reproduces the uninterrupted run (CPU)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from textgan.cli import main
from textgan.config import PRESETS
from textgan.train import common as C
from textgan.train.lm import LMTrainer, TrainingInterrupted

TIMING = {"eval_seconds", "elapsed", "tokens_per_s", "seconds_per_iter"}


def records(run):
    return [
        {k: v for k, v in json.loads(x).items() if k not in TIMING}
        for x in (run / "metrics.jsonl").read_text().splitlines()
    ]


def smoke_cfg(run_dir, **adv):
    cfg = PRESETS["smoke"]
    return dataclasses.replace(
        cfg, run_dir=str(run_dir), device="cpu", progress=False, adv=dataclasses.replace(cfg.adv, **adv)
    )


class StopAfter:
    """Request a stop (as SIGINT would) once the trainer reaches a given step."""

    def __init__(self, trainer: LMTrainer, step: int) -> None:
        self.trainer, self.step = trainer, step
        original = C.optimizer_step

        def wrapped(*args, **kwargs):
            out = original(*args, **kwargs)
            if trainer.step + 1 >= self.step and args[0] is trainer.generator:
                trainer.stop_requested = True
            return out

        self.wrapped = wrapped


@pytest.mark.parametrize(
    ("stop_at", "adv"),
    [(5, {}), (12, {}), (17, {}), (17, {"gp_every": 3})],  # mid-epoch MLE, second epoch, adversarial phase
)
def test_interrupt_and_resume_equals_continuous_run(tmp_path, monkeypatch, stop_at, adv) -> None:
    continuous = tmp_path / "continuous"
    LMTrainer(smoke_cfg(continuous, adv_steps=3, **adv)).run()

    run = tmp_path / "interrupted"
    trainer = LMTrainer(smoke_cfg(run, adv_steps=3, **adv))
    stopper = StopAfter(trainer, stop_at)
    monkeypatch.setattr(C, "optimizer_step", stopper.wrapped)
    with pytest.raises(TrainingInterrupted, match="--resume --run-dir"):
        trainer.run()
    monkeypatch.undo()
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["step"] >= stop_at - 1
    LMTrainer(smoke_cfg(run, adv_steps=3, **adv), resume=True).run()

    assert records(run) == records(continuous)
    a = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)["models"]
    b = torch.load(continuous / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)["models"]
    for name in b:
        for key in b[name]:
            torch.testing.assert_close(a[name][key], b[name][key], rtol=0, atol=0)


def test_resume_without_checkpoint_and_bad_checkpoints(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    assert main(["train", "lm", "--preset", "smoke", "--resume", "--run-dir", str(run)]) == 2
    assert "config.json" in capsys.readouterr().err
    good = tmp_path / "good"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--adv-steps", "0", "--run-dir", str(good)]) == 0
    capsys.readouterr()
    last, prev = good / "checkpoints" / "last.pt", good / "checkpoints" / "prev.pt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])  # truncated, and the one before unreadable too
    prev.write_text("not a checkpoint")
    assert main(["train", "lm", "--resume", "--run-dir", str(good), "--mle-epochs", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "truncated" in err[0] and "the one before" in err[0], err
    assert last.read_bytes() == data[: len(data) // 2]  # nothing renamed or written when nothing loads


@pytest.mark.parametrize("damage", ["truncated", "zero bytes", "flipped bytes", "missing"])
def test_resume_falls_back_to_the_previous_checkpoint(tmp_path, capsys, damage) -> None:
    run = tmp_path / "run"
    smoke = ["train", "lm", "--preset", "smoke", "--no-progress", "--adv-steps", "0"]
    assert main([*smoke, "--run-dir", str(run), "--mle-epochs", "2"]) == 0
    last, prev = run / "checkpoints" / "last.pt", run / "checkpoints" / "prev.pt"
    survivor = prev.read_bytes()
    steps = torch.load(prev, weights_only=True)["step"], torch.load(last, weights_only=True)["step"]
    data = last.read_bytes()
    if damage == "truncated":
        last.write_bytes(data[: len(data) // 3])
    elif damage == "zero bytes":
        last.write_bytes(b"")
    elif damage == "flipped bytes":
        last.write_bytes(data[:30] + bytes(b ^ 0xFF for b in data[30:90]) + data[90:])
    else:
        last.unlink()
    capsys.readouterr()
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", "3", "--no-progress"]) == 0
    warnings = [x for x in capsys.readouterr().err.splitlines() if x.startswith("WARNING")]
    assert len(warnings) == 1 and "resuming from prev.pt" in warnings[0], warnings
    assert steps[0] < steps[1] and f"steps {steps[0] + 1}-{steps[1]} are lost" in warnings[0]
    assert torch.load(last, weights_only=True)["epoch"] == 3  # trained on from the survivor
    assert torch.load(prev, weights_only=True)["step"] > steps[0] or prev.read_bytes() != survivor
    epochs = [json.loads(x)["epoch"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]  # the lost epoch's record replaced by its rerun


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, capsys, monkeypatch) -> None:
    import errno

    run = tmp_path / "run"
    smoke = ["train", "lm", "--preset", "smoke", "--no-progress", "--adv-steps", "0"]
    assert main([*smoke, "--run-dir", str(run), "--mle-epochs", "1"]) == 0
    last = run / "checkpoints" / "last.pt"
    before = last.read_bytes()
    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", f.name)

    monkeypatch.setattr(torch, "save", full_disk)
    capsys.readouterr()
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    errors = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "no space left on the device writing" in errors[0] and "last.pt" in errors[0], err
    assert "Traceback" not in err
    assert last.read_bytes() == before
    assert sorted(p.name for p in last.parent.iterdir() if not p.name.startswith("prev")) == ["last.pt"]
    monkeypatch.setattr(torch, "save", real_save)
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", "2", "--no-progress"]) == 0


def test_checkpoint_checks_task_and_version(tmp_path) -> None:
    from textgan.utils import UserError

    path = tmp_path / "c.pt"
    torch.save({"format_version": 99, "task": "lm", "models": {}}, path)
    with pytest.raises(UserError, match="newer"):
        C.load_checkpoint(path, "lm")
    torch.save({"format_version": 1, "task": "style", "models": {}}, path)
    with pytest.raises(UserError, match="'style' run"):
        C.load_checkpoint(path, "lm")
    with pytest.raises(UserError, match="not found"):
        C.load_checkpoint(tmp_path / "missing.pt", "lm")


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch) -> None:
    from textgan.utils import UserError

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "task": "lm", "models": Evil()}, path)
    with pytest.raises(UserError, match="not a loadable textgan checkpoint"):
        C.load_checkpoint(path, "lm")
    assert not (tmp_path / "pwned").exists()


def test_non_finite_loss_stops_with_a_message_and_keeps_the_checkpoint(tmp_path, capsys, monkeypatch) -> None:
    run = tmp_path / "run"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--adv-steps", "0", "--run-dir", str(run)]) == 0
    capsys.readouterr()
    before = (run / "checkpoints" / "last.pt").read_bytes()
    import textgan.train.lm as lm

    def nan_step(self, ids):
        loss = self.g.token_log_probs(ids)[0].sum() * float("nan")
        return loss, float("nan"), 0

    monkeypatch.setattr(lm.LMTrainer, "_mle_step", nan_step)
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", "4"]) == 2
    err = capsys.readouterr().err
    assert "non-finite MLE loss" in err and "step" in err
    assert (run / "checkpoints" / "last.pt").read_bytes() == before


def test_a_signal_during_the_critic_warm_up_stops_it_and_resume_equals_a_continuous_run(tmp_path, monkeypatch) -> None:
    adv = {"adv_steps": 2, "critic_warmup": 7, "n_critic": 3}
    continuous = tmp_path / "continuous"
    LMTrainer(smoke_cfg(continuous, **adv)).run()

    run = tmp_path / "interrupted"
    trainer = LMTrainer(smoke_cfg(run, **adv))
    step = LMTrainer.critic_step

    def signalled(self, *args, **kwargs):  # the signal arrives during the warm-up's second update
        out = step(self, *args, **kwargs)
        if self.critic_updates == 2 and not self.critic_warmed:
            self.stop_requested = True
        return out

    monkeypatch.setattr(LMTrainer, "critic_step", signalled)
    with pytest.raises(TrainingInterrupted, match="--resume --run-dir"):
        trainer.run()
    monkeypatch.undo()
    assert trainer.critic_updates == 3 and not trainer.critic_warmed  # stopped after the current n_critic updates
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["state"]["critic_updates"] == 3 and ckpt["state"]["adv_step"] == 0
    LMTrainer(smoke_cfg(run, **adv), resume=True).run()

    assert records(run) == records(continuous)
    a = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    b = torch.load(continuous / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert a["state"]["critic_updates"] == b["state"]["critic_updates"] == 7 + 2 * 3
    for name in b["models"]:
        for key in b["models"][name]:
            torch.testing.assert_close(a["models"][name][key], b["models"][name][key], rtol=0, atol=0)
