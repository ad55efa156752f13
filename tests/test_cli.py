"""End-to-end runs of the CLI into tmp_path (tiny sizes, CPU)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests.conftest import shared
from textgan.cli import main
from textgan.config import PRESETS, LMConfig, load_json

SMOKE = ["train", "lm", "--preset", "smoke", "--no-progress"]


def run_dir_layout_ok(run) -> None:
    for name in (
        "config.json",
        "model.json",
        "vocab.txt",
        "metrics.jsonl",
        "generator.safetensors",
        "checkpoints/last.pt",
    ):
        assert (run / name).is_file(), name
    assert any((run / "samples").iterdir())
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["format_version"] == 1 and ckpt["task"] == "lm" and "generator" in ckpt["models"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records and all("step" in r and "nll_gen" in r for r in records)


def test_smoke_oracle_run_and_generate(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run), "--json"]) == 0
    run_dir_layout_ok(run)
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"nll_gen", "nll_oracle", "bleu2", "self_bleu5", "critic_auc"} <= set(final)
    cfg = load_json(LMConfig, run / "config.json")
    assert cfg.train.mle_epochs == PRESETS["smoke"].train.mle_epochs
    assert main(["generate", str(run), "-n", "50", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 50
    assert main(["generate", str(run), "-n", "50", "--seed", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == lines  # seeded


@pytest.mark.parametrize("generator", ["lstm", "gpt2"])
def test_smoke_other_generators_on_a_corpus_dir(tmp_path, tiny_corpus, capsys, generator) -> None:
    run = tmp_path / "run"
    args = [*SMOKE, "--data", str(tiny_corpus), "--run-dir", str(run), "--generator", generator, "--tokenizer", "nltk"]
    assert main(args) == 0
    run_dir_layout_ok(run)
    out = tmp_path / "gen.txt"
    assert main(["generate", str(run), "-n", "7", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 7


def test_spm_tokenizer_run(tmp_path, tiny_corpus) -> None:
    run = tmp_path / "run"
    args = [*SMOKE, "--data", str(tiny_corpus), "--run-dir", str(run), "--tokenizer", "spm", "--spm-vocab-size", "60"]
    assert main(args) == 0
    assert (run / "spm.model").is_file()
    assert main(["generate", str(run), "-n", "3"]) == 0


def test_smoke_on_real_coco(tmp_path, capsys) -> None:
    coco = shared("coco")
    run = tmp_path / "run"
    assert main([*SMOKE, "--data", str(coco), "--run-dir", str(run)]) == 0
    run_dir_layout_ok(run)
    assert main(["generate", str(run), "-n", "50"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()[-50:]) == 50


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "./missing-dir"], "directory not found"),
        (["--mle-lr", "-1"], "--mle-lr"),
        (["--batch-size", "0"], "--batch-size"),
        (["--preset", "nope"], "unknown preset"),
        (["--generator", "rnn"], "rnn"),
        (["--bogus-flag", "1"], "bogus"),
        (["--mle-epochs", "x"], "--mle-epochs: invalid literal for int()"),  # tyro's reason, not only its help
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run), *args]) == 2
    assert message in one_error_line(capsys)
    assert not run.exists()


def test_non_empty_run_dir_is_refused_and_untouched(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "precious.txt").write_text("keep me")
    assert main([*SMOKE, "--run-dir", str(run)]) == 2
    assert "not empty" in one_error_line(capsys)
    assert [p.name for p in run.iterdir()] == ["precious.txt"]


def test_generate_without_a_trained_model(tmp_path, capsys) -> None:
    assert main(["generate", str(tmp_path), "-n", "3"]) == 2
    assert "not a textgan run directory" in one_error_line(capsys)
    assert main(["generate", str(tmp_path / "nope")]) == 2
    assert "not found" in one_error_line(capsys)


def test_resume_continues_to_more_epochs(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--run-dir", str(run), "--mle-epochs", "1", "--adv-steps", "0"]) == 0
    assert main([*SMOKE, "--run-dir", str(run), "--resume", "--mle-epochs", "2"]) == 0
    epochs = [json.loads(x)["epoch"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]


def test_eval_lm_json_and_table(tmp_path, tiny_corpus, capsys) -> None:
    refs = tiny_corpus / "test.txt"
    samples = tmp_path / "samples.txt"
    samples.write_text("a man riding a horse down the road .\na cat on a mat .\n")
    assert main(["eval", "lm", "--samples", str(samples), "--references", str(refs), "--self-bleu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {f"bleu{n}" for n in (2, 3, 4, 5)} | {f"self_bleu{n}" for n in (2, 3, 4, 5)}
    assert 0.5 < out["bleu2"] <= 1.0
    assert main(["eval", "lm", "--samples", str(samples), "--references", str(refs), "--ns", "2"]) == 0
    assert "bleu2" in capsys.readouterr().out
    assert main(["eval", "lm", "--samples", str(tmp_path / "nope.txt"), "--references", str(refs)]) == 2
    assert "not found" in one_error_line(capsys)
    assert main(["eval", "lm", "--samples", str(samples), "--references", str(refs), "--ns", "x"]) == 2
    one_error_line(capsys)


def test_eval_lm_nll_gen_with_run(tmp_path, tiny_corpus, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--data", str(tiny_corpus), "--run-dir", str(run)]) == 0
    capsys.readouterr()
    refs = tiny_corpus / "test.txt"
    assert main(["eval", "lm", "--samples", str(refs), "--references", str(refs), "--run", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bleu4"] == 1.0 and out["nll_gen"] > 0


def test_python_m_entry_point() -> None:
    res = subprocess.run([sys.executable, "-m", "textgan", "--version"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and res.stdout.startswith("textgan ")


def test_help_into_a_closed_pipe_is_no_traceback() -> None:
    """``textgan train lm --help | head -1``: the reader leaves early; exit 141 (SIGPIPE), stderr empty."""
    import os

    read, write = os.pipe()
    os.close(read)  # every write to the pipe now fails with EPIPE, as once head has read its line
    try:
        cmd = [sys.executable, "-m", "textgan", "train", "lm", "--help"]
        res = subprocess.run(cmd, stdout=write, stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write)
    assert res.returncode == 141 and res.stderr == ""


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    "args, flag",
    [
        (["generate", "{run}", "-n", "3", "--temperature", "{v}"], "--temperature"),
        (["eval", "lm", "--run", "{run}", "--temperatures", "0.9,{v}"], "--temperatures"),
        (["eval", "style", "--run", "r", "--data", "d", "--classifier", "c", "--style-rerank", "1,{v}"], "rerank"),
        (["transfer", "r", "--content-rerank", "{v}", "a sentence"], "--content-rerank"),
        ([*SMOKE, "--run-dir", "{new}", "--mle-lr", "{v}"], "--mle-lr"),
        ([*SMOKE, "--run-dir", "{new}", "--clip-eps", "{v}"], "--clip-eps"),
        (
            ["train", "style", "--preset", "smoke", "--data", "d", "--run-dir", "{new}", "--style-weight", "{v}"],
            "--style-weight",
        ),
        (["train", "classifier", "--preset", "smoke", "--data", "d", "--run-dir", "{new}", "--lr", "{v}"], "--lr"),
    ],
)
def test_non_finite_numbers_are_one_error_line(smoke_lm_run, tmp_path, capsys, args, flag, value) -> None:
    """NaN and infinity in any float flag of any command: one error line naming the flag, exit 2,
    nothing written."""
    new = tmp_path / "new"
    argv = [a.format(run=smoke_lm_run, v=value, new=new) for a in args]
    before = sorted(p.name for p in smoke_lm_run.iterdir())
    capsys.readouterr()
    assert main(argv) == 2
    assert flag in one_error_line(capsys)
    assert not new.exists() and sorted(p.name for p in smoke_lm_run.iterdir()) == before


def test_generate_refuses_a_temperature_of_zero(smoke_lm_run, capsys) -> None:
    capsys.readouterr()
    assert main(["generate", str(smoke_lm_run), "-n", "3", "--temperature", "0"]) == 2
    assert "--temperature: must be > 0" in one_error_line(capsys)


def test_a_run_ends_with_a_small_table_and_where_the_run_is(smoke_lm_run, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    capsys.readouterr()
    assert main([*SMOKE, "--run-dir", str(run), "--mle-epochs", "1", "--adv-steps", "0"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("final metrics (epoch 1") and not any(line.startswith("{") for line in out)
    rows = {line.split()[0]: line.split()[1] for line in out[1:-1]}
    assert {"nll_gen", "nll_oracle", "bleu2"} <= set(rows) and "step" not in rows
    assert out[-1].startswith(f"run directory: {run}")


def test_a_style_flags_long_reason_keeps_its_first_line(tmp_path, capsys) -> None:
    """tyro wraps a long ValueError over two box lines; the error line keeps both (it once kept the last)."""
    args = ["train", "style", "--preset", "smoke", "--data", str(tmp_path), "--st-style-mask", "0.5"]
    assert main([*args, "--run-dir", str(tmp_path / "run")]) == 2
    assert one_error_line(capsys) == "error: --st-style-mask: must be 0 (off) or a salience ratio above 1"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "boxed",
    [
        "╭─ Value error ───╮\n│ Error parsing model: --x: must be   │\n│ above 1   │\n│ ─────── │\n│ For full helptext, see │\n"
        "│ prog --help │\n╰─────╯\n",
        "+- Value error ---+\n| Error parsing model: --x: must be |\n| above 1 |\n| ------- |\n| For full helptext |\n+---+\n",
        "Value error ----------\nError parsing model: --x: must be above 1\n----------\n",  # a wide console: no sides
    ],
)
def test_tyro_error_boxes_become_one_line(boxed) -> None:
    from textgan.cli import _tyro_error_line

    assert _tyro_error_line(boxed) == "--x: must be above 1"
