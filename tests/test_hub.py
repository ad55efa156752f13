"""textgan export RUN --hf DIR: a gpt2 generator as a transformers model that pipeline() loads."""

from __future__ import annotations

import pytest
import torch

from textgan.cli import main

GPT2 = ["train", "lm", "--preset", "smoke", "--generator", "gpt2", "--no-progress", "--adv-steps", "0"]


@pytest.fixture(scope="module")
def gpt2_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("gpt2") / "run"
    assert main([*GPT2, "--mle-epochs", "1", "--run-dir", str(run)]) == 0
    return run


def test_the_exported_model_is_the_generator_and_pipeline_loads_it(gpt2_run, tmp_path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    from textgan.runs import load_lm_run

    out = tmp_path / "hf"
    assert main(["export", str(gpt2_run), "--hf", str(out)]) == 0
    generator, vocab, _, _ = load_lm_run(gpt2_run)
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    words = vocab.itos[4:9]
    enc = tok(" ".join(words), return_tensors="pt")
    ids = torch.tensor([[vocab.stoi[w] for w in words]])
    assert enc.input_ids.tolist() == [[1, *ids[0].tolist()]]  # <bos> first, the run's own ids
    with torch.no_grad():
        hf_logp = torch.log_softmax(model(enc.input_ids).logits[0, :-1], -1)
        ours = torch.log_softmax(generator(ids)[0], -1)  # textgan's (banned tokens masked)
    allowed = ~generator.banned
    assert torch.allclose(hf_logp[:, allowed].logsumexp(-1), torch.zeros(len(words)), atol=0.5)
    shift = ours[:, allowed] - hf_logp[:, allowed]  # equal up to the mass of the suppressed tokens
    assert torch.allclose(shift, shift[:, :1].expand_as(shift), atol=1e-4)
    assert set(model.generation_config.suppress_tokens) == set(generator.banned.nonzero().flatten().tolist())
    text = pipeline("text-generation", model=str(out), tokenizer=str(out))(words[0], max_new_tokens=5)
    assert text[0]["generated_text"].startswith(words[0])
    assert all(w in vocab.stoi for w in text[0]["generated_text"].split())


def test_export_refuses_other_generators_and_a_used_dir(tmp_path, capsys, smoke_lm_run, gpt2_run) -> None:
    out = tmp_path / "hf"
    assert main(["export", str(smoke_lm_run), "--hf", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Hugging Face model class" in err[0] and not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export", str(gpt2_run), "--hf", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not empty" in err[0] and [p.name for p in out.iterdir()] == ["keep.txt"]
    assert main(["export", str(tmp_path / "none"), "--hf", str(tmp_path / "x")]) == 2
