"""--generator hf: a Hugging Face causal LM (a tiny random GPT-2 with a byte-level BPE tokenizer
trained on the fixture, saved to a temporary directory: this machine cannot reach the hub) as the
generator of the LM task, from training to the frontier, generate, --init-from and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from textgan.cli import main
from textgan.config import GeneratorConfig
from textgan.data.vocab import BOS_ID, PAD_ID, UNK_ID, Tokenizer, hf_ids, hf_vocab
from textgan.models.generators import HFGenerator

TINY = Path(__file__).resolve().parents[2] / "data" / "tiny"
ENDOFTEXT = "<|endoftext|>"


@pytest.fixture(scope="module")
def hf_model(tmp_path_factory) -> Path:
    """A tiny random GPT-2 and a 300-token byte-level BPE tokenizer of the fixture's training split."""
    from tokenizers import Tokenizer as RawTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("hf") / "tiny-gpt2"
    raw = RawTokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=[ENDOFTEXT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator((TINY / "train.txt").read_text().splitlines(), trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token=ENDOFTEXT, eos_token=ENDOFTEXT)
    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=len(tok), n_positions=64, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
    )
    GPT2LMHeadModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _generator(hf_model: Path, max_len: int = 24) -> tuple[HFGenerator, Tokenizer, object]:
    tok = Tokenizer("hf", hf_tokenizer=hf_model)
    vocab = hf_vocab(tok)
    cfg = GeneratorConfig(generator="hf", hf_model=str(hf_model))
    gen = HFGenerator(cfg, len(vocab), max_len, (PAD_ID, BOS_ID, UNK_ID), to_hf=hf_ids(vocab, tok))
    gen.load_pretrained(str(hf_model))
    return gen.eval(), tok, vocab


def test_the_vocabulary_is_the_tokenizers_with_textgans_specials_first(hf_model) -> None:
    tok = Tokenizer("hf", hf_tokenizer=hf_model)
    vocab = hf_vocab(tok)
    ids = hf_ids(vocab, tok)
    eos = tok.hf.eos_token_id
    assert ids[:4] == [eos, eos, eos, eos]  # GPT-2 style: one token ends, starts and pads
    assert len(vocab) == len(tok.hf) - 1 + 4 and sorted(ids[4:]) == ids[4:]
    assert all(tok.hf.convert_ids_to_tokens(i) == t for i, t in zip(ids[4:], vocab.itos[4:], strict=True))
    text = "a man riding a horse on the beach ."
    assert tok.detokenize(tok.tokenize(text)) == text and tok.words(text) == text.split()


def test_log_prob_is_the_pretrained_models_likelihood(hf_model) -> None:
    """textgan's log p(x) of a sentence (``<bos>`` first, ``<eos>`` last) equals the model's own."""
    from transformers import AutoModelForCausalLM

    gen, tok, vocab = _generator(hf_model)
    model = AutoModelForCausalLM.from_pretrained(hf_model).eval()
    sentence = "a man riding a horse on the beach ."
    ids, _ = vocab.encode_batch([tok.tokenize(sentence)], gen.max_len)
    hf = tok.hf(sentence).input_ids
    eos = tok.hf.eos_token_id
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([[eos, *hf]])).logits[0], -1)
        expected = logp[torch.arange(len(hf) + 1), torch.tensor([*hf, eos])].sum()
        ours = gen.log_prob(ids)[0]
    assert ours.item() == pytest.approx(expected.item(), abs=1e-4)


def test_incremental_sampling_matches_the_teacher_forced_pass(hf_model) -> None:
    """The key/value-cache loop that draws tokens scores them as the full forward pass does."""
    gen, _, _ = _generator(hf_model)
    sample = gen.sample(6, beta=1.0, generator=torch.Generator().manual_seed(0))
    assert not gen.banned[sample.ids].any()
    assert torch.allclose(sample.log_prob, gen.log_prob(sample.ids), atol=1e-4)
    assert torch.equal(sample.soft.argmax(-1)[sample.ids != PAD_ID], sample.ids[sample.ids != PAD_ID])


def _train(hf_model: Path, run: Path, *extra: str) -> int:
    return main([
        "train", "lm", "--preset", "smoke", "--generator", "hf", "--hf-model", str(hf_model), "--data", str(TINY),
        "--no-progress", "--run-dir", str(run), *extra,
    ])  # fmt: skip


@pytest.fixture(scope="module")
def hf_run(hf_model, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("hf-run") / "run"
    assert _train(hf_model, run, "--mle-epochs", "1", "--adv-steps", "2") == 0  # MLE, then ppo
    return run


def test_a_run_trains_holds_its_model_and_goes_through_the_toolkit(hf_run, tmp_path, capsys) -> None:
    from transformers import pipeline

    cfg = json.loads((hf_run / "config.json").read_text())
    assert cfg["model"]["generator"] == "hf" and cfg["data"]["tokenizer"] == "hf"
    assert (hf_run / "hf-model" / "config.json").is_file() and (hf_run / "hf-tokenizer").is_dir()
    records = [json.loads(line) for line in (hf_run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["adv_step"] == 2 and "critic_auc" in records[-1]
    capsys.readouterr()
    frontier = tmp_path / "frontier.jsonl"
    assert main(["eval", "lm", "--run", str(hf_run), "--temperatures", "0.9,1.1", "--samples-per-point", "8",
                 "--out", str(frontier)]) == 0  # fmt: skip
    points = [json.loads(line) for line in frontier.read_text().splitlines()]
    assert [p["temperature"] for p in points] == [0.9, 1.1] and all(p["nll_test"] > 0 for p in points)
    assert main(["generate", str(hf_run), "-n", "3", "--seed", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) >= 1
    out = tmp_path / "export"
    assert main(["export", str(hf_run), "--hf", str(out)]) == 0
    text = pipeline("text-generation", model=str(out), tokenizer=str(out))("a man", max_new_tokens=4)
    assert text[0]["generated_text"].startswith("a man")
    # --init-from: the model's config and tokenizer travel with it
    child = tmp_path / "child"
    assert main(["train", "lm", "--preset", "smoke", "--init-from", str(hf_run), "--data", str(TINY),
                 "--mle-epochs", "0", "--adv-steps", "1", "--no-progress", "--run-dir", str(child)]) == 0  # fmt: skip
    assert (child / "hf-tokenizer").is_dir() and (child / "hf-model").is_dir()


def test_bad_hf_flags_are_one_error_line(hf_model, tmp_path, capsys) -> None:
    for argv, words in (
        (["--generator", "hf"], "needs --hf-model"),
        (["--hf-model", str(hf_model)], "needs --generator hf"),
        (["--generator", "hf", "--hf-model", str(tmp_path / "missing")], "cannot load it"),
    ):
        run = tmp_path / f"run{len(words)}"
        code = main(
            ["train", "lm", "--preset", "smoke", "--data", str(TINY), "--no-progress", "--run-dir", str(run), *argv]
        )
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error:") and words in err[0], err
        assert not run.exists()  # nothing left behind
