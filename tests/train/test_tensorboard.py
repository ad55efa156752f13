"""--tensorboard: every metrics record also as TensorBoard scalars, read back from the event file."""

from __future__ import annotations

import importlib.util
import json

import pytest

from textgan.cli import main

pytest.importorskip("tensorboard")


def scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_lm_records_round_trip_as_scalars(tmp_path) -> None:
    run = tmp_path / "run"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--tensorboard", "--run-dir", str(run)]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    got = scalars(run)
    for phase in ("mle", "adv"):
        mine = [r for r in records if r["phase"] == phase]
        assert [s for s, _ in got[f"{phase}/nll_gen"]] == [r["step"] for r in mine]
        for (_, value), r in zip(got[f"{phase}/nll_gen"], mine, strict=True):
            assert value == pytest.approx(r["nll_gen"], rel=1e-6)
    assert "adv/critic_auc" in got and "mle/critic_auc" not in got  # phases told apart


def test_a_resume_drops_the_events_after_the_checkpoint(tmp_path) -> None:
    run = tmp_path / "run"
    base = ["train", "lm", "--preset", "smoke", "--no-progress", "--tensorboard", "--run-dir", str(run)]
    assert main([*base, "--mle-epochs", "1", "--adv-steps", "0"]) == 0
    (first,) = scalars(run)["mle/nll_gen"]
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(run / "tensorboard")) as stray:  # what a run stopped after its checkpoint left
        stray.add_scalar("mle/nll_gen", -1.0, first[0] + 2)
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", "2", "--adv-steps", "0"]) == 0
    got = scalars(run)["mle/nll_gen"]
    assert [v for _, v in got].count(-1.0) == 0  # dropped: it came after the checkpoint the run resumed from
    assert len(got) == 2 and got[0] == first and got[1][0] > first[0]


def test_without_the_package_one_error_line_and_nothing_written(tmp_path, capsys, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    run = tmp_path / "run"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--tensorboard", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --tensorboard") and "pip install" in err[0]
    assert not run.exists()
