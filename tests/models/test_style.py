from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from textgan.config import StyleModelConfig
from textgan.data.vocab import EOS_ID, PAD_ID
from textgan.models.generators import alive_mask
from textgan.models.style import StyleTransferModel

V, T = 14, 6


def tiny() -> StyleTransferModel:
    return StyleTransferModel(StyleModelConfig(st_embed_dim=8, st_hidden_dim=12, st_style_dim=4), V, T)


def source() -> torch.Tensor:
    return torch.tensor([[4, 5, 6, EOS_ID, PAD_ID], [7, 8, EOS_ID, PAD_ID, PAD_ID], [9, 10, 11, 12, 13]])


def test_shapes_and_soft_encoding_matches_ids() -> None:
    model = tiny()
    src, style = source(), torch.tensor([0, 1, 1])
    enc = model.encode(src)
    assert enc.states.shape == (3, 5, 12) and enc.z.shape == (3, 12)
    assert enc.mask.tolist()[1] == [True, True, True, False, False]
    soft_enc = model.encode(soft=F.one_hot(src, V).float())
    torch.testing.assert_close(soft_enc.z, enc.z)
    ids, noise = model.sample_ids(enc, style, keep_noise=True)
    assert ids.shape == (3, T) and noise.shape == (3, T, V)
    assert model(enc, style, ids).shape == (3, T, V)


def test_relax_reproduces_the_sample_and_log_prob() -> None:
    model = tiny()
    src, style = source(), torch.tensor([1, 0, 1])
    enc = model.encode(src)
    ids, noise = model.sample_ids(enc, style, keep_noise=True, generator=torch.Generator().manual_seed(1))
    s = model.relax(enc, style, ids, noise, beta=2.0)
    alive = alive_mask(ids)
    assert torch.equal((s.logits + s.noise).argmax(-1)[alive], ids[alive])
    torch.testing.assert_close(s.soft.sum(-1), torch.ones(3, T))
    torch.testing.assert_close(s.log_prob, model.log_prob(enc, style, ids))
    s.log_prob.sum().backward()
    assert model.cell.weight_hh.grad is not None


def test_style_changes_the_output_distribution() -> None:
    model = tiny()
    enc = model.encode(source())
    a = model(enc, torch.tensor([0, 0, 0]), source()[:, : T - 1])
    b = model(enc, torch.tensor([1, 1, 1]), source()[:, : T - 1])
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("beam", [1, 3])
def test_beam_search_returns_valid_sequences(beam: int) -> None:
    model = tiny()
    enc, style = model.encode(source()), torch.tensor([0, 1, 0])
    out = model.beam_search(enc, style, beam)
    assert out.shape == (3, T)
    assert not torch.isin(out[alive_mask(out)], torch.tensor([PAD_ID, 1])).any()
    if beam == 1:  # a beam of one is greedy decoding
        assert torch.equal(out, model.sample_ids(enc, style, greedy=True)[0])


def test_beam_rescore_changes_which_hypothesis_wins() -> None:
    model = tiny()
    enc, style = model.encode(source()), torch.tensor([0, 1, 0])
    plain = model.beam_search(enc, style, 4)
    seen: list[torch.Tensor] = []

    def avoid_plain(ids: torch.Tensor, st: torch.Tensor) -> torch.Tensor:
        seen.append(st)
        same = (ids.view(3, 4, -1) == plain[:, None]).all(-1).view(-1)  # (B*k,) the plain winner
        return -1000.0 * same.float()

    out = model.beam_search(enc, style, 4, rescore=avoid_plain)
    assert torch.equal(seen[0], style.repeat_interleave(4))  # each hypothesis with its input's style
    assert not (out == plain).all(-1).any()  # every input now takes another of its 4 hypotheses
    assert torch.equal(model.beam_search(enc, style, 4, rescore=lambda ids, st: torch.zeros(len(ids))), plain)


@pytest.mark.parametrize("beam", [1, 3])
def test_no_repeat_never_writes_a_token_twice_in_a_row(beam: int) -> None:
    torch.manual_seed(0)
    model = tiny()
    with torch.no_grad():  # a decoder that wants to repeat: one token dominates every step
        model.logits_of = (
            lambda feats: (
                F.one_hot(  # type: ignore[method-assign]
                    torch.full(feats.shape[:1], 5), model.vocab_size
                ).float()
                * 10
                + torch.randn(feats.shape[0], model.vocab_size)
            )
        )
    enc, style = model.encode(source()), torch.tensor([0, 1, 0])

    def decode(no_repeat: bool) -> torch.Tensor:
        if beam == 1:
            return model.sample_ids(enc, style, greedy=True, no_repeat=no_repeat)[0]
        return model.beam_search(enc, style, beam, no_repeat=no_repeat)

    def repeats(ids: torch.Tensor) -> int:
        alive = alive_mask(ids)
        return int(((ids[:, 1:] == ids[:, :-1]) & alive[:, 1:]).sum())

    assert repeats(decode(False)) > 0
    assert repeats(decode(True)) == 0


def test_reconstruction_loss_decreases() -> None:
    torch.manual_seed(0)
    model = tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    src, style = source(), torch.tensor([0, 1, 0])
    first = model.reconstruction_loss(src, style)
    for _ in range(30):
        loss = model.reconstruction_loss(src, style)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first.item()


def test_sample_soft_equals_the_teacher_forced_relaxation() -> None:
    torch.manual_seed(0)
    model = tiny().eval()
    enc = model.encode(source())
    style = torch.tensor([1, 0, 1])
    ids, noise, soft = model.sample_soft(enc, style, 3.0, generator=torch.Generator().manual_seed(2))
    again, _ = model.sample_ids(enc, style, keep_noise=True, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(ids, again, rtol=0, atol=0)
    torch.testing.assert_close(soft, model.relax(enc, style, ids, noise, 3.0).soft)
    torch.testing.assert_close(soft.sum(-1), torch.ones(ids.shape))


def test_drop_words_keeps_order_eos_and_one_word() -> None:
    from textgan.models.style import drop_words

    ids = torch.tensor([[5, 6, 7, 8, 2, 0], [9, 10, 2, 0, 0, 0], [4, 5, 6, 7, 8, 9]])
    assert drop_words(ids, 0.0) is ids
    for seed in range(20):
        out = drop_words(ids, 0.5, torch.Generator().manual_seed(seed))
        for row, src in zip(out.tolist(), ids.tolist(), strict=True):
            words = [t for t in row if t > 2]
            src_words = [t for t in src if t > 2]
            assert words and words[0] == src_words[0]  # the first word is kept
            assert all(w in src_words for w in words) and words == sorted(words, key=src_words.index)
            if 2 in src:
                assert row[len(words)] == 2  # <eos> right after the kept words
            assert all(t == 0 for t in row[len(words) + (2 in src) :])
    almost_all = drop_words(ids, 0.99, torch.Generator().manual_seed(0))
    assert almost_all.tolist() == [[5, 2, 0, 0, 0, 0], [9, 2, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0]]


def test_greedy_decoding_that_drops_finished_rows_gives_the_same_ids() -> None:
    torch.manual_seed(0)
    model = StyleTransferModel(StyleModelConfig(st_embed_dim=8, st_hidden_dim=16, st_style_dim=4), 30, 9).eval()
    with torch.no_grad():
        model.out_bias[EOS_ID] = 1.5  # many rows finish early, at different steps
    for seed in range(5):
        g = torch.Generator().manual_seed(seed)
        src = torch.randint(4, 30, (33, 9), generator=g)
        src[:, 6:] = PAD_ID
        src[torch.arange(33), torch.randint(1, 6, (33,), generator=g)] = EOS_ID
        src = src.masked_fill(~alive_mask(src), PAD_ID)
        style = torch.randint(0, 2, (33,), generator=g)
        enc = model.encode(src)
        fast, _ = model.sample_ids(enc, style, greedy=True)
        full, _, _ = model._decode(enc, style, None, False, True, None)
        assert torch.equal(fast, full)
        assert (fast == EOS_ID).any()


def test_content_overlap_is_unigram_and_bigram_f1() -> None:
    from textgan.decoding import content_overlap

    assert content_overlap([4, 5, 6, EOS_ID, PAD_ID], [4, 5, 6, EOS_ID]) == 1.0  # a copy; specials ignored
    assert content_overlap([7, 8], [4, 5, 6]) == 0.0
    # hyp 4 5 9 vs src 4 5 6: unigram F1 2*2/6, bigram F1 2*1/4
    assert content_overlap([4, 5, 9], [4, 5, 6]) == pytest.approx((4 / 6 + 2 / 4) / 2)
    assert content_overlap([4, 4, 4], [4]) == pytest.approx((2 * 1 / 4 + 0.0) / 2)  # counts are clipped


def test_content_overlap_of_higher_order_rewards_longer_kept_runs() -> None:
    from textgan.decoding import content_overlap

    src = [4, 5, 6, 7, 8]
    assert content_overlap(src, src, order=4) == 1.0
    # hyp 4 5 6 7 9: 1-gram F1 8/10, 2-gram 6/8, 3-gram 4/6, 4-gram 2/4
    assert content_overlap([4, 5, 6, 7, 9], src, order=4) == pytest.approx((8 / 10 + 6 / 8 + 4 / 6 + 2 / 4) / 4)
    assert content_overlap([4, 5, 6, 7, 9], src, order=1) == pytest.approx(8 / 10)
    # the same words kept, in one run vs broken up: equal as unigrams, apart at order 4
    kept, broken = [4, 5, 6, 7, 9, 9], [4, 9, 5, 6, 9, 7]
    assert content_overlap(kept, src, order=1) == content_overlap(broken, src, order=1)
    assert content_overlap(kept, src, order=4) > content_overlap(broken, src, order=4)
    assert content_overlap([4, 5], [4, 5], order=4) == 1.0  # too short for 3- and 4-grams on both sides: a copy


def test_content_rerank_prefers_the_hypothesis_closest_to_the_source() -> None:
    from textgan.decoding import Rerank, content_overlap

    model = tiny()
    src = source()
    enc, style = model.encode(src), torch.tensor([0, 1, 0])
    seen: list[torch.Tensor] = []

    def spy(ids: torch.Tensor, st: torch.Tensor) -> torch.Tensor:
        seen.append(ids)
        return torch.zeros(len(ids))

    model.beam_search(enc, style, 4, rescore=spy)
    hyps = seen[0].view(3, 4, -1)
    out = model.beam_search(enc, style, 4, rescore=Rerank(content=1e4).rescorer(src))
    for i in range(3):
        best = max(content_overlap(h, src[i].tolist()) for h in hyps[i].tolist())
        assert content_overlap(out[i].tolist(), src[i].tolist()) == pytest.approx(best)
    assert not Rerank() and Rerank(content=1.0)
    with pytest.raises(ValueError, match="needs a classifier"):
        Rerank(style=1.0).rescorer(src)(hyps.view(12, -1), style.repeat_interleave(4))


class _Lexicon(torch.nn.Module):
    """A two-style classifier that reads only two words: token 7 ("great") is style 1, token 8
    ("bad") style 0; anything else is neutral."""

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        score = 3.0 * (ids == 7).sum(1).float() - 3.0 * (ids == 8).sum(1).float()
        return torch.stack([-score, score], 1)


def test_style_words_are_those_whose_deletion_changes_the_classifier() -> None:
    from textgan.decoding import style_word_mask

    src = torch.tensor([[4, 5, 7, 9, EOS_ID, PAD_ID], [4, 8, 5, 9, 10, EOS_ID]])
    mask = style_word_mask(_Lexicon(), src, torch.tensor([1, 0]), tau=0.5)
    assert mask.tolist() == [[False, False, True, False, False, False], [False, True, False, False, False, False]]
    assert not style_word_mask(_Lexicon(), src, torch.tensor([1, 0]), tau=100.0).any()  # nothing moves it that much
    assert not style_word_mask(_Lexicon(), src, torch.tensor([0, 1]), tau=0.5).any()  # deleting raises the other style


def test_style_words_make_a_substitution_keep_as_much_content_as_an_insertion() -> None:
    """ "a b great c" -> insert "not" ("a b not great c") or substitute ("a b bad c"): the plain
    overlap prefers the insertion; without the style word in the source, the substitution."""
    from textgan.decoding import Rerank

    src = torch.tensor([[4, 5, 7, 9, EOS_ID, PAD_ID]])
    hyps = torch.tensor([[4, 5, 10, 7, 9, EOS_ID], [4, 5, 8, 9, EOS_ID, PAD_ID]])  # insertion, substitution
    style = torch.tensor([0, 0])  # both target style 0
    plain = Rerank(_Lexicon(), content=1.0).score(hyps, style, src)
    masked = Rerank(_Lexicon(), content=1.0, style_words=0.5).score(hyps, style, src)
    assert plain[0] > plain[1] and masked[1] > masked[0]
    assert masked[1] == pytest.approx((6 / 8 + 2 / 6) / 2)  # src "4 5 _ 9": 3 of 4 words, 1 of 3 bigrams


def test_content_slots_let_a_substitution_keep_all_the_content() -> None:
    """ "a b great c" with "great" a slot: the substitution ("a b bad c") keeps every n-gram (as the
    copy does), the insertion ("a b not great c") loses the ones through it; a slot is filled once."""
    from textgan.decoding import SLOT, Rerank, content_overlap

    src = [4, 5, SLOT, 9]
    assert content_overlap([4, 5, 8, 9], src, 4) == 1.0
    assert content_overlap([4, 5, 7, 9], src, 4) == 1.0
    # the insertion: 4 of 5 unigrams (2*4/9), bigrams "4 5", "5 not" (fills "5 _"), "great 9" (fills "_ 9"): 2*3/7
    # trigrams "4 5 not" (fills "4 5 _"): 2*1/5, 4-grams none of 2 + 1
    want = (8 / 9 + 6 / 7 + 2 / 5 + 0.0) / 4
    assert content_overlap([4, 5, 10, 7, 9], src, 4) == pytest.approx(want)
    assert content_overlap([4, 5, 8, 8, 9], src, 1) == pytest.approx(2 * 4 / 9)  # one slot, one word
    assert content_overlap([4, 5, 9], [4, 5, 9], 2) == 1.0  # no slot: the plain overlap

    srcs = torch.tensor([[4, 5, 7, 9, EOS_ID, PAD_ID]])
    hyps = torch.tensor([[4, 5, 10, 7, 9, EOS_ID], [4, 5, 8, 9, EOS_ID, PAD_ID]])  # insertion, substitution
    style = torch.tensor([0, 0])
    hidden = srcs == 7  # the words an --st-style-mask encoder hid
    by_hidden = Rerank(content=1.0, content_order=4, slots=True).score(hyps, style, srcs, hidden=hidden)
    by_classifier = Rerank(_Lexicon(), content=1.0, content_order=4, style_words=0.5, slots=True).score(
        hyps, style, srcs
    )
    torch.testing.assert_close(by_hidden, torch.tensor([want, 1.0]))
    torch.testing.assert_close(by_classifier, by_hidden)
    with pytest.raises(ValueError, match="slots need"):
        Rerank(content=1.0, slots=True).score(hyps, style, srcs)


def test_insert_penalty_ranks_only_insertions_lower() -> None:
    """ "a b great c": an insertion ("a b not great c"), a substitution ("a b bad c") and a copy; the
    penalty lowers the insertion alone, also with style words masked out of the content overlap."""
    from textgan.decoding import Rerank

    src = torch.tensor([[4, 5, 7, 9, EOS_ID, PAD_ID]])
    hyps = torch.tensor([[4, 5, 10, 7, 9, EOS_ID], [4, 5, 8, 9, EOS_ID, PAD_ID], [4, 5, 7, 9, EOS_ID, PAD_ID]])
    style = torch.tensor([0, 0, 0])
    assert Rerank(insert=0.5) and Rerank(insert=0.5).score(hyps, style, src).tolist() == [-0.5, 0.0, 0.0]
    base = Rerank(_Lexicon(), content=1.0, style_words=0.5)
    both = Rerank(_Lexicon(), content=1.0, style_words=0.5, insert=2.0)
    cache: dict = {}
    torch.testing.assert_close(
        both.score(hyps, style, src, cache), base.score(hyps, style, src) - torch.tensor([2.0, 0.0, 0.0])
    )
    assert cache["insert"].tolist() == [1.0, 0.0, 0.0]


def test_fluency_is_the_lms_mean_log_prob_per_token_of_the_words() -> None:
    """``Fluency`` reads hypotheses of one vocabulary through the words, under an LM of another."""
    from textgan.config import GeneratorConfig
    from textgan.data.vocab import Vocab
    from textgan.decoding import Fluency, Rerank
    from textgan.models.generators import build_generator

    torch.manual_seed(0)
    style_vocab = Vocab(["the", "food", "was", "great", "bad"])
    lm_vocab = Vocab(["bad", "was", "food", "the"])  # another order, and no "great": <unk> there
    lm = build_generator(GeneratorConfig(generator="lstm", embed_dim=8, hidden_dim=8), len(lm_vocab), 6)
    fluency = Fluency(lm, lm_vocab, None, style_vocab)
    words = [["the", "food", "was", "great"], ["the", "food", "was", "bad"], []]
    hyps, _ = style_vocab.encode_batch(words, 6)
    lm_ids, _ = lm_vocab.encode_batch(words, 6)
    with torch.no_grad():
        expected = lm.log_prob(lm_ids) / alive_mask(lm_ids).sum(1)
    assert torch.allclose(fluency(hyps), expected)
    calls: list[int] = []

    def counted(ids: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        calls.append(len(ids))
        return fluency(ids, style)

    cache: dict = {}
    src, style = hyps[:1], torch.zeros(3, dtype=torch.long)
    for w in (1.0, 3.0):  # the LM scores each set of hypotheses once, whatever the weight
        got = Rerank(fluency=w, lm=counted).score(hyps, style, src, cache)
        assert torch.allclose(got, w * expected)
    assert calls == [3] and Rerank(fluency=1.0)
    with pytest.raises(ValueError, match="needs a language model"):
        Rerank(fluency=1.0).score(hyps, style, src)


def test_style_fluency_scores_each_hypothesis_under_its_target_styles_lm() -> None:
    """``StyleFluency``: the LM of style s scores the hypotheses written in style s, and only them."""
    from textgan.config import GeneratorConfig
    from textgan.data.vocab import Vocab
    from textgan.decoding import Fluency, Rerank, StyleFluency, fluency_lm_runs
    from textgan.models.generators import build_generator
    from textgan.utils import UserError

    vocab = Vocab(["the", "food", "was", "great", "bad"])
    lms = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        gen = build_generator(GeneratorConfig(generator="lstm", embed_dim=8, hidden_dim=8), len(vocab), 6)
        lms.append(Fluency(gen, vocab, None, vocab))
    words = [["the", "food", "was", "bad"], ["the", "food", "was", "great"], ["great", "food"]]
    hyps, _ = vocab.encode_batch(words, 6)
    style = torch.tensor([0, 1, 1])
    both = StyleFluency(lms)
    got = both(hyps, style)
    assert torch.allclose(got[:1], lms[0](hyps[:1])) and torch.allclose(got[1:], lms[1](hyps[1:]))
    assert not torch.allclose(got[1:], lms[0](hyps[1:]))  # the other style's LM reads them otherwise
    assert torch.allclose(Rerank(fluency=2.0, lm=both).score(hyps, style, hyps[:1]), 2.0 * got)
    with pytest.raises(ValueError, match="target style"):
        both(hyps)
    assert fluency_lm_runs("a") == ["a"] and fluency_lm_runs("a, b") == ["a", "b"]
    for bad in ("a,b,c", "a,", ","):
        with pytest.raises(UserError, match="two comma-separated"):
            fluency_lm_runs(bad)


def test_style_lexicon_is_the_salience_ratio_of_unigram_counts() -> None:
    from textgan.models.style import style_lexicon

    # style 0: word 4 five times, word 6 once; style 1: word 5 five times, word 6 once; word 7 in both
    ids = torch.tensor([[4, 7, EOS_ID]] * 5 + [[6, EOS_ID, PAD_ID]] + [[5, 7, EOS_ID]] * 5 + [[6, 3, EOS_ID]])
    labels = torch.tensor([0] * 6 + [1] * 6)
    lex = style_lexicon(ids, labels, V, gamma=6)  # (5 + 1) / (0 + 1) = 6: a style word; 7 and 6: ratio 1
    assert lex.nonzero().tolist() == [[0, 4], [1, 5]]
    assert style_lexicon(ids, labels, V, gamma=6.5).sum() == 0
    assert not style_lexicon(torch.full((4, 2), 3), torch.tensor([0, 0, 0, 0]), V, 2).any()  # <unk>: never


def test_style_mask_hides_the_source_styles_words_from_the_encoder() -> None:
    torch.manual_seed(0)
    model = StyleTransferModel(
        StyleModelConfig(st_embed_dim=8, st_hidden_dim=12, st_style_dim=4, st_style_mask=2.0), V, T
    )
    model.lexicon[0, [4, 5]] = True  # style 0's words: 4 and 5; style 1's: 9
    model.lexicon[1, 9] = True
    with torch.no_grad():
        model.mask_embed.normal_()
    a, b = torch.tensor([[4, 6, 7, EOS_ID]]), torch.tensor([[5, 6, 7, EOS_ID]])  # they differ in a style-0 word
    zero, one = torch.tensor([0]), torch.tensor([1])
    torch.testing.assert_close(model.encode(a, source=zero).states, model.encode(b, source=zero).states)
    assert not torch.allclose(model.encode(a, source=one).z, model.encode(b, source=one).z)  # style 1 hides 9 only
    assert not torch.allclose(model.encode(a).z, model.encode(b).z)  # no source: nothing hidden
    assert model.hidden_words(a, zero).tolist() == [[True, False, False, False]]
    assert model.source_of(torch.tensor([0, 1])).tolist() == [1, 0]
    soft = model.encode(soft=F.one_hot(a, V).float(), source=zero)  # soft rows: by their argmax
    torch.testing.assert_close(soft.z, model.encode(b, source=zero).z)
    plain = tiny()  # without --st-style-mask, source changes nothing
    torch.testing.assert_close(plain.encode(a, source=zero).z, plain.encode(a).z)
    assert not plain.hidden_words(a, zero).any()
    with pytest.raises(ValueError, match="two styles"):
        StyleTransferModel(StyleModelConfig(st_style_mask=2.0), V, T, num_styles=3)
    for bad in (0.5, 1.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="--st-style-mask"):
            StyleModelConfig(st_style_mask=bad)


def test_mask_hint_table_keeps_which_word_and_drops_which_style() -> None:
    """Pairs of words that differ only along the direction that separates the styles (b = a reflected
    across it) get one hint; other words get none; each hint is a unit row of ``dim`` entries."""
    from textgan.models.style import mask_hint_table

    torch.manual_seed(0)
    d = F.normalize(torch.randn(16), dim=0)  # the style direction
    a = F.normalize(torch.randn(4, 16), dim=1)
    a = torch.where((a @ d)[:, None] < 0, a - 2 * (a @ d)[:, None] * d, a)  # each on style 1's side of it
    b = a - 2 * (a @ d)[:, None] * d  # style 0's counterparts
    vectors = torch.randn(13, 16)
    vectors[2:6], vectors[6:10] = b, a  # words 2-5: style 0, 6-9: style 1, 11 and 12: neither
    known = torch.ones(13, dtype=torch.bool)
    known[10] = False  # a style word that the LM does not know: no hint
    lexicon = torch.zeros(2, 13, dtype=torch.bool)
    lexicon[0, 2:6], lexicon[1, 6:11] = True, True
    table = mask_hint_table(vectors, known, lexicon, dim=3)
    assert table.shape == (13, 3)
    torch.testing.assert_close(table[2:6], table[6:10], atol=1e-5, rtol=0)  # counterparts: one hint
    assert not torch.allclose(table[2], table[3], atol=1e-3)  # different words: different hints
    torch.testing.assert_close(table[2:10].norm(dim=1), torch.ones(8))
    assert not table[[0, 1, 10, 11, 12]].any()
    assert not mask_hint_table(vectors, known, torch.zeros(2, 13, dtype=torch.bool), 3).any()  # no style words
    assert not mask_hint_table(vectors, known, lexicon, dim=40)[:, 8:].any()  # 8 words: at most 8 directions
    grouped = mask_hint_table(vectors, known, lexicon, dim=3, clusters=4)  # the four counterpart pairs
    torch.testing.assert_close(grouped[2:6], grouped[6:10], atol=1e-5, rtol=0)
    assert grouped[2:10].unique(dim=0).shape[0] <= 4 and not grouped[[0, 1, 10, 11, 12]].any()
    torch.testing.assert_close(grouped[2:10].norm(dim=1), torch.ones(8))
    one = mask_hint_table(vectors, known, lexicon, dim=3, clusters=1)[2:10]
    assert one.unique(dim=0).shape[0] == 1  # one cluster: the same hint for every style word
    torch.testing.assert_close(mask_hint_table(vectors, known, lexicon, dim=3, clusters=100), table)  # K >= N


def test_spherical_kmeans_finds_separated_groups() -> None:
    from textgan.models.style import spherical_kmeans

    torch.manual_seed(0)
    centres = F.normalize(torch.eye(3, 6) * 5 + 0.1, dim=1)
    x = F.normalize(centres.repeat_interleave(10, dim=0) + 0.05 * torch.randn(30, 6), dim=1)
    out = spherical_kmeans(x, 3)
    for g in range(3):
        assert out[10 * g : 10 * g + 10].unique(dim=0).shape[0] == 1  # one centroid per group
    assert out.unique(dim=0).shape[0] == 3
    torch.testing.assert_close(out[0], F.normalize(x[:10].sum(dim=0), dim=0))  # the group's mean direction
    torch.testing.assert_close(spherical_kmeans(x, 3), out)  # seeded


def test_mask_hint_changes_the_encoding_only_where_a_word_is_hidden() -> None:
    def masked(hint: str) -> StyleTransferModel:
        torch.manual_seed(0)
        cfg = StyleModelConfig(st_embed_dim=8, st_hidden_dim=12, st_style_dim=4, st_style_mask=2.0, st_mask_hint=hint)
        model = StyleTransferModel(cfg, V, T)
        model.lexicon[0, [4, 5]] = True
        model.lexicon[1, 9] = True
        with torch.no_grad():
            model.mask_embed.normal_()
        return model

    plain, hinted = masked(""), masked("lm")
    assert hinted.load_state_dict(plain.state_dict(), strict=False).missing_keys == ["hint", "hint_proj.weight"]
    assert not hasattr(plain, "hint") and hinted.hint.shape == (V, 8)
    a, b = torch.tensor([[4, 6, 7, EOS_ID]]), torch.tensor([[5, 6, 7, EOS_ID]])
    zero, one = torch.tensor([0]), torch.tensor([1])
    with torch.no_grad():
        hinted.hint[4], hinted.hint[5] = torch.randn(8), torch.randn(8)
    torch.testing.assert_close(hinted.encode(a, source=zero).z, plain.encode(a, source=zero).z)  # starts as plain
    with torch.no_grad():
        hinted.hint_proj.weight.normal_()
    assert not torch.allclose(hinted.encode(a, source=zero).z, hinted.encode(b, source=zero).z)  # which word
    torch.testing.assert_close(hinted.encode(a, source=one).z, plain.encode(a, source=one).z)  # nothing hidden
    torch.testing.assert_close(hinted.encode(a).z, plain.encode(a).z)
    soft = hinted.encode(soft=F.one_hot(a, V).float(), source=zero)
    torch.testing.assert_close(soft.z, hinted.encode(a, source=zero).z)
    assert {"hint", "hint_proj.weight"} <= set(hinted.state_dict())
    with pytest.raises(ValueError, match="--st-mask-hint: needs --st-style-mask"):
        StyleModelConfig(st_mask_hint="lm")
