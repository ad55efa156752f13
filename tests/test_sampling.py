"""Sampling from q ∝ p · exp(A · s): SIR against a toy model whose q is known exactly, the log Ẑ
estimator, the AUC helper, the reverse LM score, and the commands around them."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import pytest
import torch

from textgan.cli import main
from textgan.config import GeneratorConfig
from textgan.data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from textgan.metrics.auc import roc_auc
from textgan.metrics.reverse_lm import ReverseLM, reverse_lm_nll
from textgan.models.generators import build_generator, generate_ids
from textgan.sampling import log_mean_exp, q_nll, resample_ids

BANNED = [PAD_ID, BOS_ID, EOS_ID, UNK_ID]  # sentences are exactly max_len tokens of ids 4, 5, 6


def toy_generator() -> torch.nn.Module:
    """A 3-token vocabulary, 2 steps: 9 sentences with a known, non-uniform p."""
    torch.manual_seed(3)
    gen = build_generator(GeneratorConfig(generator="lstm", embed_dim=4, hidden_dim=8), 7, 2, BANNED)
    with torch.no_grad():
        for p in gen.parameters():
            p.mul_(3.0)  # a peaked p, so that reweighting visibly moves mass
    return gen.requires_grad_(False).eval()


ALL = torch.tensor(list(itertools.product((4, 5, 6), repeat=2)))  # the 9 sentences


def toy_score(ids: torch.Tensor) -> torch.Tensor:
    return (ids[:, 0] == 4).float() * 1.0 + (ids[:, 1] == 6).float() * 0.5 - (ids[:, 0] == 6).float() * 0.7


def freqs(ids: torch.Tensor) -> torch.Tensor:
    index = ((ids[:, 0] - 4) * 3 + (ids[:, 1] - 4)).long()
    return torch.bincount(index, minlength=9).double() / ids.shape[0]


def test_sir_frequencies_match_the_exact_q() -> None:
    gen = toy_generator()
    alpha = 1.5
    p = gen.log_prob(ALL).double().exp()
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-5)
    q = p * torch.exp(alpha * toy_score(ALL).double())
    z = float(q.sum())
    q = q / q.sum()
    rng = torch.Generator().manual_seed(0)
    res = resample_ids(gen, toy_score, 12_000, 64, alpha, rng=rng, batch_size=100_000)
    tv = 0.5 * float((freqs(res.ids) - q).abs().sum())
    assert tv < 0.025, (freqs(res.ids), q)  # stated tolerance: total variation 0.025 (M = 64, n = 12,000)
    tv_p = 0.5 * float((p - q).abs().sum())
    assert tv_p > 0.15  # q is far from p: the test can fail
    assert abs(res.log_z - math.log(z)) < 4 * res.log_z_se + 1e-3  # Ẑ estimates Z = E_p[exp(A s)]
    assert 0 < res.ess < 1


def test_alpha_zero_and_one_proposal_are_plain_sampling() -> None:
    gen = toy_generator()
    plain = generate_ids(gen, 50, torch.Generator().manual_seed(5))
    for resample, alpha in ((16, 0.0), (1, 2.0)):
        res = resample_ids(gen, toy_score, 50, resample, alpha, rng=torch.Generator().manual_seed(5))
        assert torch.equal(res.ids, plain) and res.ess == 1.0 and res.log_z == 0.0


def test_bad_resampling_settings_raise() -> None:
    gen = toy_generator()
    for resample, alpha, flag in ((0, 1.0, "--resample"), (4, -1.0, "--alpha"), (4, float("nan"), "--alpha")):
        with pytest.raises(ValueError, match=flag):
            resample_ids(gen, toy_score, 5, resample, alpha)


def test_q_nll_is_the_exact_nll_of_q_given_z() -> None:
    gen = toy_generator()
    alpha = 0.8
    logp = gen.log_prob(ALL).double()
    log_z = float(torch.logsumexp(logp + alpha * toy_score(ALL).double(), 0))
    test = ALL[[0, 4, 4, 8, 2]]
    log_q = gen.log_prob(test).double() + alpha * toy_score(test).double() - log_z
    tokens = test.numel()  # no <eos>: every sentence is max_len tokens
    assert q_nll(gen, toy_score, test, alpha, log_z) == pytest.approx(float(-log_q.sum()) / tokens, rel=1e-5)
    assert q_nll(gen, toy_score, test, 0.0, 0.0) == pytest.approx(float(-logp[[0, 4, 4, 8, 2]].sum()) / tokens)


def test_log_mean_exp_where_z_is_known() -> None:
    s = torch.randn(200_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    log_z, se = log_mean_exp(s)  # E[exp(s)] = exp(1/2) for s ~ N(0, 1)
    assert abs(log_z - 0.5) < 4 * se and 0 < se < 0.01
    log_z, se = log_mean_exp(torch.full((10,), 3.0))
    assert log_z == pytest.approx(3.0) and se == 0.0
    big, _ = log_mean_exp(torch.tensor([1000.0, 1000.0]))  # no overflow
    assert big == pytest.approx(1000.0)


def test_roc_auc_against_a_hand_computed_case() -> None:
    # pairs (real, fake): 0.9>0.4, 0.9>0.1, 0.4=0.4 (1/2), 0.4>0.1, 0.4=0.4 (1/2), 0.4>0.1: 5 of 6
    assert roc_auc([0.9, 0.4, 0.4], [0.4, 0.1]) == pytest.approx(5 / 6)
    assert roc_auc([1.0, 2.0], [0.0, -1.0]) == 1.0 and roc_auc([0.0], [1.0]) == 0.0
    assert roc_auc([1.0, 1.0], [1.0]) == 0.5
    with pytest.raises(ValueError):
        roc_auc([], [1.0])


def test_reverse_lm_prefers_samples_of_the_data_to_uniform_samples() -> None:
    g = torch.Generator().manual_seed(0)
    v, t = 14, 6

    def data(n: int) -> torch.Tensor:  # a few fixed patterns with noise: far from uniform
        base = torch.tensor([[4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 4, 5], [6, 6, 7, 7, 8, 8]])
        rows = base[torch.randint(3, (n,), generator=g)]
        noise = torch.rand(n, t, generator=g) < 0.1
        return torch.where(noise, torch.randint(4, v, (n, t), generator=g), rows)

    test, faithful = data(200), data(256)
    uniform = torch.randint(4, v, (256, t), generator=g)
    spec = ReverseLM(epochs=3)
    good = reverse_lm_nll(faithful, test, v, t, BANNED, spec)
    bad = reverse_lm_nll(uniform, test, v, t, BANNED, spec)
    assert good < bad - 0.3, (good, bad)
    assert reverse_lm_nll(faithful, test, v, t, BANNED, spec) == good  # seeded: the same score twice


# -- the commands ------------------------------------------------------------------------------


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.fixture
def run_copy(smoke_lm_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(smoke_lm_run, run)
    return run


RATIO = ["--steps", "60", "--eval-every", "20", "--heldout", "32", "--batch-size", "32", "--no-progress"]


def test_train_ratio_round_trips_through_the_run_dir(run_copy, capsys) -> None:
    from textgan import load

    records = [json.loads(x) for x in (run_copy / "metrics.jsonl").read_text().splitlines()]
    assert all(0 <= r["critic_auc"] <= 1 for r in records if r["phase"] == "adv")  # measured at every evaluation
    assert main(["train", "ratio", "--run", str(run_copy), *RATIO]) == 0
    record = json.loads((run_copy / "ratio.json").read_text())
    assert record["config"]["arch"] == "lstm" and 0 <= record["heldout_auc"] <= 1 and record["test_auc"] is not None
    assert [h["step"] for h in record["history"]][:3] == [20, 40, 60]
    capsys.readouterr()
    assert main(["generate", str(run_copy), "-n", "5", "--resample", "4", "--seed", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    run = load(run_copy)
    assert run.generate(5, resample=4, seed=2) == lines  # the Python API: the same sentences
    assert run.generate(5, resample=4, alpha=0.0, seed=2) == run.generate(5, seed=2)
    assert len(run.generate(3, resample=4, resample_with="critic")) == 3
    out = run_copy / "fr.jsonl"
    args = ["eval", "lm", "--run", str(run_copy), "--temperatures", "1.0", "--samples-per-point", "40"]
    resample = ["--resample", "4", "--alpha", "0.5,1", "--reverse-lm", "--lm", str(run_copy)]
    assert main([*args, *resample, "--out", str(out), "--json"]) == 0
    points = [json.loads(x) for x in out.read_text().splitlines()]
    assert [p["alpha"] for p in points] == [0.5, 1.0]
    keys = {"ess", "log_z", "log_z_se", "reverse_nll", "lm_nll", "critic_auc", "d_auc", "nll_test"}
    assert all(keys <= set(p) for p in points)
    png = run_copy / "f.png"
    assert main(["plot", "--frontier", str(out), "--out", str(png), "--x", "nll_oracle", "--y", "reverse_nll"]) == 0
    assert png.stat().st_size > 0


def test_an_ensemble_of_ds_scores_by_the_mean_logit(run_copy, capsys) -> None:
    from textgan import load
    from textgan.runs import load_scorer

    d2, warm = run_copy / "d2", run_copy / "warm"
    short = ["--steps", "20", "--eval-every", "20", "--heldout", "32", "--batch-size", "16", "--no-progress"]
    assert main(["train", "ratio", "--run", str(run_copy), *short]) == 0
    assert main(["train", "ratio", "--run", str(run_copy), "--run-dir", str(d2), "--seed", "1", *short]) == 0
    run = load(run_copy)
    ids = generate_ids(run.generator, 12, torch.Generator().manual_seed(0), 12, 1.0)
    one, two = (load_scorer(run_copy, run.generator, run.config, "ratio", d) for d in (None, d2))
    both = load_scorer(run_copy, run.generator, run.config, "ratio", f"{run_copy},{d2}")
    with torch.no_grad():
        assert not torch.allclose(one(ids), two(ids))  # two seeds, two Ds
        assert torch.allclose(both(ids), (one(ids) + two(ids)) / 2)
        same = load_scorer(run_copy, run.generator, run.config, "ratio", [run_copy, run_copy])
        assert torch.allclose(same(ids), one(ids))
    capsys.readouterr()
    assert main(["generate", str(run_copy), "-n", "4", "--resample", "4", "--ratio", f"{run_copy},{d2}"]) == 0
    assert run.generate(4, resample=4, ratio_dir=[run_copy, d2]) == capsys.readouterr().out.splitlines()
    out = run_copy / "ens.jsonl"
    argv = ["eval", "lm", "--run", str(run_copy), "--temperatures", "1.0", "--samples-per-point", "40"]
    assert main([*argv, "--resample", "4", "--ratio", f"{run_copy},{d2}", "--out", str(out)]) == 0
    assert 0 <= json.loads(out.read_text().splitlines()[0])["d_auc"] <= 1  # the ensemble's AUC
    assert main(["train", "ratio", "--run", str(run_copy), "--run-dir", str(warm), "--temperature", "1.5", *short]) == 0
    capsys.readouterr()
    assert main(["generate", str(run_copy), "--resample", "4", "--ratio", f"{run_copy},{warm}"]) == 2
    assert "different temperatures" in one_error_line(capsys)
    assert main(["generate", str(run_copy), "--resample", "4", "--ratio", f"{run_copy},{run_copy / 'nope'}"]) == 2
    assert "nope" in one_error_line(capsys)


def test_bad_resampling_input_is_one_line_and_writes_nothing(run_copy, tmp_path, capsys) -> None:
    before = sorted(p.name for p in run_copy.iterdir())
    cases = [
        (["generate", str(run_copy), "--resample", "0"], "--resample"),
        (["generate", str(run_copy), "--resample", "4", "--alpha", "-0.5"], "--alpha"),
        (["generate", str(run_copy), "--resample", "4", "--alpha", "inf"], "--alpha"),
        (["generate", str(run_copy), "--resample", "4"], "textgan train ratio --run"),  # no D yet
        (["eval", "lm", "--run", str(run_copy), "--temperatures", "1", "--resample", "2"], "textgan train ratio"),
        (["train", "ratio", "--run", str(run_copy), "--lr", "nan"], "--lr"),
        (["train", "ratio", "--run", str(run_copy), "--arch", "gru"], "gru"),
        (["train", "ratio", "--run", str(run_copy), "--augment", "1"], "--augment"),
        (["train", "ratio", "--run", str(run_copy), "--heldout", "100000"], "--heldout"),
        (["train", "ratio", "--run", str(run_copy), "--fresh-real", "--heldout", "100000"], "--heldout"),
        (["train", "ratio"], "--run"),
        (["eval", "lm", "--samples", "s.txt", "--references", "r.txt", "--resample", "4"], "--temperatures"),
    ]
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        assert message in one_error_line(capsys), argv
    assert sorted(p.name for p in run_copy.iterdir()) == before
    style = tmp_path / "style"
    style.mkdir()
    (style / "model.json").write_text('{"task": "style"}')
    assert main(["train", "ratio", "--run", str(style)]) == 2
    assert "a 'style' run" in one_error_line(capsys)
    assert sorted(p.name for p in style.iterdir()) == ["model.json"]


def test_resample_with_critic_needs_an_adversarial_phase(tmp_path, capsys) -> None:
    run = tmp_path / "mle"
    smoke = ["train", "lm", "--preset", "smoke", "--no-progress", "--adv-steps", "0", "--mle-epochs", "1"]
    assert main([*smoke, "--run-dir", str(run)]) == 0
    before = sorted(p.name for p in run.iterdir())
    capsys.readouterr()
    assert main(["generate", str(run), "--resample", "4", "--resample-with", "critic"]) == 2
    assert "no critic" in one_error_line(capsys)
    assert sorted(p.name for p in run.iterdir()) == before


def test_a_sweep_of_alpha_draws_the_proposals_once_with_the_same_results() -> None:
    gen = toy_generator()
    calls = []

    def counted(ids: torch.Tensor) -> torch.Tensor:
        calls.append(ids.shape[0])
        return toy_score(ids)

    cache: dict = {}
    for alpha in (0.5, 1.0, 2.0):
        cached = resample_ids(gen, counted, 40, 8, alpha, rng=torch.Generator().manual_seed(9), cache=cache)
        plain = resample_ids(gen, toy_score, 40, 8, alpha, rng=torch.Generator().manual_seed(9))
        assert torch.equal(cached.ids, plain.ids) and cached.log_z == plain.log_z and cached.ess == plain.ess
    assert sum(calls) == 40 * 8  # scored once for the three weights


def test_the_lstm_discriminator_scores_the_whole_sentence() -> None:
    from textgan.models.ratio import LSTMDiscriminator

    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, EOS_ID, PAD_ID], [4, 5, 6, 7]])
    last = LSTMDiscriminator(9, 4, 8, 0.0, "last").eval()
    mean = LSTMDiscriminator(9, 4, 8, 0.0, "mean").eval()
    mean.load_state_dict(last.state_dict())
    logits, alive = last.token_logits(ids)
    torch.testing.assert_close(last(ids), torch.stack([logits[0, 2], logits[1, 3]]))  # <eos>, or the last token
    torch.testing.assert_close(mean(ids), torch.stack([logits[0, :3].mean(), logits[1].mean()]))
    with pytest.raises(ValueError, match="--score"):
        LSTMDiscriminator(9, score="max")


def test_augment_ids_replaces_words_only_and_at_the_stated_rate() -> None:
    from textgan.data.vocab import SPECIALS
    from textgan.train.ratio import augment_ids

    ids = torch.full((400, 10), PAD_ID)
    ids[:, :6] = torch.randint(len(SPECIALS), 50, (400, 6), generator=torch.Generator().manual_seed(0))
    ids[:, 6] = EOS_ID
    rng = torch.Generator().manual_seed(1)
    assert torch.equal(augment_ids(ids, 0.0, 50, rng), ids)
    out = augment_ids(ids, 0.3, 50, rng)
    assert torch.equal(out[:, 6:], ids[:, 6:])  # <eos> and <pad> stay
    assert bool((out[:, :6] >= len(SPECIALS)).all()) and bool((out < 50).all())  # words become words
    changed = float((out[:, :6] != ids[:, :6]).float().mean())
    assert changed == pytest.approx(0.3 * (1 - 1 / (50 - len(SPECIALS))), abs=0.03)  # a draw may repeat the word


def test_a_generator_initialised_d_starts_at_p_theta_and_leaves_the_run_untouched(run_copy, capsys) -> None:
    from textgan import load
    from textgan.models.ratio import build_discriminator
    from textgan.runs import load_scorer

    run = load(run_copy)
    before = {k: v.clone() for k, v in run.generator.state_dict().items()}
    d = build_discriminator(
        "generator", run.generator.vocab_size, run.generator.max_len, None, 0, 0, 0.1, "last", run.generator
    )
    ids = generate_ids(run.generator, 8, torch.Generator().manual_seed(0), 8, 1.0)
    assert torch.equal(d(ids), torch.zeros(8))  # a zero head: logit 0, q = p_θ
    ragged = ids.clone()
    for row, end in enumerate([1, 3, 5, 7]):  # sentences of 2, 4, 6 and 8 tokens, then padding
        ragged[row, end], ragged[row, end + 1 :] = EOS_ID, PAD_ID
    with torch.no_grad():
        torch.nn.init.normal_(d.head.weight)
        logits, alive = d.eval().token_logits(ragged)  # packed: only alive prefixes computed
        bos = torch.full_like(ids[:, :1], BOS_ID)
        naive = d.head(d.body._features(torch.cat([bos, ragged], dim=1))[:, 1:])[..., 0]  # every prefix, padded
    assert alive.sum(1)[:4].tolist() == [2, 4, 6, 8]
    assert torch.allclose(logits[alive], naive[alive], atol=1e-5) and bool((logits[~alive] == 0).all())
    run.generator.requires_grad_(False)  # as train ratio freezes it
    d = build_discriminator(
        "generator", run.generator.vocab_size, run.generator.max_len, None, 0, 0, 0.1, "last", run.generator
    )
    assert all(p.requires_grad for p in d.parameters())  # D's copy trains
    assert not {id(p) for p in d.parameters()} & {id(p) for p in run.generator.parameters()}
    short = ["--steps", "40", "--eval-every", "20", "--heldout", "32", "--batch-size", "16", "--no-progress"]
    assert main(["train", "ratio", "--run", str(run_copy), "--arch", "generator", "--augment", "0.1", *short]) == 0
    record = json.loads((run_copy / "ratio.json").read_text())
    assert record["config"]["arch"] == "generator" and record["config"]["augment"] == 0.1
    fitted = load_scorer(run_copy, run.generator, run.config, "ratio")
    with torch.no_grad():
        assert not torch.equal(fitted(ids), torch.zeros(8))  # trained and loaded back
    after = load(run_copy).generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the run's generator is not D's
    capsys.readouterr()
    assert main(["generate", str(run_copy), "-n", "3", "--resample", "4"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
