from __future__ import annotations

import pytest

from textgan.data.vocab import EOS_ID, PAD_ID, SPECIALS, UNK_ID, Tokenizer, Vocab, train_spm


def test_vocab_round_trip(tmp_path) -> None:
    vocab = Vocab.build([["a", "b", "a"], ["c", "a"]])
    assert vocab.itos[:4] == list(SPECIALS) and vocab.itos[4] == "a"
    vocab.save(tmp_path / "vocab.txt")
    again = Vocab.load(tmp_path / "vocab.txt")
    assert again.itos == vocab.itos
    assert again.decode(again.encode(["c", "a", "zzz"])) == ["c", "a", "<unk>"]
    assert vocab.encode(["zzz"]) == [UNK_ID]


def test_vocab_load_rejects_other_files(tmp_path) -> None:
    (tmp_path / "v.txt").write_text("hello\nworld\n")
    with pytest.raises(ValueError, match="not a textgan vocabulary"):
        Vocab.load(tmp_path / "v.txt")


def test_min_freq_and_encode_batch() -> None:
    vocab = Vocab.build([["a", "b", "a"]], min_freq=2)
    assert "b" not in vocab.stoi
    ids, cut = vocab.encode_batch([["a"], ["a", "a", "a"], ["a", "a", "a", "a"]], max_len=3)
    assert cut == 1
    a = vocab.stoi["a"]
    assert ids.tolist() == [[a, EOS_ID, PAD_ID], [a, a, a], [a, a, a]]
    assert vocab.decode(ids[0]) == ["a"]


def test_tokenizers() -> None:
    assert Tokenizer("space", lowercase=True).tokenize("A Man  rides.") == ["a", "man", "rides."]
    assert Tokenizer("nltk", lowercase=True).tokenize("A man rides a bike.") == ["a", "man", "rides", "a", "bike", "."]
    assert Tokenizer("nltk").tokenize("It didn't work.") == ["It", "did", "n't", "work", "."]
    with pytest.raises(ValueError, match="tokenizer"):
        Tokenizer("bpe")


def test_sentencepiece_round_trip(tmp_path, tiny_corpus) -> None:
    lines = (tiny_corpus / "train.txt").read_text().splitlines()
    model = train_spm(lines, tmp_path / "spm", vocab_size=60, lowercase=True)
    tok = Tokenizer("spm", lowercase=True, spm_model=model)
    pieces = tok.tokenize("A man riding a bike.")
    assert len(pieces) >= 4
    assert tok.detokenize(pieces) == "a man riding a bike."
