"""Style-transfer encoder/decoder in the line of Hu et al. 2017 (as used by the paper).

Shape letters: B batch, S source tokens, T target tokens, V vocabulary, E embedding,
H hidden (content code), C styles.

A GRU encoder reads the source; its final state is the content code z. A learned
style embedding c and z initialise an attention GRU decoder (Luong "general"
attention over the encoder states; the previous context is fed with each input
token). As in Luong et al. 2015 the output layer reads the attentional vector
``tanh(W [h; ctx])`` of embedding size E, and its weights are the (tied) token
embeddings: the V-way layer then costs E instead of 2H multiply-adds per class,
and teacher-forced passes apply it once, only at positions up to ``<eos>``. The decoder shares its sampling machinery with the unconditional generators:
hard tokens ``argmax(o + g)`` and soft rows ``softmax(beta (o + g))``
(``models/gumbel.py``), the teacher-forced relaxation on given tokens and noise
(``relax``) for the PPO-style generator phase, and ``log_prob`` for the exact ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from textgan.config import StyleModelConfig
from textgan.data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from textgan.models.generators import BANNED_LOGIT, Sample, alive_mask, relax_alive
from textgan.models.gumbel import gumbel_noise, gumbel_softmax, hard_tokens


def drop_words(ids: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Denoising input: each word of ids (B, T) dropped with probability ``p``, the rest shifted left.

    ``<eos>`` and padding are kept in place of the dropped words; a row keeps at least its
    first word, so no encoder input is empty. ``p = 0`` returns ``ids`` itself.
    """
    if p <= 0:
        return ids
    words = (ids != PAD_ID) & (ids != EOS_ID)
    u = torch.rand(ids.shape, generator=generator).to(ids.device)
    first = torch.zeros_like(words)
    first[:, 0] = True
    keep = (ids != PAD_ID) & (~words | (u >= p) | first)
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices  # kept tokens first, in order
    out = ids.gather(1, order)
    return out.masked_fill(~keep.gather(1, order), PAD_ID)


def style_lexicon(ids: torch.Tensor, labels: torch.Tensor, vocab_size: int, gamma: float) -> torch.Tensor:
    """Each style's style words: bool (C, V), True where a token's count in the sentences ``ids``
    (N, T) of that style (``labels`` (N,)), plus 1, is at least ``gamma`` times its count in the other
    styles' sentences, plus 1 (Li et al. 2018's salience of unigrams). Special ids never."""
    styles = int(labels.max()) + 1 if labels.numel() else 2
    counts = torch.zeros(max(styles, 2), vocab_size, dtype=torch.float64)
    for s in range(counts.shape[0]):
        toks = ids[labels == s].flatten()
        counts[s] = torch.bincount(toks, minlength=vocab_size)[:vocab_size].double()
    other = counts.sum(0, keepdim=True) - counts
    lexicon = (counts + 1) >= gamma * (other + 1)
    lexicon[:, [PAD_ID, BOS_ID, EOS_ID, UNK_ID]] = False
    return lexicon


def mask_hint_table(
    vectors: torch.Tensor, known: torch.Tensor, lexicon: torch.Tensor, dim: int, clusters: int = 0
) -> torch.Tensor:
    """The ``--st-mask-hint`` table (V, dim): what the encoder reads, besides the mask, for each word it hides.

    Rows of ``vectors`` (V, D) (an LM's output embeddings, mapped to the style vocabulary) where
    ``known`` (V,) holds and the word is a style word of either style (``lexicon`` (2, V)): each
    unit-normalised, less its component along the direction from style 0's words' mean to style 1's
    (the one that tells the styles apart, so the hint says *which* word and the style embedding
    says *which way*), reduced to its top ``dim`` principal directions over those words (zero-padded
    when there are fewer), then unit-normalised again. With ``clusters`` K > 0 each of those rows
    is then replaced by the unit centroid of its cluster (spherical k-means over the style words,
    K at most their number, a fixed seed): the hint names a group of words of both styles (bad,
    great, tasty, ...), not the word, which the decoder could otherwise copy back. Every other row
    is zero.
    """
    rows = known & lexicon.any(dim=0)  # (V,)
    table = torch.zeros(vectors.shape[0], dim)
    if not bool(rows.any()):
        return table
    x = F.normalize(vectors.double(), dim=1)
    means = [x[known & lexicon[s]].mean(dim=0) for s in range(2) if bool((known & lexicon[s]).any())]
    if len(means) == 2 and float((means[1] - means[0]).norm()) > 0:
        d = F.normalize(means[1] - means[0], dim=0)
        x = x - (x @ d)[:, None] * d[None, :]
    words = x[rows]  # (N, D)
    _, _, vh = torch.linalg.svd(words - words.mean(dim=0), full_matrices=False)  # (min(N, D), D)
    k = min(dim, vh.shape[0])
    hints = F.normalize(words @ vh[:k].T, dim=1)  # (N, k)
    if clusters > 0:
        hints = spherical_kmeans(hints, clusters)
    table[rows, :k] = hints.float()
    return table


def spherical_kmeans(x: torch.Tensor, k: int, iters: int = 50, seed: int = 0) -> torch.Tensor:
    """Each unit row of ``x`` (N, D) replaced by the unit centroid of its cluster: k-means under
    cosine similarity, ``min(k, N)`` clusters, seeded with k-means++ from ``seed``."""
    n = x.shape[0]
    k = min(k, n)
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(n, (1,), generator=g)]
    while centres.shape[0] < k:  # k-means++: the next centre far (in cosine) from those so far
        far = (1 - (x @ centres.T).max(dim=1).values).clamp(min=0) + 1e-12  # (N,)
        centres = torch.cat([centres, x[torch.multinomial(far, 1, generator=g)]])
    for _ in range(iters):
        assign = (x @ centres.T).argmax(dim=1)  # (N,)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        alive = sums.norm(dim=1) > 0
        new = torch.where(alive[:, None], F.normalize(sums, dim=1), centres)
        if torch.equal(new, centres):
            break
        centres = new
    return centres[(x @ centres.T).argmax(dim=1)]


class Encoded(NamedTuple):
    """Encoder output: states (B, S, H), content code z (B, H), source mask (B, S) bool."""

    states: torch.Tensor
    z: torch.Tensor
    mask: torch.Tensor


def best_of_beams(score: torch.Tensor, b: int) -> torch.Tensor:
    """Row of the best of each input's ``k`` hypotheses, for ``score`` (B*k,) in input-major order."""
    k = score.shape[0] // b
    return score.view(b, k).argmax(dim=1) + torch.arange(b, device=score.device) * k


class StyleTransferModel(nn.Module):
    """Encoder, style embedding and attention decoder.

    Args:
        cfg: sizes.
        vocab_size: V.
        max_len: T, the longest output.
        num_styles: C.
    """

    def __init__(self, cfg: StyleModelConfig, vocab_size: int, max_len: int, num_styles: int = 2) -> None:
        super().__init__()
        e, h = cfg.st_embed_dim, cfg.st_hidden_dim
        self.vocab_size, self.max_len, self.hidden = vocab_size, max_len, h
        self.embed = nn.Embedding(vocab_size, e, padding_idx=PAD_ID)
        self.encoder = nn.GRU(e, h, batch_first=True)
        self.style = nn.Embedding(num_styles, cfg.st_style_dim)
        self.init = nn.Linear(h + cfg.st_style_dim, h)
        self.cell = nn.GRUCell(e + h, h)
        self.attn = nn.Linear(h, h, bias=False)
        self.combine = nn.Linear(2 * h, e)
        self.out_bias = nn.Parameter(torch.zeros(vocab_size))
        banned = torch.zeros(vocab_size, dtype=torch.bool)
        banned[[PAD_ID, BOS_ID]] = True
        self.register_buffer("banned", banned, persistent=True)
        self.style_mask = cfg.st_style_mask > 0
        # --st-style-mask: each style's words (set by the trainer) and the embedding that hides them
        if self.style_mask:
            if num_styles != 2:
                raise ValueError("--st-style-mask: two styles only (a transfer hides the other style's words)")
            self.register_buffer("lexicon", torch.zeros(num_styles, vocab_size, dtype=torch.bool), persistent=True)
            self.mask_embed = nn.Parameter(torch.zeros(e))
        # --st-mask-hint: which word each mask hides (a table set by the trainer), through a map that
        # starts at zero (the model starts as the plain masked one)
        self.mask_hint = self.style_mask and bool(cfg.st_mask_hint)
        if self.mask_hint:
            self.register_buffer("hint", torch.zeros(vocab_size, e), persistent=True)
            self.hint_proj = nn.Linear(e, e, bias=False)
            nn.init.zeros_(self.hint_proj.weight)

    # -- encoder -------------------------------------------------------------------------
    def encode(
        self, ids: torch.Tensor | None = None, soft: torch.Tensor | None = None, source: torch.Tensor | None = None
    ) -> Encoded:
        """Encode LongTensor ids (B, S) or soft rows (B, S, V) (the cycle term encodes soft transfers).

        With ``--st-style-mask``, ``source`` (B,) is the style of each input: its style words (for soft
        rows, those of their argmax) are read as ``mask_embed`` (plus, with ``--st-mask-hint``, the
        projection of the hidden word's row of ``hint``). Without ``source`` nothing is hidden.
        """
        if (ids is None) == (soft is None):
            raise ValueError("pass exactly one of ids (B, S) or soft (B, S, V)")
        if ids is not None:
            emb, hard = self.embed(ids), ids
        else:
            emb = soft @ self.embed.weight  # type: ignore[operator]
            hard = soft.argmax(-1)  # type: ignore[union-attr]
        alive = alive_mask(hard) & (hard != PAD_ID)
        if self.style_mask and source is not None:
            hidden = self.hidden_words(hard, source) & alive
            fill = self.mask_embed.to(emb.dtype)
            if self.mask_hint:
                fill = fill + self.hint_proj(self.hint[hard]).to(emb.dtype)  # (B, S, E)
            emb = torch.where(hidden[..., None], fill, emb)
        lengths = alive.sum(dim=1).clamp(min=1)  # (B,)
        packed = nn.utils.rnn.pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, last = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=emb.shape[1])  # (B, S, H)
        mask = torch.arange(emb.shape[1], device=emb.device)[None, :] < lengths[:, None]
        return Encoded(states, last[0], mask)

    def hidden_words(self, ids: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """bool (B, S): the tokens of ids (B, S) that ``encode`` hides, the style words of each row's
        ``source`` style (B,); all False without ``--st-style-mask``."""
        if not self.style_mask:
            return torch.zeros(ids.shape, dtype=torch.bool, device=ids.device)
        return self.lexicon[source[:, None].expand_as(ids), ids]

    def source_of(self, target: torch.Tensor) -> torch.Tensor:
        """The source style (B,) whose words a transfer into ``target`` (B,) hides: the other one."""
        return 1 - target

    # -- decoder -------------------------------------------------------------------------
    def _start(self, enc: Encoded, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.init(torch.cat([enc.z, self.style(style)], dim=-1)))  # (B, H)
        return h, torch.zeros_like(h)

    def _step(
        self,
        tok: torch.Tensor,
        h: torch.Tensor,
        ctx: torch.Tensor,
        enc: Encoded,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One decoder step: input tokens (B,) -> attentional vector (B, E), new state, new context."""
        h = self.cell(torch.cat([self.embed(tok), ctx], dim=-1), h)  # (B, H)
        scores = torch.einsum("bh,bsh->bs", self.attn(h), enc.states)  # (B, S)
        scores = scores.masked_fill(~enc.mask, float("-inf"))
        ctx = torch.einsum("bs,bsh->bh", torch.softmax(scores, dim=-1), enc.states)  # (B, H)
        return torch.tanh(self.combine(torch.cat([h, ctx], dim=-1))), h, ctx

    def logits_of(self, feats: torch.Tensor) -> torch.Tensor:
        """Masked logits (..., V) of attentional vectors (..., E) (tied output embedding); fp32, also
        under ``--precision bf16`` (the matmul in bf16, the softmaxes after it in fp32)."""
        bias = self.out_bias.masked_fill(self.banned, BANNED_LOGIT)  # (V,): the mask rides on the matmul's bias
        return F.linear(feats, self.embed.weight, bias).float()

    def features(self, enc: Encoded, style: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forced attentional vectors (B, T, E) before each target token of ids (B, T)."""
        h, ctx = self._start(enc, style)
        inputs = torch.cat([torch.full_like(ids[:, :1], BOS_ID), ids[:, :-1]], dim=1)  # (B, T)
        feats = []
        for tok in inputs.unbind(1):
            f, h, ctx = self._step(tok, h, ctx, enc)
            feats.append(f)
        return torch.stack(feats, dim=1)

    def forward(self, enc: Encoded, style: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T, V) of target ids (B, T) given the encoding and the target style (B,)."""
        return self.logits_of(self.features(enc, style, ids))

    def _alive_logits(self, enc: Encoded, style: torch.Tensor, ids: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (N, V) at the N positions where ``alive`` (B, T) holds."""
        return self.logits_of(self.features(enc, style, ids)[alive])

    def log_prob(self, enc: Encoded, style: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """(B,) teacher-forced log-likelihood of ids up to and including ``<eos>``."""
        alive = alive_mask(ids)
        logp = F.log_softmax(self._alive_logits(enc, style, ids, alive), dim=-1)  # (N, V)
        tok = logp.gather(-1, ids[alive][:, None])[:, 0]  # (N,)
        return torch.zeros(ids.shape, dtype=logp.dtype, device=ids.device).masked_scatter(alive, tok).sum(dim=1)

    def reconstruction_loss(self, ids: torch.Tensor, style: torch.Tensor, enc: Encoded | None = None) -> torch.Tensor:
        """Mean per-token NLL of rebuilding ``ids`` with their own style (padding ignored).

        ``enc`` (the encoding of ``ids``) is computed when not given (their own style's words hidden).
        """
        keep = ids != PAD_ID
        logits = self._alive_logits(self.encode(ids, source=style) if enc is None else enc, style, ids, keep)
        return F.cross_entropy(logits, ids[keep])

    @torch.no_grad()
    def sample_ids(
        self,
        enc: Encoded,
        style: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        keep_noise: bool = False,
        greedy: bool = False,
        no_repeat: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Free-running decoding (no autograd): Gumbel-max samples, or greedy with ``greedy``
        (``no_repeat``: never the previous token again, as in "excellent excellent").

        Returns:
            LongTensor (B, T) ids (``<pad>`` after ``<eos>``) and, with ``keep_noise``, the noise (B, T, V).
        """
        if greedy:
            return self._greedy(enc, style, no_repeat), None
        if no_repeat:
            raise ValueError("no_repeat: greedy decoding and beam search only")
        ids, noise, _ = self._decode(enc, style, generator, keep_noise, greedy, None)
        return ids, noise

    @torch.no_grad()
    def sample_soft(
        self, enc: Encoded, style: torch.Tensor, beta: float, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gumbel-max samples with their noise and soft rows, in one free-running pass (no autograd).

        The soft rows equal ``relax(enc, style, ids, noise, beta).soft`` (the critic's fakes)
        without a second, teacher-forced pass.

        Returns:
            ids (B, T), noise (B, T, V), soft rows (B, T, V) (one-hot ``<pad>`` after ``<eos>``).
        """
        ids, noise, soft = self._decode(enc, style, generator, True, False, beta)
        return ids, noise, soft  # type: ignore[return-value]

    def _decode(
        self,
        enc: Encoded,
        style: torch.Tensor,
        generator: torch.Generator | None,
        keep_noise: bool,
        greedy: bool,
        beta: float | None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        b, device = style.shape[0], style.device
        h, ctx = self._start(enc, style)
        tok = torch.full((b,), BOS_ID, dtype=torch.long, device=device)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        ids = torch.full((b, self.max_len), PAD_ID, dtype=torch.long, device=device)
        noise = soft = None
        if keep_noise and not greedy:  # drawn in one call: no per-step copies
            noise = gumbel_noise((b, self.max_len, self.vocab_size), device=device, generator=generator)
        if beta is not None:
            soft = torch.zeros(b, self.max_len, self.vocab_size, device=device)
            soft[..., PAD_ID] = 1.0
        for t in range(self.max_len):
            feats, h, ctx = self._step(tok, h, ctx, enc)
            logits = self.logits_of(feats)
            if greedy:
                tok = logits.argmax(dim=-1)
            else:
                if noise is not None:
                    g = noise[:, t]
                else:
                    g = gumbel_noise(logits.shape, device=device, dtype=logits.dtype, generator=generator)
                tok = hard_tokens(logits, g)
                if soft is not None:
                    live = (~done).nonzero().squeeze(1)
                    soft[live, t] = gumbel_softmax(logits[live], g[live], beta)  # type: ignore[arg-type]
            tok = tok.masked_fill(done, PAD_ID)
            ids[:, t] = tok
            done |= tok == EOS_ID
            if bool(done.all()):
                break
        return ids, noise, soft

    def _greedy(self, enc: Encoded, style: torch.Tensor, no_repeat: bool = False) -> torch.Tensor:
        """Greedy decoding where finished sentences leave the batch: each step runs the decoder
        and the V-way output layer on the unfinished rows only (the same ids as ``_decode``);
        ``no_repeat`` bans each row's previous token."""
        b, device = style.shape[0], style.device
        h, ctx = self._start(enc, style)
        tok = torch.full((b,), BOS_ID, dtype=torch.long, device=device)
        ids = torch.full((b, self.max_len), PAD_ID, dtype=torch.long, device=device)
        rows = torch.arange(b, device=device)  # the batch rows still decoding
        for t in range(self.max_len):
            feats, h, ctx = self._step(tok, h, ctx, enc)
            logits = self.logits_of(feats)
            if no_repeat and t > 0:
                logits.scatter_(1, tok[:, None], float("-inf"))
            tok = logits.argmax(dim=-1)
            ids[rows, t] = tok
            going = tok != EOS_ID
            if not bool(going.all()):
                if not bool(going.any()):
                    break
                rows, tok, h, ctx = rows[going], tok[going], h[going], ctx[going]
                enc = Encoded(enc.states[going], enc.z[going], enc.mask[going])
        return ids

    def relax(self, enc: Encoded, style: torch.Tensor, ids: torch.Tensor, noise: torch.Tensor, beta: float) -> Sample:
        """Differentiable soft rows of given tokens and noise, teacher-forced (see ``Generator.relax``).

        Logits are computed only up to ``<eos>``; the returned ``logits`` are 0 and the
        soft rows one-hot ``<pad>`` after it.
        """
        alive = alive_mask(ids)
        rows, cols = alive.nonzero(as_tuple=True)  # row-major, the order of features[alive]
        logits = self._alive_logits(enc, style, ids, alive)  # (N, V)
        soft, log_prob, token_logp = relax_alive(ids, noise, beta, rows, cols, logits)
        full = torch.zeros_like(soft).index_put((rows, cols), logits)
        return Sample(ids, soft, full, noise, log_prob, token_logp, rows)

    @torch.no_grad()
    def beam_search(
        self,
        enc: Encoded,
        style: torch.Tensor,
        beam: int,
        rescore: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        no_repeat: bool = False,
    ) -> torch.Tensor:
        """Beam-search decoding: LongTensor (B, T), the best finished hypothesis per input.

        Scores are summed log-probabilities normalised by length (``<eos>`` included). With
        ``rescore``, the final ``k`` hypotheses of each input are ranked by that score plus
        ``rescore(ids (B*k, T), style (B*k,))`` (B*k,), e.g. a weighted style log-probability.
        ``no_repeat`` bans each hypothesis's previous token.
        """
        seqs, norm = self.beam_hypotheses(enc, style, beam, no_repeat)
        if rescore is not None:
            norm = norm + rescore(seqs, style.repeat_interleave(max(1, beam)))
        return seqs[best_of_beams(norm, style.shape[0])]

    @torch.no_grad()
    def beam_hypotheses(
        self, enc: Encoded, style: torch.Tensor, beam: int, no_repeat: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Beam search's final ``k = beam`` hypotheses of each input, before any ranking: ids
        (B*k, T), input-major, and their length-normalised log-probabilities (B*k,).
        ``beam_search`` ranks them; keeping them lets many rankings share one decoding pass."""
        b, device, v = style.shape[0], style.device, self.vocab_size
        k = max(1, beam)
        rep = lambda x: x.repeat_interleave(k, dim=0)  # noqa: E731
        enc_k = Encoded(rep(enc.states), rep(enc.z), rep(enc.mask))
        h, ctx = self._start(enc_k, rep(style))
        tok = torch.full((b * k,), BOS_ID, dtype=torch.long, device=device)
        scores = torch.full((b, k), float("-inf"), device=device)
        scores[:, 0] = 0.0
        seqs = torch.full((b * k, self.max_len), PAD_ID, dtype=torch.long, device=device)
        done = torch.zeros(b * k, dtype=torch.bool, device=device)
        lengths = torch.zeros(b * k, device=device)
        for t in range(self.max_len):
            feats, h, ctx = self._step(tok, h, ctx, enc_k)
            logp = F.log_softmax(self.logits_of(feats), dim=-1)  # (B*k, V)
            if no_repeat and t > 0:  # finished rows are reset to <pad> just below
                logp.scatter_(1, tok[:, None], float("-inf"))
            # Finished hypotheses only extend with <pad> at no cost.
            logp.masked_fill_(done[:, None], float("-inf"))
            logp[done, PAD_ID] = 0.0
            total = (scores.view(-1, 1) + logp).view(b, k * v)
            scores, flat = total.topk(k, dim=1)  # (B, k)
            src = (flat // v) + torch.arange(b, device=device)[:, None] * k  # (B, k) rows of the previous beam
            tok = (flat % v).view(-1)
            src = src.view(-1)
            h, ctx, seqs, done, lengths = h[src], ctx[src], seqs[src], done[src], lengths[src]
            seqs[:, t] = tok
            lengths = lengths + (~done).float()
            done = done | (tok == EOS_ID)
            if bool(done.all()):
                break
        return seqs, scores.view(-1) / lengths.clamp(min=1)
