"""Tokenisers and the word-level vocabulary (plain-text on disk)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


class Tokenizer:
    """Text to model tokens and back.

    Args:
        kind: ``space`` (whitespace split), ``nltk`` (NLTK's word tokenizer, which
            needs no downloaded data with ``preserve_line=True``) or ``spm``.
        lowercase: lowercase before tokenising.
        spm_model: path of a trained SentencePiece model (``kind='spm'``).
    """

    def __init__(self, kind: str = "space", lowercase: bool = False, spm_model: str | Path | None = None) -> None:
        self.kind = kind
        self.lowercase = lowercase
        self._sp = None
        if kind == "spm":
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
        return self._sp.encode(text, out_type=str)  # type: ignore[union-attr]

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Join model tokens into text (words separated by single spaces)."""
        if self.kind == "spm":
            return self._sp.decode_pieces(list(tokens)).strip()  # type: ignore[union-attr]
        return " ".join(tokens)

    def words(self, text: str) -> list[str]:
        """The normalised word tokens of a text, as BLEU compares them."""
        if self.kind == "spm":
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
