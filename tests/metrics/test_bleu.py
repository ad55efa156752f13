from __future__ import annotations

import math
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from textgan.metrics.ngrams import bleu, corpus_bleu, self_bleu, self_bleu_scores, sentence_bleu_scores

NS = (1, 2, 3, 4, 5)
sentence = st.lists(st.sampled_from("abcde"), min_size=0, max_size=9)


def nltk_bleu(refs, hyp, n, method="method1"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sentence_bleu(
            refs, hyp, weights=tuple(1.0 / n for _ in range(n)), smoothing_function=getattr(SmoothingFunction(), method)
        )


@settings(max_examples=150, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=5), st.lists(sentence, min_size=1, max_size=5))
def test_bleu_equals_nltk(hyps, refs) -> None:
    ours = sentence_bleu_scores(hyps, refs, NS)
    for n in NS:
        for i, hyp in enumerate(hyps):
            assert abs(ours[n][i] - nltk_bleu(refs, hyp, n)) <= 1e-12


@settings(max_examples=100, deadline=None)
@given(st.lists(sentence, min_size=2, max_size=6))
def test_self_bleu_equals_nltk(sents) -> None:
    ours = self_bleu_scores(sents, NS)
    for n in NS:
        for i, hyp in enumerate(sents):
            assert abs(ours[n][i] - nltk_bleu(sents[:i] + sents[i + 1 :], hyp, n)) <= 1e-12


@pytest.mark.parametrize("method", ["method0", "method2"])
@settings(max_examples=40, deadline=None)
@given(hyps=st.lists(sentence, min_size=1, max_size=4), refs=st.lists(sentence, min_size=1, max_size=4))
def test_other_smoothings_equal_nltk(method, hyps, refs) -> None:
    ours = sentence_bleu_scores(hyps, refs, (2, 4), smoothing=method)
    for n in (2, 4):
        for i, hyp in enumerate(hyps):
            assert abs(ours[n][i] - nltk_bleu(refs, hyp, n, method)) <= 1e-12


def test_hand_checked_case() -> None:
    hyp = "the cat sat on the mat".split()
    ref = "the cat is on the mat".split()
    # unigrams 5/6, bigrams 3/5 (the cat, on the, the mat); same length: no brevity penalty
    assert bleu([hyp], [ref], (1, 2))["bleu1"] == pytest.approx(5 / 6)
    assert bleu([hyp], [ref], (2,))["bleu2"] == pytest.approx(math.sqrt(5 / 6 * 3 / 5))
    # shorter hypothesis: brevity penalty exp(1 - 6/3)
    short = "the cat sat".split()
    assert bleu([short], [ref], (1,))["bleu1"] == pytest.approx(math.exp(1 - 6 / 3) * 2 / 3)


def test_edge_cases_match_nltk() -> None:
    refs = [["a", "b", "c"], ["a", "b"]]
    for hyp in ([], ["a"], ["z"], ["z", "y", "x", "w"], ["a", "b", "c", "a", "b", "c"]):
        for n in (2, 3, 4, 5):
            assert sentence_bleu_scores([hyp], refs, (n,))[n][0] == nltk_bleu(refs, hyp, n)
    assert bleu([["z", "y"]], refs)["bleu2"] == 0.0  # no overlap at all


def test_sentence_against_itself_scores_one() -> None:
    s = "a man riding a bike".split()
    for n in (2, 3, 4, 5):
        assert bleu([s], [s], (n,))[f"bleu{n}"] == 1.0
    assert self_bleu([s, s], (2, 5)) == {"self_bleu2": 1.0, "self_bleu5": 1.0}


def test_self_bleu_needs_two_sentences() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        self_bleu([["a", "b"]])
    with pytest.raises(ValueError, match="at least one reference"):
        bleu([["a"]], [])
    with pytest.raises(ValueError, match="at least one hypothesis"):
        bleu([], [["a"]])
    with pytest.raises(ValueError, match="smoothing"):
        bleu([["a"]], [["a"]], smoothing="method9")


def test_order_independence() -> None:
    rng = random.Random(0)
    sents = [[rng.choice("abcdef") for _ in range(rng.randint(1, 8))] for _ in range(30)]
    refs = sents[10:]
    shuffled_h, shuffled_r = sents[:10][::-1], refs[:]
    rng.shuffle(shuffled_r)
    a, b = bleu(sents[:10], refs), bleu(shuffled_h, shuffled_r)
    c, d = self_bleu(sents), self_bleu(sents[::-1])
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-12)
    for k in c:
        assert c[k] == pytest.approx(d[k], abs=1e-12)


def test_max_hypotheses_is_a_seeded_subset() -> None:
    rng = random.Random(1)
    sents = [[rng.choice("abcdef") for _ in range(rng.randint(1, 8))] for _ in range(40)]
    refs = sents[:20]
    sub = bleu(sents, refs, (2,), max_hypotheses=10, seed=5)
    assert sub == bleu(sents, refs, (2,), max_hypotheses=10, seed=5)
    picked = sorted(random.Random(5).sample(range(40), 10))
    assert sub["bleu2"] == pytest.approx(bleu([sents[i] for i in picked], refs, (2,))["bleu2"])
    assert bleu(sents, refs, (2,), max_hypotheses=1000) == bleu(sents, refs, (2,))


def test_corpus_bleu_with_sacrebleu() -> None:
    hyps = ["the cat sat on the mat", "a dog runs"]
    assert corpus_bleu(hyps, hyps) == pytest.approx(100.0)
    two_streams = [["the cat is on the mat", "a dog runs"], ["the cat sat on the mat", "a dog walks"]]
    assert corpus_bleu(hyps, two_streams, tokenize="13a") == pytest.approx(100.0)  # each line matches one stream
    assert 0 < corpus_bleu(hyps, two_streams[0]) < 100
    with pytest.raises(ValueError, match="reference stream"):
        corpus_bleu(hyps, ["only one"])


def test_metrics_package_exports_the_functions() -> None:
    import textgan.metrics as M
    from textgan.metrics import bleu as bleu_fn
    from textgan.metrics import corpus_bleu, frontier, nll_gen, nll_oracle, self_bleu  # noqa: F401

    assert callable(bleu_fn) and bleu_fn is bleu
    assert set(M.__all__) == {"bleu", "corpus_bleu", "frontier", "nll_gen", "nll_oracle", "self_bleu"}
    assert all(callable(getattr(M, name)) and getattr(M, name).__doc__ for name in M.__all__)
