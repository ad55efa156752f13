"""Every preset of every task builds and trains one step of each phase on the fixture data, at
its own model sizes, so that a preset cannot rot unnoticed (only the data and the step counts
are overridden, with the batch and the critic / generator updates per iteration: at RelGAN's 64
and 5 / 5 one iteration of the coco preset takes half a minute on a CPU)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from textgan.config import (
    CLASSIFIER_PRESETS,
    PRESETS,
    STYLE_PRESETS,
    lm_config,
    style_config,
    with_overrides,
)

DATA = Path(__file__).resolve().parents[1] / "data"
QUICK = {"device": "cpu", "progress": False}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_lm_preset_trains_one_mle_epoch_and_one_adversarial_iteration(name, tmp_path) -> None:
    from textgan.train.lm import train_lm

    cfg = lm_config(
        name, data=str(DATA / "tiny"), run_dir=str(tmp_path / "run"), mle_epochs=1, adv_steps=1,
        eval_every=1, adv_eval_every=1, eval_samples=8, batch_size=8, n_critic=1, g_steps=1, **QUICK,
    )  # fmt: skip
    assert cfg.model == PRESETS[name].model and cfg.critic == PRESETS[name].critic  # the preset's sizes
    final = train_lm(cfg)
    assert final["epoch"] == 1 and final["adv_step"] == 1 and math.isfinite(final["nll_gen"])


@pytest.mark.parametrize("name", sorted(STYLE_PRESETS))
def test_every_style_preset_trains_one_autoencoder_step_and_one_adversarial_iteration(name, tmp_path) -> None:
    from textgan.train.style import train_style

    cfg = style_config(
        name, data=str(DATA / "tiny-style"), run_dir=str(tmp_path / "run"), ae_steps=1, adv_steps=1,
        adv_eval_every=1, n_critic=1, g_steps=1, **QUICK,
    )  # fmt: skip
    assert cfg.model == STYLE_PRESETS[name].model
    final = train_style(cfg)
    assert final["adv_step"] == 1 and 0.0 <= final["accuracy"] <= 100.0


@pytest.mark.parametrize("name", sorted(CLASSIFIER_PRESETS))
def test_every_classifier_preset_trains_one_epoch(name, tmp_path) -> None:
    from textgan.train.classifier import train_classifier

    cfg = with_overrides(
        CLASSIFIER_PRESETS[name], data=str(DATA / "tiny-style"), run_dir=str(tmp_path / "run"), epochs=1, **QUICK
    )
    final = train_classifier(cfg)
    assert 0.0 <= final["dev_accuracy"] <= 1.0
