"""Raw text <-> model tokens for the style task (``textgan.data.text``) on tricky inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textgan.data.text import TextNormalizer, chunks, detokenize, normalize, sentence_case, sentences

CASES = [
    # raw input, the model's tokens, the detokenised sentence-cased text
    (
        "I didn\u2019t like it, but the $5 soup was GREAT!",
        ["i", "did", "n't", "like", "it", ",", "but", "the", "$", "5", "soup", "was", "great", "!"],
        "I didn't like it, but the $5 soup was great!",
    ),
    ('The "hoagie" had ham (cold).', ["the", "``", "hoagie", "''", "had", "ham", "(", "cold", ")", "."], None),
    ("We're going, I'm sure... right?", ["we", "'re", "going", ",", "i", "'m", "sure", "...", "right", "?"], None),
    ("it was 3:30 pm and 50% off", ["it", "was", "3:30", "pm", "and", "50", "%", "off"], "It was 3:30 pm and 50% off"),
    ("love it \U0001f60d!!", ["love", "it", "\U0001f60d", "!", "!"], "Love it \U0001f60d!!"),
    ("WOW THIS IS GREAT!!!", ["wow", "this", "is", "great", "!", "!", "!"], "Wow this is great!!!"),
    ("wait. then i left", ["wait", ".", "then", "i", "left"], "Wait. Then I left"),
    ("the dr. was nice", ["the", "dr.", "was", "nice"], "The dr. was nice"),
    ("\uff26\uff55\uff4c\uff4c width", ["full", "width"], "Full width"),
    ("", [], ""),
    ("   ", [], ""),
]


@pytest.mark.parametrize(("raw", "tokens", "text"), CASES)
def test_normalize_and_detokenize_tricky_inputs(raw, tokens, text) -> None:
    assert normalize(raw) == tokens
    if text is not None:
        assert detokenize(tokens) == text
    assert normalize(detokenize(tokens)) == tokens  # detokenised output reads back to the same tokens


def test_tokenised_yelp_lines_map_to_themselves() -> None:
    for line in [
        "i pushed it aside and did n't eat anymore .",
        "my girlfriend said , `` we 'd like to sit outside . ''",
        "the `` women '' at the front desk are extremely rude .",
        "plenty of food for your $ that is made w/ love .",
        "_num_ stars for the _num_ % tip",
    ]:
        assert normalize(line) == line.split()


def test_case_is_kept_when_not_lowercasing() -> None:
    assert normalize("Hello World", lowercase=False) == ["Hello", "World"]
    assert TextNormalizer("space", lowercase=False).tokenize("Did n't GO") == ["Did", "n't", "GO"]
    with pytest.raises(ValueError, match="--normalize"):
        TextNormalizer("words")


def test_sentence_case() -> None:
    assert sentence_case(["i", "'m", "here", ".", "and", "i", "stay", "!", "_num_", "stars"]) == [
        "I", "'m", "here", ".", "And", "I", "stay", "!", "_num_", "stars"
    ]  # fmt: skip


def test_chunks_cut_at_sentence_ends_then_commas_and_keep_every_token() -> None:
    toks = "a b c . d e f , g h i j k".split()
    assert chunks(toks, 4) == [["a", "b", "c", "."], ["d", "e", "f", ","], ["g", "h", "i", "j"], ["k"]]
    assert chunks(toks, 100) == [toks]  # what fits stays whole
    assert chunks("wow ! ! so good".split(), 4) == [["wow", "!", "!"], ["so", "good"]]
    assert chunks([], 3) == [[]]


@given(st.lists(st.sampled_from(["a", "b", ".", ",", "!"]), max_size=60), st.integers(1, 12))
def test_chunks_property(toks, limit) -> None:
    parts = chunks(toks, limit)
    assert [t for p in parts for t in p] == toks
    assert all(len(p) <= limit for p in parts)


def test_sentences_split_after_sentence_ends() -> None:
    assert sentences("hi . you ?".split()) == [["hi", "."], ["you", "?"]]
    assert sentences("no end".split()) == [["no", "end"]]
