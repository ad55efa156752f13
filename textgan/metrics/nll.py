"""Negative log-likelihoods: NLL_gen (generator on real text) and NLL_oracle.

Both are **per token**, in nats: the sum of ``-log p(y_t)`` over every real token
plus the closing ``<eos>`` (padding excluded), divided by the number of such tokens.
Texygen and RelGAN compute NLL_gen on the *training* data (and over padded
fixed-length rows); textgan reports it on the held-out *test* split, which measures
generalisation rather than memorisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from textgan.data.oracle import OracleLSTM
from textgan.data.vocab import Tokenizer, Vocab
from textgan.models.generators import Generator, alive_mask


@torch.no_grad()
def nll_gen(
    model: Generator | str | Path,
    sentences: torch.Tensor | Sequence[str] | Sequence[Sequence[str]],
    *,
    vocab: Vocab | None = None,
    tokenizer: Tokenizer | None = None,
    batch_size: int = 256,
    temperature: float = 1.0,
) -> float:
    """Mean per-token NLL (nats) of a generator on text.

    Args:
        model: a textgan generator, or the path of a run directory (its latest generator,
            vocabulary and tokenizer are loaded).
        sentences: LongTensor (N, T) of encoded sentences, or text lines, or token lists.
        vocab, tokenizer: needed for text input when ``model`` is a generator object.
        batch_size: sentences per forward pass.
        temperature: score under the tempered model ``softmax(logits / T)`` (1: the model itself).

    Returns:
        NLL per token: real tokens plus the closing ``<eos>``, padding excluded.

    Raises:
        ValueError: text input without a vocabulary, or no sentences.
    """
    if not isinstance(model, Generator):
        from textgan.runs import load_lm_run

        model, vocab, tokenizer, _ = load_lm_run(model)
    if not isinstance(sentences, torch.Tensor):
        if vocab is None:
            raise ValueError("nll_gen: text input needs the generator's vocabulary (pass vocab=, or a run dir)")
        toks = [
            tokenizer.tokenize(s) if isinstance(s, str) and tokenizer else s.split() if isinstance(s, str) else list(s)
            for s in sentences
        ]
        sentences, _ = vocab.encode_batch(toks, model.max_len)
    if sentences.shape[0] == 0:
        raise ValueError("nll_gen: no sentences")
    generator = model
    was_training = generator.training
    generator.eval()
    device = generator.banned.device
    total, tokens = 0.0, 0
    for start in range(0, sentences.shape[0], batch_size):
        batch = sentences[start : start + batch_size].to(device)
        total -= generator.log_prob(batch, temperature).sum().item()
        tokens += int(alive_mask(batch).sum().item())
    generator.train(was_training)
    return total / max(tokens, 1)


@torch.no_grad()
def nll_oracle(oracle: OracleLSTM, oracle_ids: torch.Tensor) -> float:
    """Mean per-token NLL (nats) of generated oracle-id sentences (N, T) under the oracle."""
    return oracle.nll(oracle_ids.cpu())
