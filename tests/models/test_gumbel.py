from __future__ import annotations

import pytest
import torch

from textgan.models.gumbel import beta_at, gumbel_noise, gumbel_softmax, hard_tokens


def test_hard_straight_through_is_one_hot_with_gradient() -> None:
    logits = torch.randn(3, 5, 7, requires_grad=True)
    noise = gumbel_noise((3, 5, 7), device=torch.device("cpu"))
    rows = gumbel_softmax(logits, noise, beta=2.0, hard=True)
    one_hot = torch.nn.functional.one_hot(hard_tokens(logits, noise), 7).float()
    torch.testing.assert_close(rows, one_hot)  # exact up to the rounding of soft - soft
    (rows * torch.randn_like(rows)).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_soft_rows_sum_to_one_and_sharpen_with_beta() -> None:
    logits, noise = torch.randn(4, 9), gumbel_noise((4, 9), device=torch.device("cpu"))
    low, high = gumbel_softmax(logits, noise, 1.0), gumbel_softmax(logits, noise, 1000.0)
    torch.testing.assert_close(low.sum(-1), torch.ones(4))
    assert torch.all(high.max(-1).values > low.max(-1).values)
    assert torch.equal(high.argmax(-1), hard_tokens(logits, noise))


def test_hard_tokens_follow_the_softmax_distribution() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.log(torch.tensor([0.7, 0.2, 0.1]))
    noise = gumbel_noise((20000, 3), device=torch.device("cpu"), generator=gen)
    freq = torch.bincount(hard_tokens(logits.expand(20000, 3), noise), minlength=3).float() / 20000
    torch.testing.assert_close(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.015, rtol=0)


@pytest.mark.parametrize("schedule", ["exp", "lin"])
def test_annealing_goes_from_one_to_beta_max(schedule: str) -> None:
    assert beta_at(0, 100, 1000.0, schedule) == pytest.approx(1.0)
    assert beta_at(100, 100, 1000.0, schedule) == pytest.approx(1000.0)
    values = [beta_at(n, 100, 1000.0, schedule) for n in range(101)]
    assert values == sorted(values)
    assert beta_at(50, 100, 100.0, "exp") == pytest.approx(10.0)


def test_constant_schedule_and_unknown_schedule() -> None:
    assert beta_at(0, 10, 7.0, "none") == 7.0
    with pytest.raises(ValueError, match="beta-schedule"):
        beta_at(1, 10, 7.0, "cosine")
