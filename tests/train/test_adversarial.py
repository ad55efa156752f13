"""The adversarial phase: every loss and ratio runs; exact ratio starts at 1."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from textgan.cli import main
from textgan.config import PRESETS
from textgan.train.lm import LMTrainer

SMOKE = ["train", "lm", "--preset", "smoke", "--no-progress", "--mle-epochs", "1", "--adv-steps", "2"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--loss", "ppo", "--ratio", "exact"],
        ["--loss", "ppo", "--ratio", "discriminator"],
        ["--loss", "ppo", "--no-reweight", "--no-clip"],
        ["--loss", "ppo", "--clip-rule", "ppo", "--advantage", "centered", "--ratio-level", "token"],
        ["--loss", "ppo", "--ratio", "discriminator", "--advantage", "normalized", "--clip-rule", "ppo"],
        ["--loss", "wgan-gp"],
        ["--loss", "rsgan"],
        ["--loss", "standard"],
        ["--loss", "hinge"],
    ],
)
def test_every_loss_runs(tmp_path, capsys, flags) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run), *flags]) == 0
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    adv = [r for r in records if r["phase"] == "adv"]
    assert [r["adv_step"] for r in adv] == [0, 2]
    assert "g_loss" in adv[-1] and "critic_gap" in adv[-1]
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert "critic" in ckpt["models"] and ckpt["state"]["adv_step"] == 2
    if "discriminator" in flags:
        assert "discriminator" in ckpt["models"] and "d_loss" in adv[-1]


def test_exact_log_ratio_is_zero_before_the_first_update(tmp_path) -> None:
    cfg = PRESETS["smoke"]
    cfg = dataclasses.replace(
        cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=dataclasses.replace(cfg.adv, g_steps=1, clip_eps=1e-6)
    )
    trainer = LMTrainer(cfg)
    stats = trainer.generator_phase(beta=1.0)
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-5)
    assert stats["ratio_max"] == pytest.approx(1.0, abs=1e-5)
    assert stats["clip_frac"] == 0.0


def test_later_updates_move_the_ratio(tmp_path) -> None:
    cfg = PRESETS["smoke"]
    cfg = dataclasses.replace(
        cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=dataclasses.replace(cfg.adv, g_steps=4, adv_lr=0.05)
    )
    trainer = LMTrainer(cfg)
    stats = trainer.generator_phase(beta=1.0)
    assert abs(stats["ratio_mean"] - 1.0) > 1e-4


def test_init_from_a_pretrained_run(tmp_path, capsys) -> None:
    pre = tmp_path / "pre"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--run-dir", str(pre)]) == 0
    run = tmp_path / "adv"
    assert main([*SMOKE, "--run-dir", str(run), "--init-from", str(pre), "--mle-epochs", "5"]) == 0
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(r["phase"] == "adv" for r in records)  # no MLE epochs: it starts from the pretrained generator
    assert (run / "vocab.txt").read_text() == (pre / "vocab.txt").read_text()
    # Resuming such a run continues the adversarial phase; it never starts MLE pretraining.
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--adv-steps", "3", "--no-progress"]) == 0
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(r["phase"] == "adv" for r in records) and records[-1]["adv_step"] == 3
    assert main([*SMOKE, "--run-dir", str(tmp_path / "x"), "--init-from", str(tmp_path / "nope")]) == 2
    assert "--init-from" in capsys.readouterr().err


def test_init_from_takes_the_pretrained_runs_corpus(tmp_path, capsys) -> None:
    """A run pretrained on a text corpus continues on that corpus without repeating --data; a corpus
    whose vocabulary does not fit the generator is one error line, not a traceback."""
    tiny = Path(__file__).resolve().parents[2] / "data" / "tiny"
    pre = tmp_path / "pre"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--run-dir", str(pre), "--data", str(tiny)]) == 0
    run = tmp_path / "adv"
    assert main([*SMOKE, "--run-dir", str(run), "--init-from", str(pre)]) == 0
    assert json.loads((run / "config.json").read_text())["data"]["data"] == str(tiny)
    capsys.readouterr()
    assert main([*SMOKE, "--run-dir", str(tmp_path / "x"), "--init-from", str(pre), "--data", "oracle"]) == 2
    err = capsys.readouterr().err
    errors = [x for x in err.splitlines() if x.startswith("error:")]
    assert "Traceback" not in err and len(errors) == 1
    assert errors[0].startswith("error: --init-from") and "does not fit" in errors[0]


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--clip-eps", "0"),
        ("--beta-max", "0.5"),
        ("--n-critic", "0"),
        ("--loss", "bogus"),
        ("--ratio", "bogus"),
        ("--adv-lr", "-1"),
        ("--clip-rule", "bogus"),
        ("--advantage", "bogus"),
        ("--ratio-level", "bogus"),
    ],
)
def test_bad_adversarial_flags(tmp_path, capsys, flag, value) -> None:
    assert main([*SMOKE, "--run-dir", str(tmp_path / "r"), flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and flag in err and len(err.splitlines()) == 1


def test_plot_writes_pngs(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run)]) == 0
    capsys.readouterr()
    assert main(["plot", str(run)]) == 0
    paths = capsys.readouterr().out.split()
    assert {p.rsplit("/", 1)[-1] for p in paths} == {"losses.png", "bleu.png", "nll.png", "ratio.png", "auc.png"}
    assert all((run / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in ("bleu.png", "ratio.png"))
    assert main(["plot", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_token_level_needs_the_exact_ratio(tmp_path, capsys) -> None:
    args = [*SMOKE, "--run-dir", str(tmp_path / "r"), "--ratio", "discriminator", "--ratio-level", "token"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "--ratio-level" in err and "exact" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("level", ["sequence", "token"])
@pytest.mark.parametrize("mode", ["raw", "centered", "normalized"])
def test_clipped_ratio_loss_wires_the_recipe_options(level, mode) -> None:
    from textgan import losses as L
    from textgan.config import AdvConfig, GeneratorConfig
    from textgan.models.generators import build_generator
    from textgan.train.common import clipped_ratio_loss

    g = build_generator(GeneratorConfig(generator="lstm", embed_dim=8, hidden_dim=8), 12, 6)
    ids, noise = g.sample_ids(5, keep_noise=True, generator=torch.Generator().manual_seed(0))
    old = g.relax(ids, noise, 2.0)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.3 * torch.randn_like(p))
    cur = g.relax(ids, noise, 2.0)
    scores = torch.tensor([0.5, -1.0, 2.0, 0.0, -0.3])
    adv = AdvConfig(advantage=mode, clip_rule="ppo", ratio_level=level, clip_eps=0.2)
    loss, stats = clipped_ratio_loss(adv, scores, cur, old)
    a = L.shape_advantage(scores, mode)
    if level == "token":
        log_r, rows = cur.token_log_prob - old.token_log_prob, cur.token_rows
        a = a[rows]
    else:
        log_r = cur.log_prob - old.log_prob
    r = log_r.exp()
    expected = -torch.minimum(r * a, r.clamp(0.8, 1.2) * a).mean()
    torch.testing.assert_close(loss, expected)
    assert stats["clip_frac"] > 0  # the perturbation moved some ratios out of [0.8, 1.2]


def test_adversarial_summary_line() -> None:
    from textgan.train.lm import adversarial_summary

    mle = {"phase": "mle", "epoch": 3, "nll_gen": 7.0}
    start = {"phase": "adv", "adv_step": 0, "nll_oracle": 9.7, "nll_gen": 7.68}
    assert adversarial_summary([mle]) is None
    helped = adversarial_summary([mle, start, {"phase": "adv", "adv_step": 20, "nll_oracle": 9.5, "nll_gen": 7.6}])
    assert "NLL_oracle 9.700 -> 9.500 (-0.200)" in helped and "NLL_test 7.680 -> 7.600" in helped
    assert "helped" in helped and "steps 0 -> 20" in helped
    trade = adversarial_summary([start, {"phase": "adv", "adv_step": 5, "nll_oracle": 9.4, "nll_gen": 7.8}])
    assert "quality-for-diversity trade" in trade and "--temperatures" in trade
    hurt = adversarial_summary([start, {"phase": "adv", "adv_step": 5, "nll_oracle": 9.8, "nll_gen": 7.8}])
    assert "hurt" in hurt
    still = adversarial_summary([start, {"phase": "adv", "adv_step": 5, "nll_oracle": 9.7003, "nll_gen": 7.684}])
    assert "barely moved" in still
    real = adversarial_summary(
        [
            {"phase": "adv", "adv_step": 0, "bleu4": 0.30, "nll_gen": 5.0},
            {"phase": "adv", "adv_step": 9, "bleu4": 0.31, "nll_gen": 5.1},
        ]
    )
    assert "BLEU-4 0.300 -> 0.310" in real and "trade" in real


def test_critic_warmup_and_critic_lr(tmp_path) -> None:
    import logging

    class Lines(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    cfg = PRESETS["smoke"]
    adv = dataclasses.replace(cfg.adv, critic_warmup=3, critic_lr=3e-3, adv_lr=1e-4, adv_steps=1)
    cfg = dataclasses.replace(cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=adv, progress=False)
    trainer = LMTrainer(cfg)
    assert trainer.optimizers["critic"].param_groups[0]["lr"] == 3e-3
    assert trainer.optimizers["generator_adv"].param_groups[0]["lr"] == 1e-4
    before = [p.detach().clone() for p in trainer.critic.parameters()]
    lm_log, handler = logging.getLogger("textgan.train.loop"), Lines()  # own handler: the CLI may own "textgan"
    lm_log.addHandler(handler)
    level = lm_log.level
    lm_log.setLevel(logging.INFO)
    try:
        trainer.run()
    finally:
        lm_log.removeHandler(handler)
        lm_log.setLevel(level)
    assert any(line.startswith("critic warm-up: 3 updates") for line in handler.lines)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.critic.parameters(), strict=True))
    ckpt = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["state"]["critic_warmed"] is True


def test_defaults_and_configs_saved_before_the_recipe_options() -> None:
    from textgan.config import STYLE_PRESETS, LMConfig, StyleConfig, from_dict, to_dict

    assert (PRESETS["oracle"].adv.clip_rule, PRESETS["oracle"].adv.advantage) == ("ppo", "centered")
    assert (STYLE_PRESETS["yelp"].adv.clip_rule, STYLE_PRESETS["yelp"].adv.advantage) == ("paper", "raw")
    old = to_dict(PRESETS["oracle"])
    for key in ("clip_rule", "advantage", "ratio_level", "critic_lr", "critic_warmup"):
        del old["adv"][key]
    cfg = from_dict(LMConfig, old)  # an older run's config.json: trained with the paper's rule and raw A
    assert (cfg.adv.clip_rule, cfg.adv.advantage, cfg.adv.ratio_level) == ("paper", "raw", "sequence")
    assert from_dict(LMConfig, to_dict(PRESETS["oracle"])) == PRESETS["oracle"]
    assert from_dict(StyleConfig, to_dict(STYLE_PRESETS["yelp"])) == STYLE_PRESETS["yelp"]


def test_critic_input_hard_scores_tokens_and_passes_soft_gradients(tmp_path) -> None:
    from textgan.train import common as C

    cfg = PRESETS["smoke"]
    adv = dataclasses.replace(cfg.adv, critic_input="hard", adv_steps=1)
    cfg = dataclasses.replace(cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=adv, progress=False)
    trainer = LMTrainer(cfg)
    fakes = trainer.fake_rows(1.0, 2)
    assert len(fakes) == 2 and fakes[0].dtype == torch.long and fakes[0].shape == (16, trainer.corpus.max_len)
    # the critic loss of ids equals the loss of their one-hot rows (same penalty interpolates, same alpha)
    real = trainer._real_batch()
    trainer.critic.eval()  # no dropout: both calls see the same network
    torch.manual_seed(3)
    by_ids, _ = C.critic_objective(adv, trainer.critic, real, fakes[0], 0)
    torch.manual_seed(3)
    rows = torch.nn.functional.one_hot(fakes[0], trainer.critic.vocab_size).float()
    by_rows, _ = C.critic_objective(adv, trainer.critic, real, rows, 0)
    assert torch.allclose(by_ids, by_rows, atol=1e-5)
    # straight-through rows: one-hot tokens forward, the soft rows' gradient backward
    sample = trainer.generator.sample(4, beta=1.0)
    st = C.critic_rows(trainer.cfg.adv, sample)
    assert torch.allclose(st, torch.nn.functional.one_hot(sample.ids, st.shape[-1]).float(), atol=1e-6)
    weights = torch.randn_like(st)
    params = [p for p in trainer.generator.parameters() if p.requires_grad]
    g_st = torch.autograd.grad((st * weights).sum(), params, retain_graph=True, allow_unused=True)
    g_soft = torch.autograd.grad((sample.soft * weights).sum(), params, allow_unused=True)
    pairs = [(a, b) for a, b in zip(g_st, g_soft, strict=True) if b is not None]
    assert pairs and all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)
    assert any(b.abs().sum() > 0 for _, b in pairs)
    assert trainer.run()["critic_auc"] >= 0.0


def test_critic_warmup_stops_at_the_auc_target(tmp_path, monkeypatch) -> None:
    from textgan.train import loop

    monkeypatch.setattr(loop, "WARMUP_AUC_EVERY", 2)
    cfg = PRESETS["smoke"]
    adv = dataclasses.replace(cfg.adv, critic_warmup=40, critic_warmup_auc=0.01, adv_steps=1)
    cfg = dataclasses.replace(cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=adv, progress=False)
    trainer = LMTrainer(cfg)
    trainer.warm_up_critic()
    assert trainer.critic_updates == 2  # any AUC reaches 0.01: the first check ends it
    assert 0.0 <= trainer.warmup_auc() <= 1.0
    with pytest.raises(ValueError, match="--critic-warmup-auc"):
        dataclasses.replace(cfg.adv, critic_warmup=0, critic_warmup_auc=0.6)
    with pytest.raises(ValueError, match="--critic-warmup-auc"):
        dataclasses.replace(cfg.adv, critic_warmup_auc=1.0)


def test_cold_temperature_draws_cold_and_weighs_by_the_cold_proposal(tmp_path, monkeypatch) -> None:
    from textgan.models import generators as G
    from textgan.train import lm

    cfg = PRESETS["smoke"]
    adv = dataclasses.replace(cfg.adv, cold_temperature=0.5, adv_steps=1, g_steps=1)
    cfg = dataclasses.replace(cfg, run_dir=str(tmp_path / "r"), device="cpu", adv=adv, progress=False)
    trainer = LMTrainer(cfg)
    seen: dict[str, object] = {}
    draw, weigh = G.Generator.sample_ids, lm.C.clipped_ratio_loss

    def spy_draw(self, *args, **kwargs):
        seen.setdefault("temperatures", []).append(kwargs.get("temperature", 1.0))
        return draw(self, *args, **kwargs)

    def spy_weigh(adv_cfg, scores, cur, old, log_ratio=None):
        seen.update(cur=cur, old=old)
        return weigh(adv_cfg, scores, cur, old, log_ratio)

    monkeypatch.setattr(G.Generator, "sample_ids", spy_draw)
    monkeypatch.setattr(lm.C, "clipped_ratio_loss", spy_weigh)
    with torch.no_grad():
        before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    stats = trainer.generator_phase(1.0)
    assert seen["temperatures"] == [0.5]  # the one draw of the phase is cold
    cur, old = seen["cur"], seen["old"]
    assert torch.equal(cur.ids, old.ids)
    # theta_old's log-likelihood of the draw is the tempered model's, not the plain one
    trainer.generator.load_state_dict(before)
    with torch.no_grad():
        torch.testing.assert_close(old.log_prob, trainer.generator.log_prob(old.ids, temperature=0.5))
        assert not torch.allclose(old.log_prob, trainer.generator.log_prob(old.ids))
    # the first update's ratio is p_theta / p_theta_old,T: far from 1, unlike the paper's (exactly 1)
    assert stats["ratio_max"] > 1.0 + 1e-3 or stats["ratio_min"] < 1.0 - 1e-3
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())


def test_tempered_log_probs_are_the_tempered_models() -> None:
    from tests.models.test_generators import tiny
    from textgan.train.lm import tempered_log_probs

    gen = tiny("lstm").eval()
    ids, noise = gen.sample_ids(5, generator=torch.Generator().manual_seed(7), keep_noise=True, temperature=0.7)
    with torch.no_grad():
        s = tempered_log_probs(gen.relax(ids, noise, 2.0, 0.7), 0.7)
        torch.testing.assert_close(s.log_prob, gen.log_prob(ids, temperature=0.7))
        torch.testing.assert_close(torch.zeros(5).index_add(0, s.token_rows, s.token_log_prob), s.log_prob)


def test_cold_temperature_is_refused_where_it_has_no_meaning(tmp_path, capsys) -> None:
    from tests.train.test_style import SMOKE
    from textgan.config import AdvConfig

    bad_values = (
        {"cold_temperature": 0.0},
        {"cold_temperature": float("nan")},
        {"cold_temperature": 0.5, "loss": "wgan-gp"},
        {"cold_temperature": 0.5, "ratio": "discriminator"},
    )
    for bad in bad_values:
        with pytest.raises(ValueError, match="--cold-temperature"):
            AdvConfig(**bad)
    assert main([*SMOKE, "--run-dir", str(tmp_path / "s"), "--cold-temperature", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --cold-temperature") and not (tmp_path / "s").exists()
