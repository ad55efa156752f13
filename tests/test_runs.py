"""runs.py: reading run directories (``load``, the critic and its fallback, the metrics log) and
refusing what is not a run, with one UserError each."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from textgan import runs
from textgan.runs import read_meta, read_metrics
from textgan.utils import UserError


def test_load_gives_an_lm_run_that_samples(smoke_lm_run) -> None:
    run = runs.load(smoke_lm_run)
    assert isinstance(run, runs.LMRun) and run.run_dir == smoke_lm_run
    assert len(run.generate(3, seed=1)) == 3
    assert run.generate(3, seed=1) == run.generate(3, seed=1)
    with pytest.raises(UserError, match="not a style-transfer run"):
        runs.load(smoke_lm_run, task="style")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "run directory not found"),
        (lambda d: d.mkdir(), "no model.json"),
        (lambda d: (d.mkdir(), (d / "model.json").write_text("{not json")), "unreadable"),
        (lambda d: (d.mkdir(), (d / "model.json").write_text('{"size": 3}')), "unreadable"),
    ],
)
def test_read_meta_refuses_what_is_not_a_run(tmp_path, setup, message) -> None:
    target = tmp_path / "run"
    setup(target)
    with pytest.raises(UserError, match=message):
        read_meta(target)


def test_a_run_without_weights_is_refused(smoke_lm_run, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(smoke_lm_run, copy)
    (copy / runs.GENERATOR_FILE).unlink()
    with pytest.raises(UserError):
        runs.load(copy)


def test_the_critic_comes_from_the_checkpoint_and_falls_back_to_prev(smoke_lm_run, tmp_path) -> None:
    gen, _, _, cfg = runs.load_lm_run(smoke_lm_run)
    critic = runs.load_critic(smoke_lm_run, gen, cfg)
    ids = gen.sample_ids(4)[0]
    scores = critic(ids=ids)
    assert scores.shape == (4,) and not critic.training
    copy = tmp_path / "copy"
    shutil.copytree(smoke_lm_run, copy)
    last = copy / runs.CHECKPOINT_FILE
    prev = last.with_name("prev.pt")
    shutil.copy(last, prev)
    last.write_bytes(b"torn")  # a last.pt cut short: the one before it still serves
    assert torch.allclose(runs.load_critic(copy, gen, cfg)(ids=ids), scores)
    prev.write_bytes(b"torn too")
    with pytest.raises(UserError, match="unreadable checkpoint"):
        runs.load_critic(copy, gen, cfg)


def test_judges_of_an_mle_only_run_are_none(tmp_path) -> None:
    from textgan.cli import main

    run = tmp_path / "mle"
    assert main(["train", "lm", "--preset", "smoke", "--adv-steps", "0", "--no-progress", "--run-dir", str(run)]) == 0
    gen, _, _, cfg = runs.load_lm_run(run)
    assert runs.run_judges(run, gen, cfg) == {}
    with pytest.raises(UserError, match="no critic"):
        runs.load_scorer(run, gen, cfg, "critic")
    with pytest.raises(UserError, match="unknown score"):
        runs.load_scorer(run, gen, cfg, "oracle")


def test_read_metrics_skips_a_torn_last_line(tmp_path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"step": 1}) + "\n" + '{"step": 2, "x"')
    assert read_metrics(path) == [{"step": 1}]
    assert read_metrics(str(path)) == [{"step": 1}]  # a str path too


@pytest.mark.parametrize("damage", ["truncated", "zero bytes"])
def test_damaged_generator_weights_fall_back_to_the_checkpoint(smoke_lm_run, tmp_path, caplog, damage) -> None:
    import logging

    copy = tmp_path / "copy"
    shutil.copytree(smoke_lm_run, copy)
    weights = copy / runs.GENERATOR_FILE
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"")
    expected = runs.load(smoke_lm_run).generate(4, seed=3)
    with caplog.at_level(logging.WARNING, logger="textgan"):
        assert runs.load(copy).generate(4, seed=3) == expected  # the checkpoint holds the same generator
    assert [r.getMessage() for r in caplog.records if "unreadable; using the generator of last.pt" in r.getMessage()]
    (copy / runs.CHECKPOINT_FILE).write_bytes(b"torn")
    (copy / runs.CHECKPOINT_FILE).with_name("prev.pt").unlink(missing_ok=True)
    with pytest.raises(UserError, match="cannot load the model weights"):
        runs.load(copy)
