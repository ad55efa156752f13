from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from textgan.config import GeneratorConfig
from textgan.data.vocab import BOS_ID, EOS_ID, PAD_ID
from textgan.models.generators import alive_mask, build_generator

V, T, B = 12, 6, 4
KINDS = ["rmc", "lstm", "gpt2"]


def tiny(kind: str, banned=(PAD_ID, BOS_ID)):
    cfg = GeneratorConfig(generator=kind, embed_dim=8, hidden_dim=8, head_size=4, num_heads=2, num_layers=1)
    return build_generator(cfg, V, T, list(banned))


@pytest.mark.parametrize("kind", KINDS)
def test_sample_shapes_and_dtypes(kind: str) -> None:
    gen = tiny(kind)
    s = gen.sample(B, beta=3.0)
    assert s.ids.shape == (B, T) and s.ids.dtype == torch.long
    assert s.soft.shape == (B, T, V) and s.soft.dtype == torch.float32
    assert s.logits.shape == (B, T, V) and s.noise.shape == (B, T, V)
    assert gen(s.ids).shape == (B, T, V)
    assert gen.log_prob(s.ids).shape == (B,)
    torch.testing.assert_close(s.log_prob, gen.log_prob(s.ids))


@pytest.mark.parametrize("kind", KINDS)
def test_soft_rows_sum_to_one_and_hard_tokens_are_their_argmax(kind: str) -> None:
    gen = tiny(kind)
    s = gen.sample(8, beta=2.0)
    torch.testing.assert_close(s.soft.sum(-1), torch.ones(8, T))
    alive = alive_mask(s.ids)
    # Teacher forcing on the hard tokens reproduces the free-running choice.
    assert torch.equal((s.logits + s.noise).argmax(-1)[alive], s.ids[alive])
    # After <eos> the rows are one-hot <pad>, and ids are <pad>.
    assert torch.all(s.ids[~alive] == PAD_ID)
    assert torch.all(s.soft[~alive][:, PAD_ID] == 1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_log_prob_is_sum_of_teacher_forced_log_softmax(kind: str) -> None:
    gen = tiny(kind)
    ids = gen.sample_ids(6)[0]
    ids[0] = torch.tensor([4, 5, 6, 7, 8, 9])  # one sequence without <eos>
    ids[1] = torch.tensor([4, EOS_ID, PAD_ID, PAD_ID, PAD_ID, PAD_ID])
    logp = F.log_softmax(gen(ids), dim=-1).gather(-1, ids[..., None])[..., 0]
    expected = (logp * alive_mask(ids)).sum(1)
    torch.testing.assert_close(gen.log_prob(ids), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_log_prob_has_gradient_and_banned_tokens_are_never_sampled(kind: str) -> None:
    gen = tiny(kind, banned=(PAD_ID, BOS_ID, EOS_ID))
    ids = gen.sample_ids(32)[0]
    assert not torch.isin(ids, torch.tensor([PAD_ID, BOS_ID, EOS_ID])).any()
    gen.log_prob(ids).sum().backward()
    assert all(p.grad is not None for p in gen.parameters() if p.requires_grad)


@pytest.mark.parametrize("kind", KINDS)
def test_sampling_is_reproducible_with_a_generator(kind: str) -> None:
    gen = tiny(kind)
    a = gen.sample_ids(5, generator=torch.Generator().manual_seed(3))[0]
    b = gen.sample_ids(5, generator=torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)


def test_alive_mask() -> None:
    ids = torch.tensor([[4, EOS_ID, 0, 0], [4, 5, 6, 7], [EOS_ID, 0, 0, 0]])
    assert alive_mask(ids).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]


@pytest.mark.parametrize("kind", KINDS)
def test_sample_soft_equals_teacher_forced_relaxation(kind: str) -> None:
    gen = tiny(kind)
    ids, noise = gen.sample_ids(6, generator=torch.Generator().manual_seed(4), keep_noise=True)
    ids2, soft = gen.sample_soft(6, beta=3.0, generator=torch.Generator().manual_seed(4))
    assert torch.equal(ids, ids2)
    with torch.no_grad():
        torch.testing.assert_close(soft, gen.relax(ids, noise, 3.0).soft)


@pytest.mark.parametrize("kind", KINDS)
def test_temperature_one_is_the_plain_sampler(kind: str) -> None:
    gen = tiny(kind).eval()
    a = gen.sample_ids(8, generator=torch.Generator().manual_seed(3))[0]
    b = gen.sample_ids(8, generator=torch.Generator().manual_seed(3), temperature=1.0)[0]
    assert torch.equal(a, b)
    torch.testing.assert_close(gen.log_prob(a, temperature=1.0), gen.log_prob(a))


@pytest.mark.parametrize("kind", KINDS)
def test_temperature_towards_zero_is_greedy(kind: str) -> None:
    gen = tiny(kind).eval()
    with torch.no_grad():
        for p in gen.parameters():  # spread the logits so the argmax is well separated
            p.mul_(4.0)
        ids = gen.sample_ids(8, generator=torch.Generator().manual_seed(5), temperature=1e-4)[0]
        alive = alive_mask(ids)
        # every sampled token is the argmax of the teacher-forced logits on its own prefix
        assert torch.equal(gen(ids).argmax(-1)[alive], ids[alive])
        assert torch.equal(ids, ids[:1].expand_as(ids))  # no randomness left: all rows equal
        with pytest.raises(ValueError, match="temperature"):
            gen.sample_ids(2, temperature=0.0)


def test_tempered_log_prob_is_log_softmax_of_scaled_logits() -> None:
    gen = tiny("lstm").eval()
    ids = gen.sample_ids(4, generator=torch.Generator().manual_seed(1))[0]
    alive = alive_mask(ids)
    logp = F.log_softmax(gen(ids) / 0.5, dim=-1).gather(-1, ids[..., None])[..., 0]
    torch.testing.assert_close(gen.log_prob(ids, temperature=0.5), (logp * alive).sum(1))


def test_relax_token_log_probs_sum_to_the_sentence_log_prob() -> None:
    gen = tiny("rmc")
    s = gen.sample(B, beta=2.0)
    summed = torch.zeros(B).index_add(0, s.token_rows, s.token_log_prob)
    torch.testing.assert_close(summed, s.log_prob)
    assert s.token_log_prob.shape == (int(alive_mask(s.ids).sum()),)


@pytest.mark.parametrize("kind", KINDS)
def test_relax_at_the_sampling_temperature_reproduces_a_cold_draw(kind: str) -> None:
    gen = tiny(kind).eval()
    ids, noise = gen.sample_ids(6, generator=torch.Generator().manual_seed(2), keep_noise=True, temperature=0.5)
    with torch.no_grad():
        s = gen.relax(ids, noise, 1e4, 0.5)  # beta -> infinity: the soft rows become the draw's argmax
        alive = alive_mask(ids)
        assert torch.equal(s.soft.argmax(-1)[alive], ids[alive])
        # the soft rows relax the tempered draw, the log-likelihood stays the model's own
        torch.testing.assert_close(s.log_prob, gen.log_prob(ids))
        plain = gen.relax(ids, noise, 3.0)
        assert not torch.allclose(plain.soft, gen.relax(ids, noise, 3.0, 0.5).soft)
