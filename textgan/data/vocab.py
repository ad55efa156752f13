"""Tokenisers and the word-level vocabulary (plain-text on disk)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
HF_MODEL_DIR = "hf-model"  # in a run dir (--generator hf): the model's config; its weights are the generator's
HF_TOKENIZER_DIR = "hf-tokenizer"  # in a run dir (--generator hf): the model's tokenizer


class Tokenizer:
    """Text to model tokens and back.

    Args:
        kind: ``space`` (whitespace split), ``nltk`` (NLTK's word tokenizer, which
            needs no downloaded data with ``preserve_line=True``), ``spm`` or ``hf`` (the
            tokenizer of a Hugging Face model, ``--generator hf``).
        lowercase: lowercase before tokenising.
        spm_model: path of a trained SentencePiece model (``kind='spm'``).
        hf_tokenizer: directory (or hub name) of a Hugging Face tokenizer (``kind='hf'``).
    """

    def __init__(
        self,
        kind: str = "space",
        lowercase: bool = False,
        spm_model: str | Path | None = None,
        hf_tokenizer: str | Path | None = None,
    ) -> None:
        self.kind = kind
        self.lowercase = lowercase
        self._sp = None
        self.hf: Any = None
        if kind == "hf":
            if hf_tokenizer is None:
                raise ValueError("--tokenizer hf needs the tokenizer of --hf-model")
            from transformers import AutoTokenizer

            self.hf = AutoTokenizer.from_pretrained(str(hf_tokenizer))
        elif kind == "spm":
            import sentencepiece as spm

            if spm_model is None:
                raise ValueError("--tokenizer spm needs a trained SentencePiece model")
            self._sp = spm.SentencePieceProcessor(model_file=str(spm_model))
        elif kind == "nltk":
            from nltk.tokenize import word_tokenize

            self._word_tokenize = word_tokenize
        elif kind != "space":
            raise ValueError(f"--tokenizer: unknown tokenizer {kind!r}")

    def tokenize(self, text: str) -> list[str]:
        """Split one sentence into model tokens."""
        if self.lowercase:
            text = text.lower()
        if self.kind == "space":
            return text.split()
        if self.kind == "nltk":
            return self._word_tokenize(text, preserve_line=True)
        if self.kind == "hf":
            return list(self.hf.tokenize(text))
        return self._sp.encode(text, out_type=str)  # type: ignore[union-attr]

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Join model tokens into text (words separated by single spaces)."""
        if self.kind == "spm":
            return self._sp.decode_pieces(list(tokens)).strip()  # type: ignore[union-attr]
        if self.kind == "hf":
            return str(self.hf.convert_tokens_to_string(list(tokens))).strip()
        return " ".join(tokens)

    def words(self, text: str) -> list[str]:
        """The normalised word tokens of a text, as BLEU compares them."""
        if self.kind in ("spm", "hf"):
            return self.detokenize(self.tokenize(text)).split()
        return self.tokenize(text)


def train_spm(lines: Iterable[str], model_prefix: str | Path, vocab_size: int, lowercase: bool) -> Path:
    """Train a SentencePiece unigram model on ``lines``; returns the ``.model`` path."""
    import sentencepiece as spm

    data = [ln.lower() if lowercase else ln for ln in lines]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(data),
        model_prefix=str(model_prefix),
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        minloglevel=2,
    )
    return Path(f"{model_prefix}.model")


class Vocab:
    """Word-level vocabulary with ``<pad> <bos> <eos> <unk>`` at ids 0-3.

    Args:
        tokens: the non-special tokens, in id order.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.itos: list[str] = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_freq: int = 1) -> Vocab:
        """Vocabulary of tokenised sentences, most frequent first (ties alphabetical)."""
        counts = Counter(tok for sent in sentences for tok in sent)
        ordered = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(ordered)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token strings to ids (unknown tokens become ``<unk>``)."""
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int], strip: bool = True) -> list[str]:
        """Ids to tokens, stopping at ``<eos>``; specials dropped when ``strip``."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if strip and i in (PAD_ID, BOS_ID):
                continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return out

    def save(self, path: str | Path) -> None:
        """Write one token per line, in id order."""
        Path(path).write_text("\n".join(self.itos) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a file written by ``save``."""
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if tuple(lines[:4]) != SPECIALS:
            raise ValueError(f"{path}: not a textgan vocabulary (first lines must be {' '.join(SPECIALS)})")
        return cls(lines[4:])

    def encode_batch(self, sentences: Sequence[Sequence[str]], max_len: int) -> tuple[torch.Tensor, int]:
        """Encode sentences into a padded ``LongTensor (N, max_len)``.

        A sentence shorter than ``max_len`` is followed by ``<eos>`` then ``<pad>``;
        one of exactly ``max_len`` tokens has no room for ``<eos>`` (generation
        stops there anyway); longer ones are truncated.

        Returns:
            The ids and the number of truncated sentences.
        """
        out = torch.full((len(sentences), max_len), PAD_ID, dtype=torch.long)
        truncated = 0
        for row, sent in enumerate(sentences):
            ids = self.encode(sent)
            if len(ids) > max_len:
                truncated += 1
                ids = ids[:max_len]
            if len(ids) < max_len:
                ids = ids + [EOS_ID]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out, truncated


def hf_specials(tokenizer: Tokenizer) -> list[int]:
    """The Hugging Face ids of textgan's ``<pad> <bos> <eos> <unk>``: the tokenizer's own, or its
    end-of-sequence token for those it lacks.

    Raises:
        ValueError: a tokenizer without an end-of-sequence token.
    """
    hf = tokenizer.hf
    if hf is None:
        raise ValueError("not a Hugging Face tokenizer")
    eos = hf.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer of --hf-model has no end-of-sequence token (eos_token)")
    pad, bos, unk = (eos if i is None else int(i) for i in (hf.pad_token_id, hf.bos_token_id, hf.unk_token_id))
    return [pad, bos, int(eos), unk]


def hf_vocab(tokenizer: Tokenizer) -> Vocab:
    """textgan's vocabulary over a Hugging Face tokenizer.

    The four specials come first (they map to the tokenizer's own, ``hf_specials``); then every
    other token of the tokenizer in its id order. Tokens that a one-per-line vocabulary file cannot
    hold (line breaks) or that are named like textgan's specials are left out: they are never
    generated.
    """
    specials = set(hf_specials(tokenizer))
    items = sorted(
        (i, t)
        for t, i in tokenizer.hf.get_vocab().items()
        if i not in specials and t not in SPECIALS and "\n" not in t and "\r" not in t
    )
    return Vocab([t for _, t in items])


def hf_ids(vocab: Vocab, tokenizer: Tokenizer) -> list[int]:
    """The Hugging Face id of each id of ``vocab`` (built by ``hf_vocab`` over ``tokenizer``).

    Raises:
        ValueError: a token the tokenizer does not know (the vocabulary is another tokenizer's).
    """
    out = hf_specials(tokenizer)
    known = tokenizer.hf.get_vocab()
    for tok in vocab.itos[len(SPECIALS) :]:
        if tok not in known:
            raise ValueError(f"the vocabulary's token {tok!r} is not in the tokenizer of --hf-model")
        out.append(int(known[tok]))
    return out
