from __future__ import annotations

import shutil

import pytest
import torch

from tests.conftest import FIXTURES, shared
from textgan.data.style import load_style_corpus
from textgan.utils import UserError

STYLE = FIXTURES / "style"


def test_load_style_fixture() -> None:
    corpus = load_style_corpus(str(STYLE))
    train = corpus.splits["train"]
    assert train.ids.shape == (16, corpus.max_len) and train.labels.tolist() == [0] * 8 + [1] * 8
    assert corpus.max_len == 7
    # reference.0 is normalised (lowercase, PTB tokens); multi_ref adds a second reference
    assert corpus.references[0][1] == ["the staff was n't rude .".split(), "the staff was kind .".split()]
    assert corpus.references[1][0][0] == "the pasta was bland .".split()


@pytest.fixture
def style_copy(tmp_path):
    dest = tmp_path / "style"
    shutil.copytree(STYLE, dest)
    return dest


def test_missing_style_file(style_copy) -> None:
    (style_copy / "train.1").unlink()
    with pytest.raises(UserError, match=r"train\.1 is missing"):
        load_style_corpus(str(style_copy))


def test_reference_without_tab(style_copy) -> None:
    (style_copy / "reference.0").write_text("no tab here\nsecond\tline\n")
    with pytest.raises(UserError, match="line 1 has no tab"):
        load_style_corpus(str(style_copy))


def test_reference_line_count(style_copy) -> None:
    (style_copy / "reference.1").write_text("a\tb\n")
    with pytest.raises(UserError, match="must be line-aligned"):
        load_style_corpus(str(style_copy))


def test_non_utf8_style_file(style_copy) -> None:
    (style_copy / "dev.0").write_bytes(b"fine\n\xfe\xff\n")
    with pytest.raises(UserError, match="dev.0: line 2 is not valid UTF-8"):
        load_style_corpus(str(style_copy))


def test_missing_directory() -> None:
    with pytest.raises(UserError, match="not found"):
        load_style_corpus("./no-such-style-dir")


@pytest.mark.slow
def test_real_yelp_layout() -> None:
    yelp = shared("yelp")
    corpus = load_style_corpus(str(yelp), max_train_sentences=200)
    assert corpus.max_len == 15
    assert len(corpus.references[0]) == 500 and len(corpus.references[0][0]) == 5  # Li et al. + 4 multi_ref
    assert torch.equal(corpus.splits["test"].labels[:500], torch.zeros(500, dtype=torch.long))
