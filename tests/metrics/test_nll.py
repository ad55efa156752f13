from __future__ import annotations

import pytest
import torch

from textgan.cli import main
from textgan.metrics.nll import nll_gen
from textgan.models.generators import alive_mask
from textgan.train.lm import load_lm_run


def test_nll_gen_per_token_by_hand(tmp_path, tiny_corpus) -> None:
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "lm",
                "--preset",
                "smoke",
                "--no-progress",
                "--adv-steps",
                "0",
                "--data",
                str(tiny_corpus),
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    gen, vocab, tok, _ = load_lm_run(run)
    lines = (tiny_corpus / "test.txt").read_text().splitlines()
    ids, _ = vocab.encode_batch([tok.tokenize(s) for s in lines], gen.max_len)
    with torch.no_grad():
        expected = -gen.log_prob(ids).sum().item() / alive_mask(ids).sum().item()
    assert nll_gen(gen, ids) == pytest.approx(expected)
    assert nll_gen(run, lines) == pytest.approx(expected)  # a run dir and raw text
    assert nll_gen(gen, lines, vocab=vocab, tokenizer=tok) == pytest.approx(expected)
    with pytest.raises(ValueError, match="vocabulary"):
        nll_gen(gen, lines)
