"""Autoregressive generators behind one interface: RMC, LSTM, GPT-2-style, and any Hugging Face causal LM.

Shape letters: B batch, T tokens (max_len), V vocabulary, E embedding, H hidden,
S memory slots, D memory width (heads x head size).

Every generator predicts token t from ``<bos>, y_1 .. y_{t-1}``. Sampling runs the
cheap incremental loop without autograd to pick hard tokens (and keeps their
Gumbel noise); the differentiable soft rows then come from one teacher-forced pass
over those tokens with the same noise. While the weights are unchanged this equals
free-running Gumbel-softmax sampling, since the next input is the hard token, and
it is exactly what the PPO-style generator phase needs (PAPER.md, "Generator step").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from textgan.config import GeneratorConfig
from textgan.data.vocab import BOS_ID, EOS_ID, HF_MODEL_DIR, PAD_ID
from textgan.models.gumbel import gumbel_noise, gumbel_softmax, hard_tokens

BANNED_LOGIT = -1e4  # finite, so log-softmax and beta scaling never produce NaN


class Sample(NamedTuple):
    """A batch drawn from a generator.

    Attributes:
        ids: LongTensor (B, T) hard tokens; ``<pad>`` after ``<eos>``.
        soft: (B, T, V) Gumbel-softmax rows (one-hot ``<pad>`` after ``<eos>``), differentiable.
        logits: (B, T, V) teacher-forced logits on ``ids``, differentiable (only alive
            positions are computed; the rest hold masked zeros).
        noise: (B, T, V) the Gumbel noise that chose ``ids``.
        log_prob: (B,) teacher-forced log-likelihood of ``ids`` up to ``<eos>``, differentiable.
        token_log_prob: (N,) the same per alive token, row-major over the alive mask
            (for the token-level ratio); ``token_rows`` (N,) is each token's sentence.
    """

    ids: torch.Tensor
    soft: torch.Tensor
    logits: torch.Tensor
    noise: torch.Tensor
    log_prob: torch.Tensor
    token_log_prob: torch.Tensor | None = None
    token_rows: torch.Tensor | None = None


def alive_mask(ids: torch.Tensor) -> torch.Tensor:
    """(B, T) bool: positions up to and including the first ``<eos>``."""
    ended = (ids == EOS_ID).long().cumsum(dim=1)  # (B, T)
    return (ended - (ids == EOS_ID).long()) == 0


class Generator(nn.Module):
    """Base class: masking of banned tokens, sampling, log-likelihood.

    Subclasses implement ``_logits(inputs)`` (teacher-forced) and
    ``_init_state`` / ``_step`` (incremental).

    Args:
        vocab_size: V.
        max_len: T, tokens per sequence.
        banned_ids: token ids never generated (specials absent from training targets).
    """

    def __init__(
        self, vocab_size: int, max_len: int, banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID)
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.max_len = max_len
        mask = torch.zeros(vocab_size, dtype=torch.bool)
        mask[list(banned_ids)] = True
        self.register_buffer("banned", mask, persistent=True)

    # -- subclass hooks -------------------------------------------------------
    def _features(self, inputs: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Teacher-forced features (B, T, F) of input tokens (B, T)."""
        raise NotImplementedError

    def _head(self, features: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Features (..., F) to unmasked logits (..., V)."""
        raise NotImplementedError

    def _init_state(self, batch_size: int, device: torch.device) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, tok: torch.Tensor, state: Any, pos: int) -> tuple[torch.Tensor, Any]:  # pragma: no cover
        """One incremental step: input tokens (B,) -> unmasked logits (B, V) and the new state."""
        raise NotImplementedError

    # -- shared API -------------------------------------------------------------
    def _mask(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.masked_fill(self.banned, BANNED_LOGIT)

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forced features (B, T, F): position t has seen ``<bos>, ids[:, :t]``."""
        bos = torch.full_like(ids[:, :1], BOS_ID)
        return self._features(torch.cat([bos, ids[:, :-1]], dim=1))  # inputs (B, T)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Masked logits (..., V) of features (..., F), fp32 (also under ``--precision bf16``)."""
        return self._mask(self._head(features).float())

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits for MLE.

        Args:
            ids: LongTensor (B, T) target tokens.

        Returns:
            (B, T, V) logits; position t predicts ``ids[:, t]``.
        """
        return self.head(self.features(ids))

    def token_log_probs(self, ids: torch.Tensor, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of the alive tokens only (padding is never computed).

        The batch is cut to its longest alive prefix, and the output layer (the
        largest matmul) runs on alive positions only.

        Args:
            ids: LongTensor (B, T).
            temperature: T > 0 of the tempered model ``softmax(logits / T)``.

        Returns:
            (N,) log p of each alive token and the (B, T) alive mask that selects them.
        """
        alive = alive_mask(ids)
        feats = self.packed_features(ids, alive)  # (N, F)
        logits = self.head(feats)  # (N, V)
        logp = F.log_softmax(logits if temperature == 1.0 else logits / temperature, dim=-1)
        return logp.gather(-1, ids[alive][:, None])[:, 0], alive

    def packed_features(self, ids: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
        """Teacher-forced features of the alive positions, (N, F) in row-major order of ``alive``.

        The default cuts the batch to its longest alive prefix; recurrent
        generators override it to skip finished sequences step by step.
        """
        length = int(alive.sum(dim=1).max()) if ids.numel() else 0
        return self.features(ids[:, :length])[alive[:, :length]]

    def log_prob(self, ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Teacher-forced log-likelihood of each sequence, up to and including ``<eos>``.

        Args:
            ids: LongTensor (B, T).
            temperature: T > 0 of the tempered model ``softmax(logits / T)``.

        Returns:
            (B,) sum over alive positions of ``log_softmax(logits / T)[y_t]``.
        """
        token_logp, alive = self.token_log_probs(ids, temperature)
        rows = torch.arange(ids.shape[0], device=ids.device)[:, None].expand_as(alive)[alive]  # (N,)
        return torch.zeros(ids.shape[0], dtype=token_logp.dtype, device=ids.device).index_add(0, rows, token_logp)

    @torch.no_grad()
    def sample_ids(
        self,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        keep_noise: bool = False,
        temperature: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw hard tokens with the incremental loop (no autograd).

        Args:
            batch_size: B.
            generator: optional ``torch.Generator`` for the noise.
            keep_noise: also return the noise.
            temperature: T > 0: sample from ``softmax(logits / T)`` (T = 1: the model;
                T -> 0: greedy argmax). The noise returned is the noise added to ``logits / T``.

        Returns:
            LongTensor (B, T) ids (``<pad>`` after ``<eos>``) and, with ``keep_noise``,
            the (B, T, V) Gumbel noise that chose them.
        """
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
        ids, noise, _ = self._sample_loop(batch_size, generator, keep_noise, None, temperature)
        return ids, noise

    @torch.no_grad()
    def sample_soft(
        self,
        batch_size: int,
        *,
        beta: float,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard ids (B, T) and Gumbel-softmax rows (B, T, V) without gradient, in one pass.

        For critic updates, which need no generator gradient: the rows are computed
        inside the sampling loop, so no second (teacher-forced) pass is needed.
        """
        ids, _, soft = self._sample_loop(batch_size, generator, False, beta)
        return ids, soft  # type: ignore[return-value]

    def _sample_loop(
        self,
        batch_size: int,
        generator: torch.Generator | None,
        keep_noise: bool,
        beta: float | None,
        temperature: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        device = self.banned.device
        state = self._init_state(batch_size, device)
        tok = torch.full((batch_size,), BOS_ID, dtype=torch.long, device=device)
        done = torch.zeros(batch_size, dtype=torch.bool, device=device)
        ids = torch.full((batch_size, self.max_len), PAD_ID, dtype=torch.long, device=device)
        noise = torch.empty(batch_size, self.max_len, self.vocab_size, device=device) if keep_noise else None
        soft = None
        if beta is not None:  # rows after <eos> stay one-hot <pad>
            soft = torch.zeros(batch_size, self.max_len, self.vocab_size, device=device)
            soft[:, :, PAD_ID] = 1.0
        for t in range(self.max_len):
            logits, state = self._step(tok, state, t)  # (B, V)
            logits = self._mask(logits.float())  # softmax / Gumbel in fp32 under --precision bf16 too
            if temperature != 1.0:
                logits = logits / temperature
            g = gumbel_noise(logits.shape, device=device, dtype=logits.dtype, generator=generator)
            tok = hard_tokens(logits, g).masked_fill(done, PAD_ID)
            if soft is not None:
                soft[:, t] = torch.where(done[:, None], soft[:, t], gumbel_softmax(logits, g, beta))
            done |= tok == EOS_ID
            ids[:, t] = tok
            if noise is not None:
                noise[:, t] = g
            if bool(done.all()) and t + 1 < self.max_len:  # the rest is padding
                if noise is not None:
                    noise[:, t + 1 :] = gumbel_noise(noise[:, t + 1 :].shape, device=device, generator=generator)
                break
        return ids, noise, soft

    def sample(self, batch_size: int, *, beta: float, generator: torch.Generator | None = None) -> Sample:
        """Draw a differentiable batch (hard ids plus Gumbel-softmax rows).

        Args:
            batch_size: B.
            beta: inverse temperature of the soft rows.
            generator: optional ``torch.Generator`` for the noise.
        """
        ids, noise = self.sample_ids(batch_size, generator=generator, keep_noise=True)
        return self.relax(ids, noise, beta)

    def relax(self, ids: torch.Tensor, noise: torch.Tensor, beta: float, temperature: float = 1.0) -> Sample:
        """Soft rows of given hard tokens and their noise, teacher-forced (differentiable).

        With the weights that drew ``ids``, ``argmax(logits / temperature + noise) == ids``
        (``temperature``: the one ``sample_ids`` drew them at). The soft rows relax that
        tempered draw; ``log_prob`` is always the model's own (T = 1).
        """
        alive = alive_mask(ids)
        rows, cols = alive.nonzero(as_tuple=True)  # row-major, the order of packed_features
        # Only alive positions are computed (finished sequences drop out of the recurrence).
        logits_alive = self.head(self.packed_features(ids, alive))  # (N, V)
        soft, log_prob, token_logp = relax_alive(ids, noise, beta, rows, cols, logits_alive, temperature)
        logits = self._mask(torch.zeros_like(soft)).index_put((rows, cols), logits_alive)
        return Sample(ids, soft, logits, noise, log_prob, token_logp, rows)


def relax_alive(
    ids: torch.Tensor,
    noise: torch.Tensor,
    beta: float,
    rows: torch.Tensor,
    cols: torch.Tensor,
    logits_alive: torch.Tensor,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Soft rows and log-likelihood from logits computed only at the alive positions.

    Args:
        ids: (B, T) hard tokens; noise: (B, T, V) their Gumbel noise; beta: inverse temperature.
        rows, cols: (N,) the positions up to and including ``<eos>``, row-major.
        logits_alive: (N, V) the (masked) logits at those positions, in that order.
        temperature: the sampling temperature the noise was added at (``logits / T + noise``);
            it shapes the soft rows only, the log-likelihood is the model's (T = 1).

    Returns:
        soft rows (B, T, V), one-hot ``<pad>`` after ``<eos>``, the (B,) log-likelihood of ids,
        and the (N,) log-likelihood of each alive token.
    """
    b, t, v = noise.shape
    tempered = logits_alive if temperature == 1.0 else logits_alive / temperature
    soft_alive = gumbel_softmax(tempered, noise[rows, cols], beta)  # (N, V)
    soft = soft_alive.new_zeros(b, t, v)
    soft[..., PAD_ID] = 1.0
    soft = soft.index_put((rows, cols), soft_alive)
    token_logp = F.log_softmax(logits_alive, dim=-1).gather(-1, ids[rows, cols][:, None])[:, 0]  # (N,)
    return soft, token_logp.new_zeros(b).index_add(0, rows, token_logp), token_logp


_CPU_BF16_LSTM: dict[str, bool] = {}  # "ok": whether oneDNN ran an LSTM under CPU bf16 autocast here


def run_lstm(lstm: nn.LSTM, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
    """``lstm(x, state)``, also under ``--precision bf16`` on CPUs whose oneDNN has no bf16 LSTM
    (AVX2-only machines: "could not create a primitive descriptor"): there the LSTM alone runs in
    fp32, found out once per process, and the rest of the forward pass stays in bf16."""
    if x.device.type != "cpu" or not torch.is_autocast_enabled("cpu"):
        return lstm(x, state)
    if _CPU_BF16_LSTM.get("ok", True):
        try:
            out = lstm(x, state)
            _CPU_BF16_LSTM["ok"] = True
            return out
        except RuntimeError as exc:
            if "primitive" not in str(exc):
                raise
            _CPU_BF16_LSTM["ok"] = False
    with torch.autocast("cpu", enabled=False):
        return lstm(x.float(), None if state is None else tuple(s.float() for s in state))


class LSTMGenerator(Generator):
    """LSTM language model (the SeqGAN/LeakGAN baseline architecture)."""

    def __init__(
        self,
        cfg: GeneratorConfig,
        vocab_size: int,
        max_len: int,
        banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID),
    ) -> None:
        super().__init__(vocab_size, max_len, banned_ids)
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim)
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.hidden_dim, batch_first=True)
        self.out = nn.Linear(cfg.hidden_dim, vocab_size)

    def _features(self, inputs: torch.Tensor) -> torch.Tensor:
        return run_lstm(self.lstm, self.embed(inputs))[0]  # (B, T, H)

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(features)

    def _init_state(self, batch_size: int, device: torch.device) -> Any:
        return None

    def _step(self, tok: torch.Tensor, state: Any, pos: int) -> tuple[torch.Tensor, Any]:
        hidden, state = run_lstm(self.lstm, self.embed(tok)[:, None, :], state)  # (B, 1, H)
        return self.out(hidden[:, 0]), state


class RelationalMemory(nn.Module):
    """Relational memory core (Santoro et al. 2018) as used by RelGAN's generator.

    The memory (B, S, D) attends over itself plus the projected input row, then a
    row-wise MLP, then LSTM-style input/forget gating. Only memory rows become the
    next memory, so queries are taken from them alone; the input row's keys,
    values and gate terms depend only on the input and are computed for all steps
    at once by ``project_inputs``.

    Args:
        input_size: E.
        mem_slots: S.
        num_heads: attention heads.
        head_size: width per head; D = num_heads * head_size.
    """

    def __init__(self, input_size: int, mem_slots: int, num_heads: int, head_size: int) -> None:
        super().__init__()
        self.mem_slots, self.num_heads, self.head_size = mem_slots, num_heads, head_size
        d = num_heads * head_size
        self.mem_size = d
        self.input_proj = nn.Linear(input_size, d)
        self.qkv = nn.Linear(d, 3 * d)
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        self.norm_attn = nn.LayerNorm(d)
        self.norm_mlp = nn.LayerNorm(d)
        self.gate_input = nn.Linear(d, 2 * d)
        self.gate_memory = nn.Linear(d, 2 * d)
        self.forget_bias, self.input_bias = 1.0, 0.0

    def initial_memory(self, batch_size: int, device: torch.device) -> torch.Tensor:
        """Identity-initialised memory (B, S, D), as in the RMC paper."""
        eye = torch.eye(self.mem_slots, self.mem_size, device=device)  # (S, D)
        return eye.expand(batch_size, -1, -1).contiguous()

    def project_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input-side terms for any leading shape: (..., E) -> key, value (..., D), gate (..., 2D)."""
        row = self.input_proj(x)  # (..., D)
        d = self.mem_size
        w, b = self.qkv.weight[d:], self.qkv.bias[d:]  # key and value rows only
        key, value = F.linear(row, w, b).split(d, dim=-1)
        return key, value, self.gate_input(row)

    def step(
        self, memory: torch.Tensor, key_in: torch.Tensor, value_in: torch.Tensor, gate_in: torch.Tensor
    ) -> torch.Tensor:
        """One update: memory (B, S, D) and one step's input terms (B, D), (B, D), (B, 2D) -> memory."""
        b, s, d = memory.shape
        h, hs = self.num_heads, self.head_size
        q, k, v = self.qkv(memory).split(d, dim=-1)  # (B, S, D) each
        k = torch.cat([k, key_in[:, None]], dim=1)  # (B, S+1, D)
        v = torch.cat([v, value_in[:, None]], dim=1)  # (B, S+1, D)
        q = q.view(b, s, h, hs).transpose(1, 2)  # (B, h, S, hs)
        k = k.view(b, s + 1, h, hs).transpose(1, 2)  # (B, h, S+1, hs)
        v = v.view(b, s + 1, h, hs).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hs), dim=-1) @ v  # (B, h, S, hs)
        att = att.transpose(1, 2).reshape(b, s, d)  # (B, S, D)
        hid = self.norm_attn(memory + att)
        hid = self.norm_mlp(hid + self.mlp(hid))
        gates = self.gate_memory(torch.tanh(memory)) + gate_in[:, None]  # (B, S, 2D)
        gate_i, gate_f = gates.split(d, dim=-1)
        gate_i = torch.sigmoid(gate_i + self.input_bias)
        gate_f = torch.sigmoid(gate_f + self.forget_bias)
        return gate_i * torch.tanh(hid) + gate_f * memory


class RMCGenerator(Generator):
    """RelGAN's generator: embedding, relational memory core, linear output over the flat memory."""

    def __init__(
        self,
        cfg: GeneratorConfig,
        vocab_size: int,
        max_len: int,
        banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID),
    ) -> None:
        super().__init__(vocab_size, max_len, banned_ids)
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim)
        self.core = RelationalMemory(cfg.embed_dim, cfg.mem_slots, cfg.num_heads, cfg.head_size)
        self.out = nn.Linear(cfg.mem_slots * self.core.mem_size, vocab_size)

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(features)

    def _features(self, inputs: torch.Tensor) -> torch.Tensor:
        b, t = inputs.shape
        keys, values, gates = self.core.project_inputs(self.embed(inputs))  # (B, T, D), (B, T, D), (B, T, 2D)
        memory = self.core.initial_memory(b, inputs.device)
        states = []
        # unbind: one backward op, where indexing per step would allocate a zero (B, T, D) gradient each step
        for key, value, gate in zip(keys.unbind(1), values.unbind(1), gates.unbind(1), strict=True):
            memory = self.core.step(memory, key, value, gate)
            states.append(memory.reshape(b, -1))
        return torch.stack(states, dim=1)  # (B, T, S*D)

    def packed_features(self, ids: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
        """Like the default, but each step only updates the sequences still alive.

        Rows are sorted by length (longest first), so the alive rows at step t are a
        prefix of size n_t and the memory simply shrinks; the work is proportional to
        the number of alive tokens N instead of B x T.
        """
        b = ids.shape[0]
        lengths = alive.sum(dim=1)  # (B,)
        order = torch.argsort(lengths, descending=True, stable=True)  # (B,)
        sorted_len = lengths[order]
        steps = int(sorted_len[0]) if b else 0
        counts = [int(n) for n in (sorted_len[None, :] > torch.arange(steps, device=ids.device)[:, None]).sum(dim=1)]
        bos = torch.full_like(ids[:, :1], BOS_ID)
        inputs = torch.cat([bos, ids[:, :-1]], dim=1)[order]  # (B, T) sorted rows
        t_idx = torch.cat([torch.full((n,), t, device=ids.device, dtype=torch.long) for t, n in enumerate(counts)])
        r_idx = torch.cat([torch.arange(n, device=ids.device) for n in counts])  # sorted row of each packed token
        keys, values, gates = self.core.project_inputs(self.embed(inputs[r_idx, t_idx]))  # (N, D), (N, D), (N, 2D)
        memory = self.core.initial_memory(b, ids.device)
        outs = []
        for key, value, gate, n in zip(
            keys.split(counts), values.split(counts), gates.split(counts), counts, strict=True
        ):
            memory = self.core.step(memory[:n], key, value, gate)  # (n, S, D)
            outs.append(memory.reshape(n, -1))
        packed = torch.cat(outs)  # (N, S*D), time-major over sorted rows
        # Row-major position of each packed token in the alive mask: offset of its row + t.
        offsets = torch.cumsum(lengths, 0) - lengths  # (B,)
        dest = offsets[order][r_idx] + t_idx  # (N,)
        src = torch.empty_like(dest)
        src[dest] = torch.arange(len(dest), device=ids.device)
        return packed[src]

    def _init_state(self, batch_size: int, device: torch.device) -> Any:
        return self.core.initial_memory(batch_size, device)

    def _step(self, tok: torch.Tensor, state: Any, pos: int) -> tuple[torch.Tensor, Any]:
        memory = self.core.step(state, *self.core.project_inputs(self.embed(tok)))
        return self.out(memory.reshape(memory.shape[0], -1)), memory


class GPT2Generator(Generator):
    """A small GPT-2-style Transformer from ``transformers``, trained from scratch.

    Width is ``num_heads * head_size``; ``num_layers`` blocks; no dropout (so that
    ``log_prob`` is deterministic, as the exact probability ratio needs). Sampling
    uses the model's key/value cache.
    """

    def __init__(
        self,
        cfg: GeneratorConfig,
        vocab_size: int,
        max_len: int,
        banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID),
    ) -> None:
        super().__init__(vocab_size, max_len, banned_ids)
        from transformers import GPT2Config, GPT2LMHeadModel

        hf_cfg = GPT2Config(
            vocab_size=vocab_size,
            n_positions=max_len + 1,
            n_embd=cfg.num_heads * cfg.head_size,
            n_layer=cfg.num_layers,
            n_head=cfg.num_heads,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            bos_token_id=BOS_ID,
            eos_token_id=EOS_ID,
        )
        self.hf_config = hf_cfg
        self.model = GPT2LMHeadModel(hf_cfg)

    def _features(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model.transformer(input_ids=inputs, use_cache=False).last_hidden_state  # (B, T, E)

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.lm_head(features)

    def _init_state(self, batch_size: int, device: torch.device) -> Any:
        from transformers import DynamicCache

        return DynamicCache(config=self.hf_config)

    def _step(self, tok: torch.Tensor, state: Any, pos: int) -> tuple[torch.Tensor, Any]:
        out = self.model(input_ids=tok[:, None], cache=state, use_cache=True)
        return out.logits[:, -1], out.cache


def hf_config(source: str | Any) -> Any:
    """The ``AutoConfig`` of a Hugging Face causal LM with every dropout set to 0 (the exact
    probability ratio needs a deterministic ``log_prob``)."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(str(source))
    for name, value in list(vars(cfg).items()):
        if isinstance(value, float) and ("dropout" in name or "pdrop" in name):
            setattr(cfg, name, 0.0)
    return cfg


class HFGenerator(Generator):
    """A Hugging Face causal LM (any ``AutoModelForCausalLM``) behind the generator interface.

    textgan ids are mapped to the model's own ids by the persistent buffer ``to_hf`` (V,)
    (``data.vocab.hf_vocab``: the four specials to the tokenizer's, the rest one to one), so the
    critic, the losses and the frontier see the model's vocabulary in textgan's id layout: inputs
    go through ``to_hf`` and the logits are the model's columns ``to_hf``. Built from the model's
    config (random weights): ``load_pretrained`` puts the pretrained ones in, a run's
    ``generator.safetensors`` the trained ones.

    Args:
        config_dir: directory (or hub name) of the model's config.
        to_hf: the model id of each textgan id.
    """

    def __init__(
        self,
        cfg: GeneratorConfig,
        vocab_size: int,
        max_len: int,
        banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID),
        config_dir: str | Any = None,
        to_hf: list[int] | None = None,
    ) -> None:
        super().__init__(vocab_size, max_len, banned_ids)
        from transformers import AutoModelForCausalLM

        self.hf_config = hf_config(config_dir if config_dir is not None else cfg.hf_model)
        self.model = AutoModelForCausalLM.from_config(self.hf_config)
        positions = next(
            (
                getattr(self.hf_config, k)
                for k in ("n_positions", "max_position_embeddings")
                if hasattr(self.hf_config, k)
            ),
            None,
        )
        if positions is not None and max_len > positions:
            raise ValueError(f"--hf-model: sentences of {max_len} tokens exceed the model's {positions} positions")
        index = torch.zeros(vocab_size, dtype=torch.long) if to_hf is None else torch.tensor(to_hf, dtype=torch.long)
        if index.shape != (vocab_size,):
            raise ValueError(f"HFGenerator: {index.numel()} model ids for a vocabulary of {vocab_size}")
        n_out = self.model.get_output_embeddings().weight.shape[0]
        if int(index.max()) >= n_out:
            raise ValueError(f"--hf-model: the tokenizer has ids up to {int(index.max())}, the model {n_out} outputs")
        self.register_buffer("to_hf", index, persistent=True)

    def load_pretrained(self, source: str) -> None:
        """Replace the random weights with the pretrained ones of ``source`` (a directory or hub name)."""
        from transformers import AutoModelForCausalLM

        pretrained = AutoModelForCausalLM.from_pretrained(source, config=self.hf_config)
        self.model.load_state_dict(pretrained.state_dict())

    def _features(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model.base_model(input_ids=self.to_hf[inputs], use_cache=False).last_hidden_state

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.get_output_embeddings()(features).index_select(-1, self.to_hf)

    def _init_state(self, batch_size: int, device: torch.device) -> Any:
        from transformers import DynamicCache

        return DynamicCache(config=self.hf_config)

    def _step(self, tok: torch.Tensor, state: Any, pos: int) -> tuple[torch.Tensor, Any]:
        out = self.model(input_ids=self.to_hf[tok][:, None], cache=state, use_cache=True)
        return out.logits[:, -1].index_select(-1, self.to_hf), out.cache


@torch.no_grad()
def generate_ids(
    generator: Generator,
    n: int,
    generator_rng: torch.Generator,
    batch_size: int = 500,
    temperature: float = 1.0,
) -> torch.Tensor:
    """``n`` sampled sequences, LongTensor (n, T), drawn in batches from ``softmax(logits / temperature)``."""
    was_training = generator.training
    generator.eval()
    out = [
        generator.sample_ids(min(batch_size, n - i), generator=generator_rng, temperature=temperature)[0]
        for i in range(0, n, batch_size)
    ]
    generator.train(was_training)
    return torch.cat(out).cpu()


GENERATORS: dict[str, type[Generator]] = {
    "rmc": RMCGenerator,
    "lstm": LSTMGenerator,
    "gpt2": GPT2Generator,
    "hf": HFGenerator,
}


def build_generator(
    cfg: GeneratorConfig,
    vocab_size: int,
    max_len: int,
    banned_ids: list[int] | tuple[int, ...] = (PAD_ID, BOS_ID),
    run_dir: Any = None,
    to_hf: list[int] | None = None,
) -> Generator:
    """The generator named by ``cfg.generator`` (random weights). ``--generator hf`` reads the
    model's config from ``run_dir/hf-model`` when given (a run's own copy), else from ``cfg.hf_model``,
    and maps textgan ids to the model's by ``to_hf`` (or by the run's weights, which hold the map)."""
    if cfg.generator == "hf":
        config_dir = None if run_dir is None else Path(run_dir) / HF_MODEL_DIR
        return HFGenerator(cfg, vocab_size, max_len, banned_ids, config_dir, to_hf)
    return GENERATORS[cfg.generator](cfg, vocab_size, max_len, banned_ids)
