"""Configs: presets, flag-name overrides, JSON round trips, and the checks that refuse bad values."""

from __future__ import annotations

import dataclasses
import json

import pytest

from textgan import config as cfgmod
from textgan import losses
from textgan.config import (
    PRESETS,
    STYLE_PRESETS,
    AdvConfig,
    LMConfig,
    RatioConfig,
    StyleConfig,
    from_dict,
    lm_config,
    load_json,
    save_json,
    style_config,
    to_dict,
    with_overrides,
)


def test_the_choice_lists_of_losses_and_config_agree() -> None:
    assert losses.ADVANTAGES == cfgmod.ADVANTAGES
    assert losses.CLIP_RULES == cfgmod.CLIP_RULES


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_lm_preset_round_trips_through_json(name, tmp_path) -> None:
    path = tmp_path / "config.json"
    save_json(PRESETS[name], path)
    assert load_json(LMConfig, path) == PRESETS[name]
    assert json.loads(path.read_text())["seed"] == PRESETS[name].seed


@pytest.mark.parametrize("name", sorted(STYLE_PRESETS))
def test_every_style_preset_round_trips(name) -> None:
    assert from_dict(StyleConfig, to_dict(STYLE_PRESETS[name])) == STYLE_PRESETS[name]


def test_overrides_reach_nested_fields_by_flag_name() -> None:
    cfg = lm_config("smoke", mle_epochs=5, critic_input="hard", filter_sizes=[2, 4])
    assert cfg.train.mle_epochs == 5 and cfg.adv.critic_input == "hard"
    assert cfg.critic.filter_sizes == (2, 4)  # lists become the tuples the dataclass holds
    assert PRESETS["smoke"].train.mle_epochs != 5  # the preset itself is untouched
    assert style_config("smoke", adv_steps=7).adv.adv_steps == 7


def test_an_unknown_override_names_the_nearest_field() -> None:
    with pytest.raises(ValueError, match="did you mean mle_epochs"):
        with_overrides(PRESETS["smoke"], mle_epoch=3)
    with pytest.raises(ValueError, match="unknown preset"):
        lm_config("nope")


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("n_critic", 0, "--n-critic"),
        ("clip_eps", 0.0, "--clip-eps"),
        ("critic_warmup_auc", 1.5, "--critic-warmup-auc"),
        ("critic_input", "both", "--critic-input"),
        ("ratio_level", "word", "--ratio-level"),
    ],
)
def test_bad_adversarial_values_name_their_flag(field, value, flag) -> None:
    with pytest.raises(ValueError, match=flag):
        dataclasses.replace(AdvConfig(critic_warmup=10), **{field: value})


def test_configs_saved_before_a_field_existed_take_its_old_default() -> None:
    old = to_dict(PRESETS["oracle"])
    for key in ("critic_input", "critic_warmup_auc", "clip_rule"):
        del old["adv"][key]
    cfg = from_dict(LMConfig, old)
    assert cfg.adv.critic_input == "soft" and cfg.adv.critic_warmup_auc == 0.0
    assert cfg.adv.clip_rule == "paper"  # LEGACY_DEFAULTS: runs from before the default changed


def test_ratio_config_refuses_bad_values() -> None:
    RatioConfig(run="r")  # the defaults are valid
    with pytest.raises(ValueError):
        RatioConfig(run="r", steps=0)
