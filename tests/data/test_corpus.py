from __future__ import annotations

import logging

import pytest
import torch

from tests.conftest import shared
from textgan.config import DataConfig
from textgan.data.corpus import load_corpus
from textgan.data.vocab import EOS_ID, PAD_ID, UNK_ID
from textgan.utils import UserError

SMALL_ORACLE = DataConfig(oracle_vocab_size=30, oracle_len=7, oracle_train_size=50, oracle_test_size=10)


def test_oracle_is_deterministic_for_a_seed() -> None:
    a, b = load_corpus(SMALL_ORACLE), load_corpus(SMALL_ORACLE)
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    c = load_corpus(DataConfig(**{**SMALL_ORACLE.__dict__, "oracle_seed": 1}))
    assert not torch.equal(a.train, c.train)
    assert a.train.shape == (50, 7) and a.max_len == 7
    assert EOS_ID in a.banned_ids  # fixed-length data: never end early


def test_oracle_nll_of_its_own_samples_beats_uniform() -> None:
    corpus = load_corpus(SMALL_ORACLE)
    nll = corpus.oracle.nll(corpus.to_oracle_ids(corpus.test))
    assert 0 < nll < torch.log(torch.tensor(30.0)).item()


def test_directory_corpus(tiny_corpus) -> None:
    corpus = load_corpus(DataConfig(data=str(tiny_corpus)))
    assert corpus.train.shape[0] == 12 and corpus.test.shape[0] == 4
    assert corpus.max_len == 10  # longest training sentence
    assert corpus.banned_ids == [PAD_ID, 1]
    assert (corpus.test == UNK_ID).any()  # "horse" is not in train
    assert corpus.test_words[0] == "a man riding a horse down the road .".split()
    text = corpus.detokenize(corpus.train[:1])
    assert text == ["a man riding a bike down the street ."]


def test_max_len_cap_truncates_with_a_warning(tiny_corpus, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="textgan"):
        corpus = load_corpus(DataConfig(data=str(tiny_corpus), max_len=5))
    assert corpus.train.shape[1] == 5
    assert "truncated" in caplog.text


def test_blank_lines_are_skipped_with_a_warning(tmp_path, caplog) -> None:
    (tmp_path / "train.txt").write_text("a b c\n\n  \nd e\n")
    (tmp_path / "test.txt").write_text("a b\n")
    with caplog.at_level(logging.WARNING, logger="textgan"):
        corpus = load_corpus(DataConfig(data=str(tmp_path)))
    assert corpus.train.shape[0] == 2
    assert "skipped 2 blank lines" in caplog.text


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "no train.txt"),
        (lambda d: ((d / "train.txt").write_text("a b\n"), (d / "test.txt").write_text("")), "empty"),
        (lambda d: ((d / "train.txt").write_text("\n \n"), (d / "test.txt").write_text("a\n")), "empty"),
        (
            lambda d: ((d / "train.txt").write_bytes(b"ok line\nbad \xff byte\n"), (d / "test.txt").write_text("a\n")),
            "line 2 is not valid UTF-8",
        ),
        (
            lambda d: ((d / "train.txt").write_bytes(b"\x00\x01\x02binary"), (d / "test.txt").write_text("a\n")),
            "binary",
        ),
    ],
)
def test_bad_corpus_directories(tmp_path, setup, message) -> None:
    setup(tmp_path)
    with pytest.raises(UserError, match=message):
        load_corpus(DataConfig(data=str(tmp_path)))


def test_missing_directory() -> None:
    with pytest.raises(UserError, match="directory not found"):
        load_corpus(DataConfig(data="./no/such/dir"))


@pytest.mark.slow
def test_real_coco_with_nltk_tokens() -> None:
    coco = shared("coco")
    corpus = load_corpus(DataConfig(data=str(coco), tokenizer="nltk", lowercase=True))
    assert corpus.train.shape == (10000, 37)  # RelGAN: max length 37
    assert 4600 < len(corpus.vocab) < 4700  # 4,659 NLTK tokens + 4 specials
    assert len(corpus.test_words) == 10000
