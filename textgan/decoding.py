"""Style-transfer decoding: sentences in pieces, batched greedy and beam search, the reranking of
beams by style, content and fluency (``Rerank``, ``content_overlap``, ``Fluency``), and a run's tuned decoding
(``decoding.json``: ``read_decoding``, ``write_decoding``, ``check_beam``).

It sits on ``models/`` and ``data/``; ``runs.StyleRun.transfer`` and the style trainer's
evaluation call it, and so can user code that holds a model and its vocabulary:

>>> out = transfer_tokens(model, vocab, [["the", "food", "was", "cold"]], targets=[1], beam=4)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from textgan.data.text import chunks, insert_only
from textgan.data.text import sentences as split_sentences
from textgan.data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK, UNK_ID, Vocab
from textgan.models.classifiers import TextCNN
from textgan.models.generators import Generator, alive_mask
from textgan.models.style import StyleTransferModel, best_of_beams
from textgan.utils import UserError, atomic_write_bytes, autocast

log = logging.getLogger(__name__)


def _pieces(sentences: Sequence[Sequence[str]], max_len: int, by_sentence: bool) -> tuple[list[list[str]], list[int]]:
    """Every piece of every input (see ``transfer_tokens``) and the input each belongs to."""
    pieces: list[list[str]] = []
    owner: list[int] = []
    cut = 0
    for i, toks in enumerate(sentences):
        if toks:
            for sent in split_sentences(toks) if by_sentence else [toks]:
                parts = chunks(sent, max_len)  # max_len tokens fit, without <eos>, as in training
                cut += len(parts) > 1
                pieces += parts
                owner += [i] * len(parts)
    if cut and by_sentence:  # the user-facing path says so; evaluations stay quiet
        log.info("%d sentence(s) of %d tokens or more: transferred in pieces cut at commas, then joined", cut, max_len)
    return pieces, owner


def _piece_batches(
    model: StyleTransferModel,
    vocab: Vocab,
    sentences: Sequence[Sequence[str]],
    targets: Sequence[int],
    batch_size: int,
    by_sentence: bool,
) -> list[tuple[list[list[str]], list[int], torch.Tensor, torch.Tensor]]:
    """The pieces of ``sentences`` in batches: (pieces, the input of each, ids (b, T), target styles (b,))."""
    if len(sentences) != len(targets):
        raise ValueError(f"{len(sentences)} sentences but {len(targets)} target styles")
    device = model.banned.device
    pieces, owner = _pieces(sentences, model.max_len, by_sentence)
    out = []
    for start in range(0, len(pieces), batch_size):
        toks, rows = pieces[start : start + batch_size], owner[start : start + batch_size]
        src = vocab.encode_batch(toks, model.max_len)[0].to(device)
        out.append((toks, rows, src, torch.tensor([targets[i] for i in rows], device=device)))
    return out


def _append_words(outputs: list[list[str]], vocab: Vocab, rows: list[int], toks: list[list[str]], ids: torch.Tensor):
    """Decoded ``ids`` appended to their inputs' outputs; ``<unk>`` takes the piece's next OOV word."""
    for row, i, src_toks in zip(ids.tolist(), rows, toks, strict=True):
        oov = [w for w in src_toks if vocab.stoi.get(w, UNK_ID) == UNK_ID]
        for w in vocab.decode(row):
            if w != UNK:
                outputs[i].append(w)
            elif oov:
                outputs[i].append(oov.pop(0))


@dataclass
class _BeamBatch:
    toks: list[list[str]]  # the pieces
    rows: list[int]  # the input each piece belongs to
    src: torch.Tensor  # (b, T) piece ids
    style: torch.Tensor  # (b*k,) target style of each hypothesis
    ids: torch.Tensor  # (b*k, T) the final hypotheses, piece-major
    norm: torch.Tensor  # (b*k,) their length-normalised log-probabilities
    hidden: torch.Tensor | None = None  # (b, T) the source words the encoder hid (--st-style-mask)
    cache: dict = field(default_factory=dict)  # rerank terms already computed (Rerank.score)


@dataclass
class Beams:
    """Every input's final beam from one decoding pass (:func:`beam_tokens`). ``choose(rerank)``
    ranks them exactly as ``transfer_tokens(..., beam, rerank=rerank)`` would, without decoding
    again, so a grid of rerank weights costs one beam search (``eval style`` with comma-separated weights)."""

    vocab: Vocab
    n: int  # inputs
    batches: list[_BeamBatch]
    precision: str = "fp32"

    @torch.no_grad()
    def choose(self, rerank: Rerank | None = None) -> list[list[str]]:
        """Each input's output tokens: the best hypothesis of each piece under ``rerank``, joined."""
        outputs: list[list[str]] = [[] for _ in range(self.n)]
        for bt in self.batches:
            score = bt.norm
            if rerank:
                with autocast(self.precision, bt.ids.device):
                    score = score + rerank.score(bt.ids, bt.style, bt.src, bt.cache, hidden=bt.hidden)
            _append_words(outputs, self.vocab, bt.rows, bt.toks, bt.ids[best_of_beams(score, len(bt.rows))])
        return outputs

    def hypotheses(self) -> list[list[list[str]]]:
        """Every input's final beam, unranked: K token lists per input (the j-th hypotheses of an
        input's pieces joined, for an input decoded in pieces; none for an empty input)."""
        outputs: list[list[list[str]]] = [[] for _ in range(self.n)]
        for bt in self.batches:
            k = bt.ids.shape[0] // len(bt.rows)
            words: list[list[str]] = [[] for _ in range(bt.ids.shape[0])]  # every hypothesis, piece-major
            _append_words(words, self.vocab, list(range(len(words))), [t for t in bt.toks for _ in range(k)], bt.ids)
            for p, i in enumerate(bt.rows):
                outputs[i] = outputs[i] or [[] for _ in range(k)]
                for j in range(k):
                    outputs[i][j] += words[p * k + j]
        return outputs


@torch.no_grad()
def beam_tokens(
    model: StyleTransferModel,
    vocab: Vocab,
    sentences: Sequence[Sequence[str]],
    targets: Sequence[int],
    beam: int,
    batch_size: int = 256,
    by_sentence: bool = False,
    no_repeat: bool = False,
    precision: str = "fp32",
) -> Beams:
    """Beam search over token lists (as ``transfer_tokens``), keeping every input's final beam
    unranked; ``.choose(rerank)`` gives the outputs."""
    was = model.training
    model.eval()
    batches = []
    for toks, rows, src, style in _piece_batches(model, vocab, sentences, targets, batch_size, by_sentence):
        source = model.source_of(style)
        with autocast(precision, src.device):
            ids, norm = model.beam_hypotheses(model.encode(src, source=source), style, beam, no_repeat)
        hidden = model.hidden_words(src, source) if model.style_mask else None
        batches.append(_BeamBatch(toks, rows, src, style.repeat_interleave(max(1, beam)), ids, norm, hidden))
    model.train(was)
    return Beams(vocab, len(sentences), batches, precision)


@torch.no_grad()
def transfer_tokens(
    model: StyleTransferModel,
    vocab: Vocab,
    sentences: Sequence[Sequence[str]],
    targets: Sequence[int],
    beam: int = 1,
    batch_size: int = 256,
    by_sentence: bool = False,
    rerank: Rerank | None = None,
    no_repeat: bool = False,
    precision: str = "fp32",
) -> list[list[str]]:
    """Transfer token lists to target styles (0 or 1), in input order, batched; greedy or beam search
    (``no_repeat``: a word never follows itself; ``precision="bf16"``: the forward passes under
    bfloat16 autocast, faster on CPUs with bf16 matmul; the choice of words can differ on near-ties).

    ``rerank`` (beam > 1): each input's final beam is ranked by the length-normalised log-probability
    plus the ``Rerank`` terms (style under a classifier, word overlap with the source).

    An input that does not fit the model (more than ``max_len`` tokens, the training cap) is
    transferred sentence by sentence, and a sentence that still does not fit in pieces cut at
    commas (``data.text.chunks``); the pieces are joined, so no word is lost. Inputs that fit are
    transferred whole (the evaluation protocol), unless ``by_sentence``: then every input goes
    sentence by sentence, as the models learn from single sentences (``StyleRun.transfer``).
    Empty inputs give empty outputs. Where the decoder emits ``<unk>``, the source piece's
    out-of-vocabulary words are copied through in order (dropped when none are left).
    """
    if beam > 1:
        beams = beam_tokens(model, vocab, sentences, targets, beam, batch_size, by_sentence, no_repeat, precision)
        return beams.choose(rerank)
    was = model.training
    model.eval()
    outputs: list[list[str]] = [[] for _ in sentences]
    for toks, rows, src, style in _piece_batches(model, vocab, sentences, targets, batch_size, by_sentence):
        with autocast(precision, src.device):
            enc = model.encode(src, source=model.source_of(style))
            ids = model.sample_ids(enc, style, greedy=True, no_repeat=no_repeat)[0]
        _append_words(outputs, vocab, rows, toks, ids)
    model.train(was)
    return outputs


def _ngrams(ids: Sequence[int], n: int) -> Counter:
    return Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1))


CONTENT_ORDERS = (1, 2, 3, 4)


SPECIAL_IDS = (PAD_ID, BOS_ID, EOS_ID)  # not words: left out of the overlap and of the insert-only test


NO_MATCH = -1  # a source token left out of the content overlap: it breaks the n-grams through it
SLOT = -2  # a source token any one hypothesis token matches in the content overlap


def content_overlap(hyp: Sequence[int], src: Sequence[int], order: int = 2) -> float:
    """Word overlap of a hypothesis with its source in [0, 1]: the mean of the 1- to ``order``-gram F1
    over clipped counts (special ids ignored; by default unigrams and bigrams). 1 for a copy, 0 for
    nothing in common. ``order=4`` rewards keeping the source's longer runs of words, as BLEU-4 does.

    A source token ``NO_MATCH`` matches nothing (it breaks the n-grams through it); a source token
    ``SLOT`` matches any one hypothesis token, so that a hypothesis which puts one word in its place
    keeps every n-gram through it ("the food was SLOT" is matched in full by "the food was bad").
    Source n-grams with slots are matched after the exact ones, each to the first hypothesis n-gram
    left over that fits it (greedy, in order)."""
    h = [t for t in hyp if t not in SPECIAL_IDS]
    s = [t for t in src if t not in SPECIAL_IDS]
    f1 = []
    for n in range(1, order + 1):
        hc = _ngrams(h, n)
        windows = [tuple(s[i : i + n]) for i in range(len(s) - n + 1)]
        exact = Counter(w for w in windows if SLOT not in w)
        match = sum((hc & exact).values())
        patterns = [w for w in windows if SLOT in w]
        if patterns:
            left = [g for g, c in (hc - exact).items() for _ in range(c)]
            for pat in patterns:
                for j, g in enumerate(left):
                    if all(p == SLOT or p == t for p, t in zip(pat, g, strict=True)):
                        match += 1
                        del left[j]
                        break
        total = sum(hc.values()) + len(windows)
        f1.append(2.0 * match / total if total else 1.0)
    return sum(f1) / len(f1)


@torch.no_grad()
def style_word_mask(classifier: TextCNN, src: torch.Tensor, src_style: torch.Tensor, tau: float) -> torch.Tensor:
    """Which source tokens carry the source's style: bool (B, T), True where deleting the token lowers
    ``classifier``'s log p(source style) by at least ``tau`` nats (Li et al. 2018's "delete" step, by
    the run's own classifier instead of n-gram frequencies; special ids never)."""
    b, t = src.shape
    pad = torch.full((b, 1), PAD_ID, dtype=src.dtype, device=src.device)
    deleted = torch.stack([torch.cat([src[:, :i], src[:, i + 1 :], pad], 1) for i in range(t)], 1)  # (B, T, T)
    logp = torch.log_softmax(classifier(ids=torch.cat([src, deleted.view(b * t, t)])).float(), -1)
    base = logp[:b].gather(1, src_style[:, None])[:, 0]  # (B,)
    without = logp[b:].view(b, t, -1).gather(2, src_style[:, None, None].expand(b, t, 1))[..., 0]  # (B, T)
    special = (src == PAD_ID) | (src == BOS_ID) | (src == EOS_ID)
    return (base[:, None] - without >= tau) & ~special


class Fluency:
    """How fluent a hypothesis reads: its mean per-token log-probability (the closing ``<eos>``
    included) under a language model, a ``train lm`` run's generator with that run's vocabulary and
    tokenizer. The hypotheses arrive as ids of the style model's vocabulary ``source_vocab``; their
    words are joined by spaces and read by the LM's tokenizer, as ``nll_gen`` reads text (words
    outside the LM's vocabulary become its ``<unk>``)."""

    def __init__(self, generator: Generator, vocab: Vocab, tokenizer: Any, source_vocab: Vocab) -> None:
        self.generator, self.vocab, self.tokenizer, self.source_vocab = generator, vocab, tokenizer, source_vocab

    @torch.no_grad()
    def __call__(self, ids: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """(N,) mean log p per token of hypotheses ``ids`` (N, T) of the style vocabulary (``style``,
        the hypotheses' target styles, is not read: one LM scores every style)."""
        words = [" ".join(self.source_vocab.decode(row)) for row in ids.tolist()]
        toks = [self.tokenizer.tokenize(w) if self.tokenizer is not None else w.split() for w in words]
        batch, _ = self.vocab.encode_batch(toks, self.generator.max_len)
        batch = batch.to(self.generator.banned.device)
        was = self.generator.training
        self.generator.eval()
        logp = self.generator.log_prob(batch).float()
        self.generator.train(was)
        return (logp / alive_mask(batch).sum(1).clamp(min=1)).to(ids.device)


class StyleFluency:
    """``Fluency`` under one language model per target style: each hypothesis is scored by the LM of
    the style it is written in (``by_style[s]`` for target style ``s``), e.g. LMs trained on each
    style's training sentences alone, so that the score prefers the words that text of the target
    style uses in that context."""

    def __init__(self, by_style: Sequence[Fluency]) -> None:
        self.by_style = list(by_style)

    @torch.no_grad()
    def __call__(self, ids: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """(N,) mean log p per token of hypotheses ``ids`` (N, T) under their target style's LM."""
        if style is None:
            raise ValueError("StyleFluency: needs each hypothesis's target style")
        out = torch.zeros(ids.shape[0], device=ids.device)
        for s, lm in enumerate(self.by_style):
            rows = (style == s).nonzero()[:, 0]
            if rows.numel():
                out[rows] = lm(ids[rows])
        return out


def fluency_lm_runs(spec: str | Path) -> list[str]:
    """The LM runs of ``--fluency-lm``: one directory (one LM for every style) or two comma-separated
    ones (one per target style, style 0's first).

    Raises:
        UserError: not one or two directories.
    """
    runs = [x.strip() for x in str(spec).split(",")]
    if not 1 <= len(runs) <= 2 or not all(runs):
        raise UserError(
            f"--fluency-lm {spec}: expected one LM run, or two comma-separated ones (style 0's first), got {spec!r}"
        )
    return runs


@dataclass(frozen=True)
class Rerank:
    """How beam search ranks each input's final hypotheses: length-normalised log-probability plus
    ``style * log p(target style | y)`` under ``classifier`` (the run's own, never the evaluator) plus
    ``content * content_overlap(y, source, content_order)``. Both weights 0: plain beam search.

    ``style_words`` > 0 leaves the source's style-carrying words (``style_word_mask`` at that
    threshold, under ``classifier``) out of the overlap, so that replacing "great" by "bad" keeps
    as much content as inserting "not" before it, and the style weight decides between them.

    ``fluency`` > 0 adds that weight times ``lm(y)``, a ``Fluency`` score (mean per-token log p under
    a language model; a ``StyleFluency`` scores each hypothesis by its target style's LM), so that
    of two hypotheses with the same style and content the one that reads as the LM's text wins.

    ``slots`` turns the source's style words into slots that any one word fills in the overlap,
    instead of leaving them out: replacing "great" by "bad" then keeps every n-gram through it, and
    beats inserting "not" before it. The style words are ``style_word_mask``'s when ``style_words``
    > 0, else the words the encoder hid (``hidden``, an ``--st-style-mask`` run's lexicon).

    ``insert`` > 0 subtracts that weight from every hypothesis that keeps the whole source in order
    and only adds words (``insert_only``: "it was a not a great experience"), so that a rewrite
    which substitutes or drops a word wins over one that only inserts, all else equal."""

    classifier: TextCNN | None = None
    style: float = 0.0
    content: float = 0.0
    content_order: int = 2
    style_words: float = 0.0
    fluency: float = 0.0
    lm: Fluency | StyleFluency | None = None
    insert: float = 0.0
    slots: bool = False

    def __bool__(self) -> bool:
        return bool(self.style or self.content or self.fluency or self.insert)

    def score(
        self,
        ids: torch.Tensor,
        style: torch.Tensor,
        src: torch.Tensor,
        cache: dict | None = None,
        hidden: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The rerank terms (B*k,) of hypotheses ``ids`` (B*k, T) of target styles ``style`` (B*k,)
        for sources ``src`` (B, T). ``cache`` keeps the unweighted terms of these hypotheses, so
        scoring them again with other weights (or another order already seen) costs no classifier call.
        ``hidden`` (B, T): the source words the encoder hid, the slots when ``slots`` and no ``style_words``."""
        cache = {} if cache is None else cache
        score = torch.zeros(ids.shape[0], device=ids.device)
        if self.style:
            if self.classifier is None:
                raise ValueError("Rerank: a style weight needs a classifier")
            key = ("style", self.classifier)  # the module itself: no id reused after garbage collection
            if key not in cache:
                logp = torch.log_softmax(self.classifier(ids=ids).float(), dim=-1)
                cache[key] = logp.gather(1, style[:, None])[:, 0]
            score += self.style * cache[key]
        if self.content:
            key = ("content", self.content_order, self.style_words, self.slots)
            if key not in cache:
                k, order = ids.shape[0] // src.shape[0], self.content_order
                kept = src
                if self.style_words:
                    if self.classifier is None:
                        raise ValueError("Rerank: style_words needs a classifier")
                    mask_key = ("style_words", self.style_words)
                    if mask_key not in cache:
                        src_style = 1 - style[::k]  # two styles: each source's is the other one
                        cache[mask_key] = style_word_mask(self.classifier, src, src_style, self.style_words)
                    kept = src.masked_fill(cache[mask_key], SLOT if self.slots else NO_MATCH)
                elif self.slots:
                    if hidden is None:
                        raise ValueError("Rerank: slots need style_words or the words the encoder hid")
                    kept = src.masked_fill(hidden, SLOT)
                sources = kept.tolist()
                overlap = [content_overlap(h, sources[i // k], order) for i, h in enumerate(ids.tolist())]
                cache[key] = torch.tensor(overlap, device=ids.device)
            score += self.content * cache[key]
        if self.fluency:
            if self.lm is None:
                raise ValueError("Rerank: a fluency weight needs a language model")
            key = ("fluency", self.lm)
            if key not in cache:
                cache[key] = self.lm(ids, style)
            score += self.fluency * cache[key]
        if self.insert:
            if "insert" not in cache:
                k = ids.shape[0] // src.shape[0]
                sources = [[t for t in s if t not in SPECIAL_IDS] for s in src.tolist()]
                flags = [
                    insert_only([t for t in h if t not in SPECIAL_IDS], sources[i // k])
                    for i, h in enumerate(ids.tolist())
                ]
                cache["insert"] = torch.tensor(flags, dtype=torch.float32, device=ids.device)
            score -= self.insert * cache["insert"]
        return score

    def rescorer(self, src: torch.Tensor) -> Any:
        """``beam_search(rescore=...)`` for a batch of sources ``src`` (B, T): scores (B*k,) of ids (B*k, T)."""
        return lambda ids, style: self.score(ids, style, src)


def transfer_sentences(
    model: StyleTransferModel,
    vocab: Vocab,
    tokenizer: Any,
    sentences: Sequence[str],
    targets: Sequence[int],
    beam: int = 1,
    batch_size: int = 256,
    rerank: Rerank | None = None,
    no_repeat: bool = False,
    precision: str = "fp32",
) -> list[str]:
    """``transfer_tokens`` on texts read by ``tokenizer``; outputs as space-joined model tokens."""
    toks = [tokenizer.tokenize(s) for s in sentences]
    out = transfer_tokens(
        model, vocab, toks, targets, beam, batch_size, rerank=rerank, no_repeat=no_repeat, precision=precision
    )
    return [" ".join(t) for t in out]


DECODING_FILE = "decoding.json"


def read_decoding(run_dir: str | Path) -> dict[str, Any]:
    """A style run's tuned decoding, ``RUN/decoding.json`` (written by ``scripts/style_decode_sweep.py
    --save``, or by hand: ``{"beam": 16, "style_rerank": 1, "content_rerank": 12, "no_repeat": true}``,
    optionally with ``"content_order": 4`` (2 when absent), ``"style_words": TAU`` (off when absent),
    ``"content_slots": true`` (off when absent) and
    ``"fluency_rerank": W`` with ``"fluency_lm": LM_RUN`` and ``"insert_penalty": W`` (off when absent)), as :meth:`StyleRun.transfer`
    keyword arguments; ``{}`` when the file does not exist.

    Raises:
        UserError: a file that is not such a JSON object, or values ``check_beam`` refuses.
    """
    path = Path(run_dir) / DECODING_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        out = {
            "beam": int(raw.get("beam", 1)),
            "style_rerank": float(raw.get("style_rerank", 0.0)),
            "content_rerank": float(raw.get("content_rerank", 0.0)),
            "no_repeat": bool(raw.get("no_repeat", False)),
            "content_order": int(raw.get("content_order", 2)),
        }
        if raw.get("style_words"):
            out["style_words"] = float(raw["style_words"])
        if raw.get("fluency_rerank"):
            out["fluency_rerank"] = float(raw["fluency_rerank"])
            if not isinstance(raw.get("fluency_lm"), str):
                raise ValueError("fluency_rerank needs fluency_lm, the LM run's directory")
            out["fluency_lm"] = raw["fluency_lm"]
        if raw.get("insert_penalty"):
            out["insert_penalty"] = float(raw["insert_penalty"])
        if raw.get("content_slots"):
            out["content_slots"] = True
        check_decoding(out)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, UserError) as e:
        raise UserError(f"{path}: {e}; fix it or delete it (greedy decoding then)") from None
    return out


def write_decoding(run_dir: str | Path, decoding: dict[str, Any], **about: Any) -> Path:
    """Save ``decoding`` (``beam``, ``style_rerank``, ``content_rerank``, ``no_repeat``, optionally
    ``content_order``) as the run's tuned decoding, with ``about`` (how it was chosen) beside it;
    returns the file's path."""
    check_decoding(decoding)
    path = Path(run_dir) / DECODING_FILE
    atomic_write_bytes(path, (json.dumps({**decoding, **about}, indent=2) + "\n").encode())
    return path


def decoding_flags(decoding: dict[str, Any]) -> str:
    """The command-line flags of a decoding: ``--beam 16 --style-rerank 1 ...``."""
    flags = [f"--beam {decoding.get('beam', 1)}"]
    for key in ("style_rerank", "content_rerank"):
        if decoding.get(key):
            flags.append(f"--{key.replace('_', '-')} {decoding[key]:g}")
    if decoding.get("content_rerank") and decoding.get("content_order", 2) != 2:
        flags.append(f"--content-order {decoding['content_order']}")
    if decoding.get("content_rerank") and decoding.get("style_words"):
        flags.append(f"--style-words {decoding['style_words']:g}")
    if decoding.get("content_rerank") and decoding.get("content_slots"):
        flags.append("--content-slots")
    if decoding.get("fluency_rerank"):
        flags.append(f"--fluency-rerank {decoding['fluency_rerank']:g} --fluency-lm {decoding.get('fluency_lm')}")
    if decoding.get("insert_penalty"):
        flags.append(f"--insert-penalty {decoding['insert_penalty']:g}")
    if decoding.get("no_repeat"):
        flags.append("--no-repeat")
    return " ".join(flags)


def rerank_grid(
    styles: Sequence[float], contents: Sequence[float], orders: Sequence[int]
) -> list[tuple[float, float, int]]:
    """Every (style weight, content weight, content order) combination, in that nesting order. The
    order changes nothing without a content weight, so such a combination appears once, as order 2."""
    combos = ((s, c, o if c else 2) for s in styles for c in contents for o in orders)
    return list(dict.fromkeys(combos))


def check_decoding(decoding: dict[str, Any]) -> None:
    """``check_beam`` on a decoding dict (``beam``, ``style_rerank``, ``content_rerank``,
    ``content_order``, ``style_words``, ``content_slots``, ``fluency_rerank`` with ``fluency_lm``, ``insert_penalty``; a missing key takes
    transfer's default)."""
    check_beam(
        decoding.get("beam", 1),
        decoding.get("style_rerank", 0.0),
        decoding.get("content_rerank", 0.0),
        decoding.get("content_order", 2),
        decoding.get("style_words", 0.0),
        decoding.get("fluency_rerank", 0.0),
        decoding.get("insert_penalty", 0.0),
        decoding.get("content_slots", False),
    )
    if decoding.get("fluency_rerank") and not decoding.get("fluency_lm"):
        raise UserError("--fluency-rerank: needs --fluency-lm LM_RUN (a textgan train lm run on the training text)")
    if decoding.get("fluency_rerank"):
        fluency_lm_runs(decoding["fluency_lm"])


def check_slots(content_slots: bool, style_words: float, model: StyleTransferModel) -> None:
    """Raises UserError for ``content_slots`` with nothing to make slots of: no ``style_words`` and a
    model trained without ``--st-style-mask``."""
    if content_slots and not style_words and not model.style_mask:
        raise UserError(
            "--content-slots: this run was trained without --st-style-mask, so its encoder hides no words; "
            "give --style-words TAU (the run's classifier picks the style words)"
        )


def check_beam(
    beam: int,
    style_rerank: float = 0.0,
    content_rerank: float = 0.0,
    content_order: int = 2,
    style_words: float = 0.0,
    fluency_rerank: float = 0.0,
    insert_penalty: float = 0.0,
    content_slots: bool = False,
) -> None:
    """Raises UserError for a beam below 1, a negative rerank weight, a rerank without a beam to rank,
    a content order outside 1-4, or ``style_words`` below 0 or (as ``content_slots``) without a content weight."""
    if beam < 1:
        raise UserError("--beam: must be >= 1")
    if style_words < 0:
        raise UserError("--style-words: must be >= 0 (nats; 0: off)")
    if style_words and not content_rerank:
        raise UserError("--style-words: changes the content overlap only (give --content-rerank W too)")
    if content_slots and not content_rerank:
        raise UserError("--content-slots: changes the content overlap only (give --content-rerank W too)")
    if content_order not in CONTENT_ORDERS:
        raise UserError(f"--content-order: must be one of {', '.join(map(str, CONTENT_ORDERS))}")
    weights = (
        ("--style-rerank", style_rerank),
        ("--content-rerank", content_rerank),
        ("--fluency-rerank", fluency_rerank),
        ("--insert-penalty", insert_penalty),
    )
    for flag, w in weights:
        if w < 0:
            raise UserError(f"{flag}: must be >= 0")
        if w and beam < 2:
            raise UserError(f"{flag}: needs a beam to rank (--beam 2 or more)")
