"""Style transfer end to end on the fixture: classifier, training, transfer, evaluation, resume."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import torch

from tests.conftest import FIXTURES
from textgan.cli import main
from textgan.config import STYLE_PRESETS
from textgan.train import common as C
from textgan.train.lm import TrainingInterrupted
from textgan.train.style import StyleTrainer

STYLE = FIXTURES / "style"
SMOKE = ["train", "style", "--preset", "smoke", "--data", str(STYLE), "--no-progress"]
TIMING = {"eval_seconds"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("style")
    clf, run = root / "clf", root / "run"
    assert (
        main(["train", "classifier", "--preset", "smoke", "--data", str(STYLE), "--run-dir", str(clf), "--no-progress"])
        == 0
    )
    assert main([*SMOKE, "--run-dir", str(run), "--eval-classifier", str(clf)]) == 0
    return clf, run


def fixture_lm(tmp_path):
    """A smoke-preset LM run (``tmp_path/lm``) trained on the style fixture's sentences of both styles."""
    text = tmp_path / "text"
    text.mkdir()
    (text / "train.txt").write_text((STYLE / "train.0").read_text() + (STYLE / "train.1").read_text())
    (text / "test.txt").write_text((STYLE / "dev.0").read_text() + (STYLE / "dev.1").read_text())
    lm = tmp_path / "lm"
    assert (
        main(["train", "lm", "--preset", "smoke", "--data", str(text), "--run-dir", str(lm), "--adv-steps", "0"]) == 0
    )
    return lm


def test_run_dir_layout(trained) -> None:
    _, run = trained
    for name in (
        "config.json",
        "model.json",
        "vocab.txt",
        "metrics.jsonl",
        "style_model.safetensors",
        "style_classifier.safetensors",
        "checkpoints/last.pt",
    ):
        assert (run / name).is_file(), name
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["task"] == "style" and ckpt["state"]["adv_step"] == 4
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in records] == ["ae", "adv", "adv"]
    assert records[-1]["accuracy_source"] == "evaluator" and "ratio_mean" in records[-1]


def test_eval_style_json(trained, capsys, tmp_path) -> None:
    clf, run = trained
    capsys.readouterr()
    out = tmp_path / "t.tsv"
    assert (
        main(
            [
                "eval",
                "style",
                "--run",
                str(run),
                "--data",
                str(STYLE),
                "--classifier",
                str(clf),
                "--json",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "bleu_src", "bleu_ref", "bleu_ref_multi", "ppl", "gm"} <= set(result)
    assert result["ppl"] is None and 0 <= result["accuracy"] <= 100
    assert len(out.read_text().splitlines()) == 4


def test_eval_style_with_lm_perplexity(trained, capsys, tmp_path) -> None:
    clf, run = trained
    lm = tmp_path / "lm"
    data = tmp_path / "lmdata"
    data.mkdir()
    (data / "train.txt").write_text((STYLE / "train.0").read_text() + (STYLE / "train.1").read_text())
    (data / "test.txt").write_text((STYLE / "dev.0").read_text())
    assert (
        main(
            [
                "train",
                "lm",
                "--preset",
                "smoke",
                "--data",
                str(data),
                "--adv-steps",
                "0",
                "--run-dir",
                str(lm),
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "eval",
                "style",
                "--run",
                str(run),
                "--data",
                str(STYLE),
                "--classifier",
                str(clf),
                "--lm",
                str(lm),
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["ppl"] > 1
    # dev: no human rewrites, so no BLEU-ref; the test transfers are not overwritten
    before = (run / "transfers.tsv").read_bytes()
    flags = ["--beam", "2", "--content-rerank", "1", "--split", "dev", "--json"]
    assert main(["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), *flags]) == 0
    dev = json.loads(capsys.readouterr().out)
    assert dev["bleu_ref"] is None and dev["bleu_src"] >= 0
    assert (run / "transfers.tsv").read_bytes() == before
    n_dev = sum(len((STYLE / f"dev.{s}").read_text().splitlines()) for s in (0, 1))
    assert len((run / "transfers-dev.tsv").read_text().splitlines()) == n_dev


def test_eval_style_scores_every_rerank_combination_from_one_beam_search(trained, capsys, tmp_path, monkeypatch):
    from textgan.models.style import StyleTransferModel

    clf, run = trained
    base = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--beam", "3"]
    base += ["--no-repeat", "--json"]
    passes = []
    search = StyleTransferModel.beam_hypotheses
    monkeypatch.setattr(StyleTransferModel, "beam_hypotheses", lambda *a, **k: passes.append(1) or search(*a, **k))
    capsys.readouterr()
    grid = ["--style-rerank", "0,1", "--content-rerank", "0,2", "--content-order", "2,4"]
    assert main([*base, *grid, "--out", str(tmp_path / "t.tsv")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # the order is scored once without a content weight
    combos = [(0, 0, 2), (0, 2, 2), (0, 2, 4), (1, 0, 2), (1, 2, 2), (1, 2, 4)]
    assert [(r.pop("style_rerank"), r.pop("content_rerank"), r.pop("content_order")) for r in rows] == combos
    one_pass = len(passes)
    for (style, content, order), row in zip(combos, rows, strict=True):
        passes.clear()
        flags = ["--style-rerank", str(style), "--content-rerank", str(content), "--content-order", str(order)]
        assert main([*base, *flags, "--out", str(tmp_path / "one.tsv")]) == 0
        assert json.loads(capsys.readouterr().out) == row  # the same numbers as one call per combination
        assert len(passes) == one_pass
        grid_file = tmp_path / f"t-s{style}-c{content}-o{order}.tsv"
        assert grid_file.read_text() == (tmp_path / "one.tsv").read_text()
    assert main([*base, "--content-rerank", "1,x"]) == 2
    assert "--content-rerank: not a comma-separated list of float values" in capsys.readouterr().err
    assert main([*base, "--content-rerank", "1", "--content-order", "2,5"]) == 2
    assert capsys.readouterr().err.strip() == "error: --content-order: must be one of 1, 2, 3, 4"


def test_transfer_cli(trained, capsys, tmp_path, monkeypatch) -> None:
    _, run = trained
    capsys.readouterr()
    assert (
        main(["transfer", str(run), "The food was GREAT!", "", "zxqv blorf", "ça va très bien", "--to", "negative"])
        == 0
    )
    lines = capsys.readouterr().out.split("\n")
    assert len(lines) == 5 and lines[1] == ""  # one output per input (empty stays empty)
    inp = tmp_path / "in.txt"
    inp.write_text("the staff was rude .\n\n" + "very long " * 200 + "\n")
    out = tmp_path / "out.txt"
    assert main(["transfer", str(run), "--input", str(inp), "--output", str(out), "--beam", "3"]) == 0
    assert len(out.read_text().split("\n")) == 4
    rerank = ["--beam", "3", "--style-rerank", "2", "--no-repeat", "--to", "positive"]
    assert main(["transfer", str(run), "--input", str(inp), "--output", str(out), *rerank]) == 0
    assert len(out.read_text().split("\n")) == 4
    both = ["--beam", "3", "--style-rerank", "1", "--content-rerank", "2", "--precision", "bf16", "--batch-size", "1"]
    assert main(["transfer", str(run), "--input", str(inp), "--output", str(out), *both]) == 0
    assert len(out.read_text().split("\n")) == 4
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("nice place .\nbad place .\n"))
    assert main(["transfer", str(run), "--to", "positive"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_style_words_in_eval_style_transfer_and_the_saved_decoding(trained, capsys, tmp_path) -> None:
    """--style-words changes only the content overlap: with a huge threshold (no word carries
    that much style) it is the plain rerank; it is refused without a content weight or below 0."""
    from textgan.decoding import read_decoding, write_decoding

    clf, run = trained
    base = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--beam", "3"]
    base += ["--content-rerank", "2", "--json", "--out", str(tmp_path / "t.tsv")]
    capsys.readouterr()
    assert main(base) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*base, "--style-words", "1000"]) == 0
    assert json.loads(capsys.readouterr().out) == plain
    assert main([*base, "--style-words", "0.1"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(plain)
    sentence = "the food was great and the staff was friendly"
    assert main(["transfer", str(run), "--beam", "3", "--content-rerank", "2", "--style-words", "0.1", sentence]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    for flags, words in (
        (["--style-words", "1"], "give --content-rerank"),
        (["--content-rerank", "2", "--style-words", "-1"], ">= 0"),
        (["--content-slots"], "give --content-rerank"),
        (["--content-rerank", "2", "--content-slots"], "trained without --st-style-mask"),
    ):
        assert main(["transfer", str(run), "--beam", "3", *flags, sentence]) == 2
        assert words in capsys.readouterr().err
    decoding = {"beam": 3, "style_rerank": 0.0, "content_rerank": 2.0, "no_repeat": True, "content_order": 2}
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    write_decoding(copy, {**decoding, "style_words": 0.5})
    assert read_decoding(copy) == {**decoding, "style_words": 0.5}


def assert_transfer_refuses(run, refusals, sentence, capsys) -> None:
    """Each (flags, words) of ``refusals``: ``transfer`` exits 2 with one stderr line holding the words."""
    for flags, words in refusals:
        assert main(["transfer", str(run), *flags, sentence]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1


def run_with_decoding(run, copy, **extra):
    """A copy of ``run`` whose decoding.json is a 3-beam decoding plus ``extra``, checked to read
    back as written; returns the copy and the base decoding."""
    from textgan.decoding import read_decoding, write_decoding

    decoding = {"beam": 3, "style_rerank": 0.0, "content_rerank": 0.0, "no_repeat": True, "content_order": 2}
    shutil.copytree(run, copy)
    write_decoding(copy, {**decoding, **extra})
    assert read_decoding(copy) == {**decoding, **extra}
    return copy, decoding


def test_fluency_rerank_in_eval_style_transfer_and_the_saved_decoding(trained, capsys, tmp_path) -> None:
    """--fluency-rerank with an LM run on the fixture's text: one beam search ranked with and without
    the term; a large weight picks outputs that the LM finds more fluent. Refused without
    --fluency-lm, and a decoding.json keeps both."""
    from textgan.decoding import Fluency
    from textgan.runs import load_lm_run, load_style_run

    clf, run = trained
    lm = fixture_lm(tmp_path)
    out = tmp_path / "t.tsv"
    base = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--beam", "4"]
    base += ["--fluency-rerank", "0,1000", "--fluency-lm", str(lm), "--json", "--out", str(out)]
    capsys.readouterr()
    assert main(base) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("fluency_rerank", 0.0) for r in results] == [0.0, 1000.0]
    model, _, vocab, _ = load_style_run(run)
    fluency = Fluency(*load_lm_run(lm)[:3], vocab)

    def mean_fluency(path) -> float:
        outputs = [line.split("\t")[2].split() for line in path.read_text().splitlines()]
        return fluency(vocab.encode_batch(outputs, model.max_len)[0]).mean().item()

    plain, fluent = out.with_name("t-s0-c0-o2.tsv"), out.with_name("t-s0-c0-o2-f1000.tsv")
    assert mean_fluency(fluent) > mean_fluency(plain) + 0.01  # -3.74 against -3.82 nats per token here
    sentence = "the food was great and the staff was friendly"
    assert main(["transfer", str(run), "--beam", "3", "--fluency-rerank", "1", "--fluency-lm", str(lm), sentence]) == 0
    one = capsys.readouterr().out
    assert len(one.splitlines()) == 1
    two = f"{lm},{lm}"  # one LM per target style: the same LM twice ranks as the one LM does
    assert main(["transfer", str(run), "--beam", "3", "--fluency-rerank", "1", "--fluency-lm", two, sentence]) == 0
    assert capsys.readouterr().out == one
    refusals = (
        (["--beam", "3", "--fluency-rerank", "1"], "needs --fluency-lm"),
        (["--fluency-rerank", "1", "--fluency-lm", str(lm)], "needs a beam"),
        (["--beam", "3", "--fluency-rerank", "1", "--fluency-lm", str(tmp_path / "none")], "none"),
        (["--beam", "3", "--fluency-rerank", "1", "--fluency-lm", f"{lm},{lm},{lm}"], "two comma-separated"),
        (["--beam", "3", "--fluency-rerank", "1", "--fluency-lm", f"{lm},{tmp_path / 'none'}"], "none"),
    )
    assert_transfer_refuses(run, refusals, sentence, capsys)
    copy, decoding = run_with_decoding(run, tmp_path / "run", fluency_rerank=0.5, fluency_lm=str(lm))
    assert main(["transfer", str(copy), sentence]) == 0
    assert "--fluency-rerank 0.5 --fluency-lm" in capsys.readouterr().err
    (copy / "decoding.json").write_text(json.dumps({**decoding, "fluency_rerank": 0.5}))
    assert main(["transfer", str(copy), sentence]) == 2
    assert "fluency_lm" in capsys.readouterr().err


def test_insert_penalty_in_eval_style_transfer_and_the_saved_decoding(trained, capsys, tmp_path, monkeypatch) -> None:
    """--insert-penalty: one beam search ranked with and without it (the ranking itself:
    tests/models/test_style.py); the penalty can only turn insert-only outputs into others;
    transfer and a decoding.json take it."""
    from textgan import decoding as dec

    seen: list[float] = []
    choose = dec.Beams.choose
    monkeypatch.setattr(
        dec.Beams, "choose", lambda self, rerank=None: seen.append(rerank.insert) or choose(self, rerank)
    )

    clf, run = trained
    out = tmp_path / "t.tsv"
    base = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--beam", "4"]
    capsys.readouterr()
    assert main([*base, "--content-rerank", "8", "--insert-penalty", "0,1000", "--json", "--out", str(out)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("insert_penalty", 0.0) for r in results] == [0.0, 1000.0]
    assert results[1]["insert_only"] <= results[0]["insert_only"] and seen == [0.0, 1000.0]
    assert out.with_name("t-s0-c8-o2-i1000.tsv").is_file() and out.with_name("t-s0-c8-o2.tsv").is_file()
    sentence = "the food was great and the staff was friendly"
    assert main(["transfer", str(run), "--beam", "3", "--insert-penalty", "1", sentence]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    refusals = ((["--insert-penalty", "1"], "needs a beam"), (["--beam", "3", "--insert-penalty", "-1"], ">= 0"))
    assert_transfer_refuses(run, refusals, sentence, capsys)
    copy, _ = run_with_decoding(run, tmp_path / "run", insert_penalty=0.5)
    assert main(["transfer", str(copy), sentence]) == 0
    assert "--insert-penalty 0.5" in capsys.readouterr().err


def test_transfer_and_train_bad_input(trained, capsys, tmp_path) -> None:
    clf, run = trained
    capsys.readouterr()
    assert main(["transfer", str(clf), "x"]) == 2
    assert "not a style-transfer run" in capsys.readouterr().err
    assert main(["transfer", str(tmp_path), "x"]) == 2
    assert main(["transfer", str(run), "--input", str(tmp_path / "none.txt")]) == 2
    assert main(["transfer", str(run), "x", "--to", "happy"]) == 2
    capsys.readouterr()
    assert main(["transfer", str(run), "x", "--style-rerank", "1"]) == 2  # nothing to rank without a beam
    assert "--beam 2 or more" in capsys.readouterr().err
    assert main(["transfer", str(run), "x", "--content-rerank", "1"]) == 2
    assert "--content-rerank: needs a beam" in capsys.readouterr().err
    assert main(["transfer", str(run), "x", "--beam", "2", "--content-rerank", "-1"]) == 2
    assert main(["transfer", str(run), "x", "--precision", "fp16"]) == 2
    assert main(["transfer", str(run), "x", "--batch-size", "0"]) == 2
    assert main([*SMOKE, "--run-dir", str(tmp_path / "r"), "--clip-eps", "0"]) == 2
    assert main(["train", "style", "--preset", "nope", "--data", str(STYLE)]) == 2
    assert main(["train", "style", "--data", str(tmp_path / "none"), "--run-dir", str(tmp_path / "r2")]) == 2
    assert not (tmp_path / "r2").exists()


@pytest.mark.parametrize("flags", [["--loss", "wgan-gp"], ["--ratio", "discriminator"], ["--cycle-weight", "1"]])
def test_variants_run(tmp_path, flags) -> None:
    assert main([*SMOKE, "--run-dir", str(tmp_path / "r"), *flags]) == 0


def smoke_config(run_dir, **train):
    """The smoke preset on the style fixture, writing ``run_dir``, with these ``StyleTrainConfig`` fields."""
    cfg = STYLE_PRESETS["smoke"]
    return dataclasses.replace(
        cfg,
        data=dataclasses.replace(cfg.data, data=str(STYLE)),
        run_dir=str(run_dir),
        progress=False,
        train=dataclasses.replace(cfg.train, **train),
    )


def records(run):
    return [
        {k: v for k, v in json.loads(x).items() if k not in TIMING}
        for x in (run / "metrics.jsonl").read_text().splitlines()
    ]


@pytest.mark.parametrize("stop_at", [3, 8])  # autoencoder phase, adversarial phase
def test_interrupt_and_resume_equals_continuous_run(tmp_path, monkeypatch, stop_at) -> None:
    cfg = dataclasses.replace(
        STYLE_PRESETS["smoke"], data=dataclasses.replace(STYLE_PRESETS["smoke"].data, data=str(STYLE)), device="cpu"
    )
    run, continuous, _ = stop_and_resume(cfg, tmp_path, monkeypatch, lambda t: t.step + 1 >= stop_at)
    assert records(run) == records(continuous)


def stop_and_resume(cfg, tmp_path, monkeypatch, when):
    """A continuous run of ``cfg`` and one stopped by a signal after the first optimiser step at
    which ``when(trainer)`` holds, then resumed: (interrupted run dir, continuous run dir, the
    stopped trainer)."""
    continuous = tmp_path / "continuous"
    StyleTrainer(dataclasses.replace(cfg, run_dir=str(continuous))).run()
    run = tmp_path / "interrupted"
    trainer = StyleTrainer(dataclasses.replace(cfg, run_dir=str(run)))
    original = C.optimizer_step

    def stopping(*args, **kwargs):
        out = original(*args, **kwargs)
        if when(trainer):
            trainer.stop_requested = True
        return out

    monkeypatch.setattr(C, "optimizer_step", stopping)
    with pytest.raises(TrainingInterrupted):
        trainer.run()
    monkeypatch.undo()
    StyleTrainer(dataclasses.replace(cfg, run_dir=str(run)), resume=True).run()
    return run, continuous, trainer


def test_init_from_starts_from_the_trained_model_without_an_ae_phase(trained, tmp_path) -> None:
    from safetensors.torch import load_file

    _, run = trained
    new = tmp_path / "from"
    cfg = dataclasses.replace(
        STYLE_PRESETS["smoke"],
        data=dataclasses.replace(STYLE_PRESETS["smoke"].data, data=str(STYLE)),
        init_from=str(run),
        run_dir=str(new),
        progress=False,
    )
    trainer = StyleTrainer(cfg)
    want = load_file(str(run / "style_model.safetensors"))
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(value, want[name], rtol=0, atol=0)
    assert trainer.cfg.train.ae_steps == 0
    assert (new / "vocab.txt").read_text() == (run / "vocab.txt").read_text()
    trainer.run()
    records = [json.loads(x) for x in (new / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in records] == ["adv", "adv"]


def test_init_from_a_non_style_run_is_one_clear_error(tmp_path, capsys) -> None:
    assert main([*SMOKE, "--run-dir", str(tmp_path / "x"), "--init-from", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "run directory" in err[0]


def test_init_from_weights_that_do_not_fit_is_one_clear_error(trained, tmp_path, capsys) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    _, run = trained
    old = tmp_path / "old"
    shutil.copytree(run, old)
    state = load_file(str(old / "style_model.safetensors"))
    state["out.weight"] = state.pop("out_bias")[:, None].repeat(1, 3)  # an older layout
    save_file(state, str(old / "style_model.safetensors"))
    capsys.readouterr()
    assert main([*SMOKE, "--run-dir", str(tmp_path / "x"), "--init-from", str(old)]) == 2
    err = [x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("INFO:")]
    assert len(err) == 1 and err[0].startswith("error: --init-from") and "do not fit" in err[0]
    assert "missing out_bias" in err[0] and "unexpected out.weight" in err[0]
    assert not (tmp_path / "x").exists()


def test_critic_warmup_needs_an_adversarial_term(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run), "--critic-warmup", "5", "--adv-weight", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --critic-warmup") and "Traceback" not in err[0]
    assert not run.exists()


def hard_critic_config(run_dir, **adv):
    """The smoke style run with the informative-critic recipe: hard critic input and a warm-up."""
    cfg = dataclasses.replace(smoke_config(run_dir), device="cpu")
    return dataclasses.replace(cfg, adv=dataclasses.replace(cfg.adv, critic_input="hard", critic_lr=1e-3, **adv))


def test_hard_critic_scores_sampled_tokens_warms_up_and_is_measured(tmp_path) -> None:
    trainer = StyleTrainer(hard_critic_config(tmp_path / "r", critic_warmup=6))
    src, styles = trainer._batch(0)
    fake = trainer._critic_fakes(src, 1 - styles, beta=1.0)
    assert not fake.is_floating_point() and fake.shape == src.shape  # token ids, as the real side
    seen = []  # what the critics score in the generator updates: one-hot rows (straight-through)
    for critic in trainer.critics:
        critic.register_forward_pre_hook(lambda m, args, kw: seen.append(kw.get("soft")), with_kwargs=True)
    trainer.run()
    adv = trainer.cfg.adv
    assert trainer.critic_updates == 6 + adv.adv_steps * adv.n_critic and trainer.critic_warmed
    rows = [x for x in seen if x is not None and x.requires_grad]
    one_hot = [
        torch.allclose(x.detach().sum(-1), torch.ones_like(x[..., 0])) and (x.detach() > 0.5).sum() == x[..., 0].numel()
        for x in rows
    ]
    assert rows and all(one_hot)
    recs = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert "critic_auc" not in recs[0] and recs[0]["phase"] == "ae"
    assert all(0.0 <= r["critic_auc"] <= 1.0 for r in recs[1:]) and len(recs) == 3
    assert 0.0 <= trainer.warmup_auc() <= 1.0


def test_style_critic_warmup_stops_at_the_auc_target(tmp_path, monkeypatch) -> None:
    from textgan.train import loop

    monkeypatch.setattr(loop, "WARMUP_AUC_EVERY", 2)
    trainer = StyleTrainer(hard_critic_config(tmp_path / "r", critic_warmup=40, critic_warmup_auc=0.01, adv_steps=1))
    trainer.pretrain()
    trainer.adversarial()
    assert trainer.critic_updates == 2 + trainer.cfg.adv.n_critic  # any AUC reaches 0.01: the first check ends it


def test_style_warmup_interrupted_and_resumed_equals_continuous_run(tmp_path, monkeypatch) -> None:
    from safetensors.torch import load_file

    cfg = hard_critic_config(tmp_path / "continuous", critic_warmup=6)
    # a signal during the warm-up's second chunk of n_critic updates
    run, continuous, stopped = stop_and_resume(cfg, tmp_path, monkeypatch, lambda t: t.critic_updates == 3)
    assert stopped.critic_updates == 4 and stopped.adv_step == 0 and not stopped.critic_warmed
    assert records(run) == records(continuous)
    a, b = load_file(str(run / "style_model.safetensors")), load_file(str(continuous / "style_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_transfer_options_before_or_between_sentences(trained, capsys) -> None:
    _, run = trained
    capsys.readouterr()
    assert main(["transfer", str(run), "--to", "positive", "the food was cold .", "the staff was rude ."]) == 0
    before = capsys.readouterr().out.splitlines()
    assert main(["transfer", str(run), "the food was cold .", "--to", "positive", "the staff was rude ."]) == 0
    between = capsys.readouterr().out.splitlines()
    assert main(["transfer", str(run), "the food was cold .", "the staff was rude .", "--to", "positive"]) == 0
    assert len(before) == 2 and before == between == capsys.readouterr().out.splitlines()


def test_style_names_round_trip_through_the_run_dir(tmp_path, capsys) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(STYLE, data)
    (data / "styles.txt").write_text("rude\npolite\n")
    run = tmp_path / "run"
    assert main([*SMOKE[:4], "--data", str(data), "--no-progress", "--run-dir", str(run)]) == 0
    assert json.loads((run / "model.json").read_text())["styles"] == ["rude", "polite"]
    from textgan import runs

    loaded = runs.load(run)
    assert loaded.style_names == ("rude", "polite")
    capsys.readouterr()
    assert main(["transfer", str(run), "--to", "polite", "the staff was rude ."]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["transfer", str(run), "--to", "positive", "the staff was rude ."]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --to positive: this run's styles are 'rude' and 'polite' (or 'flip')"]


def test_styles_txt_must_name_two_styles(tmp_path, capsys) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(STYLE, data)
    for bad in ("only-one\n", "same\nsame\n", "flip\nother\n", "two words\nx\n"):
        (data / "styles.txt").write_text(bad)
        assert main([*SMOKE[:4], "--data", str(data), "--no-progress", "--run-dir", str(tmp_path / "r")]) == 2
        assert "styles.txt" in one_line(capsys)


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_transfer_keeps_every_word_of_a_long_sentence_and_detokenizes(trained, capsys) -> None:
    _, run = trained
    from textgan import runs

    loaded = runs.load(run)
    vocab = loaded.vocab.itos[4:]
    words = [vocab[i % len(vocab)] for i in range(3 * loaded.model.max_len + 2)]
    seen = []  # every piece the encoder reads
    encode = loaded.model.encode
    loaded.model.encode = lambda ids, **kw: seen.extend(ids.tolist()) or encode(ids, **kw)
    out = loaded.transfer([" ".join(words), "short one"], to="negative", raw_output=True)
    pieces = [loaded.vocab.decode(row) for row in seen]
    assert len(out) == 2 and [w for p in pieces[:-1] for w in p] == words  # nothing silently cut
    assert max(len(p) for p in pieces) <= loaded.model.max_len
    del loaded.model.encode
    text = loaded.transfer(["the food was great .", "", "i loved it ."], to="negative")
    assert text[1] == "" and all(t[:1].isupper() for t in (text[0], text[2]))
    assert all(" ." not in t for t in text)  # detokenised
    capsys.readouterr()
    assert main(["transfer", str(run), "--raw-output", "--to", "negative", "I LOVED it!"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == out.lower()


def test_word_drop_denoising_runs(tmp_path) -> None:
    assert main([*SMOKE, "--run-dir", str(tmp_path / "r"), "--word-drop", "0.3"]) == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["train"]["word_drop"] == 0.3 and cfg["data"]["normalize"] == "nltk"


def test_style_mask_learns_each_styles_words_and_transfers_hide_the_sources(trained, tmp_path, capsys) -> None:
    from safetensors.torch import load_file

    from textgan.data.style import load_style_corpus
    from textgan.data.vocab import Vocab
    from textgan.decoding import decoding_flags, read_decoding, write_decoding
    from textgan.models.style import style_lexicon

    run = tmp_path / "r"
    assert main([*SMOKE, "--run-dir", str(run), "--st-style-mask", "2", "--cycle-weight", "1"]) == 0
    assert "--st-style-mask 2: style words: negative" in capsys.readouterr().err
    weights = load_file(str(run / "style_model.safetensors"))
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["st_style_mask"] == 2.0
    vocab = Vocab.load(run / "vocab.txt")
    train = load_style_corpus(str(STYLE), max_len=cfg["data"]["max_len"], vocab=vocab).splits["train"]
    want = style_lexicon(train.ids, train.labels, len(vocab), 2.0)
    assert torch.equal(weights["lexicon"], want) and want[0].any() and want[1].any()
    assert weights["mask_embed"].abs().sum() > 0  # it learned
    negative = [vocab.itos[i] for i in want[0].nonzero()[:, 0].tolist()]
    # two negative sentences that differ only in a negative word transfer alike: the encoder never sees it
    first, second = (f"the food was {w} ." for w in negative[:2])
    assert main(["transfer", str(run), "--to", "positive", first, second]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0] == out[1]
    assert main(["transfer", str(run), "--to", "positive", "--beam", "3", first, second]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0] == out[1]
    # --content-slots: the hidden words are the slots; the rank changes only through the overlap
    slots = ["--to", "positive", "--beam", "3", "--content-rerank", "4", "--content-order", "4", "--content-slots"]
    assert main(["transfer", str(run), *slots, first, second]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0] == out[1]
    base = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(trained[0]), "--beam", "3"]
    base += ["--content-rerank", "0,4", "--content-order", "4", "--json", "--out", str(tmp_path / "t.tsv")]
    capsys.readouterr()
    assert main([*base, "--content-slots"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("content_slots") for r in results] == [None, True]  # no content weight: nothing to change
    decoding = {"beam": 3, "style_rerank": 0.0, "content_rerank": 4.0, "no_repeat": True, "content_order": 4}
    write_decoding(run, {**decoding, "content_slots": True})
    assert read_decoding(run) == {**decoding, "content_slots": True}
    assert decoding_flags(read_decoding(run)).endswith("--content-order 4 --content-slots --no-repeat")


def test_mask_hint_from_an_lm_run_is_stored_resumed_and_bad_runs_refused(trained, tmp_path, capsys) -> None:
    """--st-mask-hint LM: the table that ``mask_hint_table`` builds from the LM's output embeddings is
    in the saved model, which trains, transfers and starts an adversarial run; bad LM runs and the
    flag without --st-style-mask are one error line, and nothing is written."""
    from safetensors.torch import load_file

    from textgan.data.vocab import Vocab
    from textgan.models.style import mask_hint_table
    from textgan.runs import load_lm_run

    lm = fixture_lm(tmp_path)
    run = tmp_path / "r"
    capsys.readouterr()
    hint = ["--st-style-mask", "2", "--st-mask-hint", str(lm), "--st-mask-hint-clusters", "2"]
    assert main([*SMOKE, "--run-dir", str(run), *hint]) == 0
    assert "style words have a hint (the rest read the mask alone), in 2 clusters" in capsys.readouterr().err
    weights = load_file(str(run / "style_model.safetensors"))
    gen, lm_vocab, _, _ = load_lm_run(lm)
    vocab = Vocab.load(run / "vocab.txt")
    index = torch.tensor([lm_vocab.stoi.get(w, -1) for w in vocab.itos])
    vectors = torch.zeros(len(vocab), gen.out.weight.shape[1])
    vectors[index >= 0] = gen.out.weight.detach()[index[index >= 0]]
    want = mask_hint_table(vectors, index >= 0, weights["lexicon"], weights["hint"].shape[1], clusters=2)
    torch.testing.assert_close(weights["hint"], want)
    assert want.any() and weights["hint_proj.weight"].abs().sum() > 0  # it learned to read the hint
    assert want[weights["lexicon"].any(dim=0)].unique(dim=0).shape[0] == 2
    assert json.loads((run / "config.json").read_text())["model"]["st_mask_hint"] == str(lm)
    assert main(["transfer", str(run), "--to", "positive", "the food was awful ."]) == 0
    adv = tmp_path / "adv"
    shutil.rmtree(lm)  # an adversarial run from the model needs only the stored table
    assert main([*SMOKE, "--run-dir", str(adv), "--init-from", str(run)]) == 0
    torch.testing.assert_close(load_file(str(adv / "style_model.safetensors"))["hint"], want)
    capsys.readouterr()
    for flags, words in (
        (["--st-style-mask", "2", "--st-mask-hint", str(lm)], "run directory"),
        (["--st-style-mask", "2", "--st-mask-hint", str(run)], "language-model"),
        (["--st-mask-hint", str(run)], "needs --st-style-mask"),
        (["--st-style-mask", "2", "--st-mask-hint", str(run), "--st-mask-hint-clusters", "-1"], "must be >= 0"),
    ):
        assert main([*SMOKE, "--run-dir", str(tmp_path / "bad"), *flags]) == 2
        err = [x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("INFO:")]
        assert len(err) == 1 and err[0].startswith("error: --st-mask-hint") and words in err[0], err
        assert not (tmp_path / "bad").exists()


def test_anchor_kl_is_the_kl_to_the_starting_decoder(tmp_path) -> None:
    import torch.nn.functional as F

    from textgan.models.generators import alive_mask

    trainer = StyleTrainer(smoke_config(tmp_path / "r", anchor_weight=1.0))
    trainer.pretrain()
    trainer.anchor.load_state_dict(trainer.model.state_dict())
    src, styles = trainer._batch(0)
    tgt = 1 - styles
    enc = trainer.model.encode(src)
    ids, noise = trainer.model.sample_ids(enc, tgt, keep_noise=True)
    cur = trainer.model.relax(enc, tgt, ids, noise, 2.0)
    assert abs(trainer._anchor_kl(src, tgt, cur).item()) < 1e-6  # same weights: no divergence
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    enc = trainer.model.encode(src)
    cur = trainer.model.relax(enc, tgt, ids, noise, 2.0)
    kl = trainer._anchor_kl(src, tgt, cur)
    alive = alive_mask(ids)
    p = F.log_softmax(cur.logits[alive], -1)
    q = F.log_softmax(trainer.anchor._alive_logits(trainer.anchor.encode(src), tgt, ids, alive), -1)
    expected = (p.exp() * (p - q)).sum(-1).mean()
    torch.testing.assert_close(kl, expected)
    kl.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.model.parameters())
    assert all(p.grad is None for p in trainer.anchor.parameters())
    trainer.adversarial()  # the phase resets the anchor to the decoder it starts from, and logs the term
    records = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert "anchor_kl" in records[-1]


def test_transfer_uses_the_runs_tuned_decoding(trained, capsys, tmp_path) -> None:
    import shutil

    import textgan
    from textgan.decoding import write_decoding

    _, run = trained
    tuned = tmp_path / "tuned"
    shutil.copytree(run, tuned)
    decoding = {"beam": 3, "style_rerank": 1.0, "content_rerank": 2.0, "no_repeat": True, "content_order": 2}
    write_decoding(tuned, decoding, chosen_by="a test")
    assert textgan.load(tuned).decoding == decoding
    sentences = ["the staff was rude .", "great food !"]
    capsys.readouterr()
    flags = ["--beam", "3", "--style-rerank", "1", "--content-rerank", "2", "--no-repeat"]
    assert main(["transfer", str(run), *sentences, *flags]) == 0
    explicit = capsys.readouterr().out
    assert main(["transfer", str(run), *sentences]) == 0
    greedy = capsys.readouterr().out
    assert main(["transfer", str(tuned), *sentences]) == 0
    out = capsys.readouterr()
    assert out.out == explicit
    assert "decoding: the run's tuned --beam 3 --style-rerank 1 --content-rerank 2 --no-repeat" in out.err
    assert main(["transfer", str(tuned), *sentences, "--beam", "1"]) == 0  # any decoding flag: the flags decide
    out = capsys.readouterr()
    assert out.out == greedy and "decoding:" not in out.err
    order4 = {**decoding, "content_order": 4}
    write_decoding(tuned, order4)
    assert textgan.load(tuned).decoding == order4
    assert main(["transfer", str(run), *sentences, *flags, "--content-order", "4"]) == 0
    explicit4 = capsys.readouterr().out
    assert main(["transfer", str(tuned), *sentences]) == 0
    out = capsys.readouterr()
    assert out.out == explicit4 and "--content-rerank 2 --content-order 4 --no-repeat" in out.err
    assert main(["transfer", str(run), "x", "--beam", "3", "--content-rerank", "1", "--content-order", "5"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["error: --content-order: must be one of 1, 2, 3, 4"]
    for bad in ('{"beam": 0}', "not json", '["beam", 4]', '{"beam": 1, "style_rerank": 2}', '{"content_order": 0}'):
        (tuned / "decoding.json").write_text(bad)
        assert main(["transfer", str(tuned), "x"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "decoding.json" in err[0] and "Traceback" not in err[0]


def test_eval_style_outputs_scores_any_system_as_a_run_is_scored(trained, capsys, tmp_path) -> None:
    """--outputs with the run's own transfers equals the run's evaluation; copy gives BLEU-src 100."""
    clf, run = trained
    common = ["eval", "style", "--data", str(STYLE), "--classifier", str(clf), "--json"]
    capsys.readouterr()
    tsv = tmp_path / "t.tsv"
    assert main([*common, "--run", str(run), "--out", str(tsv)]) == 0
    own = json.loads(capsys.readouterr().out)
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    n0 = sum(1 for r in rows if r[1] == "1")  # style-0 sources come first, transferred to style 1
    systems = tmp_path / "system"
    systems.mkdir()
    (systems / "neg2pos.txt").write_text("".join(r[2] + "\n" for r in rows[:n0]))
    (systems / "pos2neg.txt").write_text("".join(r[2] + "\n" for r in rows[n0:]))
    assert main([*common, "--outputs", str(systems)]) == 0
    assert json.loads(capsys.readouterr().out) == own
    files = f"{systems / 'neg2pos.txt'},{systems / 'pos2neg.txt'}"
    assert main([*common, "--outputs", files]) == 0
    assert json.loads(capsys.readouterr().out) == own
    assert main([*common, "--outputs", "copy"]) == 0
    copy = json.loads(capsys.readouterr().out)
    assert copy["bleu_src"] == pytest.approx(100.0) and copy["insert_only"] == 0.0
    assert 0 <= own["insert_only"] <= 100


def test_eval_style_outputs_bad_input_is_one_line(trained, capsys, tmp_path) -> None:
    clf, _ = trained
    common = ["eval", "style", "--data", str(STYLE), "--classifier", str(clf)]
    n0 = len((STYLE / "test.0").read_text().splitlines())
    n1 = len((STYLE / "test.1").read_text().splitlines())
    short, good, binary = tmp_path / "short.txt", tmp_path / "good.txt", tmp_path / "bad.txt"
    short.write_text("a\n" * (n0 - 1))
    good.write_text("a\n" * n1)
    binary.write_bytes(b"ok\n\xff\xfe broken\n" + b"x\n" * (n1 - 2))
    cases = [
        ([f"{short},{good}"], "test.0"),
        ([f"{good},{binary}"] if n0 == n1 else [f"{tmp_path / 'n0.txt'},{binary}"], "UTF-8"),
        ([f"{tmp_path / 'missing.txt'},{good}"], "file not found"),
        ([str(tmp_path)], "neg2pos.txt"),
        ([str(tmp_path / "nope")], "not found"),
    ]
    (tmp_path / "n0.txt").write_text("a\n" * n0)
    for extra, message in cases:
        capsys.readouterr()
        assert main([*common, "--outputs", *extra]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], (extra, err)
    capsys.readouterr()
    assert main([*common, "--outputs", "copy", "--run", "r"]) == 2
    assert "exactly one of --run" in capsys.readouterr().err


def test_insert_only_on_hand_made_cases() -> None:
    from textgan.metrics.style import insert_only

    assert insert_only("it was not a great experience".split(), "it was a great experience".split())
    assert not insert_only("it was a bad experience".split(), "it was a great experience".split())  # substitution
    assert not insert_only("it was a great experience".split(), "it was a great experience".split())  # copy
    assert not insert_only("experience great a was it !".split(), "it was a great experience".split())  # order


def test_the_library_evaluation_is_what_the_command_prints(trained, capsys) -> None:
    import textgan

    clf, run = trained
    capsys.readouterr()
    args = ["eval", "style", "--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--json"]
    assert main([*args, "--beam", "2", "--content-rerank", "0,1"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    evaluations = textgan.evaluate_style(run, STYLE, clf, beam=2, content_rerank=[0, 1])
    assert [e.decoding["content_rerank"] for e in evaluations] == [0, 1]
    for ev, line in zip(evaluations, printed, strict=True):
        assert {k: v for k, v in line.items() if k in ev.result} == ev.result
        assert len(ev.outputs) == len(ev.sources) == len(ev.targets) > 0
    copy = textgan.evaluate_style_outputs("copy", STYLE, clf)
    assert copy.outputs == copy.sources and copy.result["bleu_src"] == pytest.approx(100.0)


def test_adv_weight_zero_trains_no_critic_and_still_trains_the_decoder(tmp_path) -> None:
    trainer = StyleTrainer(dataclasses.replace(smoke_config(tmp_path / "r", adv_weight=0.0), device="cpu"))
    trainer.pretrain()
    critics = {k: v.clone() for k, v in trainer.critics.state_dict().items()}
    decoder = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.adversarial()
    assert trainer.critic_updates == 0
    for name, value in trainer.critics.state_dict().items():
        torch.testing.assert_close(value, critics[name], rtol=0, atol=0)
    assert any(not torch.equal(v, decoder[k]) for k, v in trainer.model.state_dict().items())
    adv = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    adv = [r for r in adv if r["phase"] == "adv"]
    assert adv and all("critic_loss" not in r and r["adv_loss"] == 0 for r in adv)
