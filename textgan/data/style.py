"""Style corpora (sentiment transfer): ``train/dev/test.{0,1}`` plus optional human references.

Layout of a style directory (the layout of ``../shared/data/yelp``)::

    train.0 train.1 dev.0 dev.1 test.0 test.1     one tokenised sentence per line (0 = negative, 1 = positive)
    reference.0 reference.1                       optional: ``source<TAB>human rewrite``, aligned with test.*
    multi_ref/reference{0..3}.{0,1}               optional: more rewrites, aligned with test.*

Human rewrites are cased and untokenised: they are lowercased and tokenised with NLTK's
word tokenizer (PTB conventions, as the data) before BLEU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from textgan.data.corpus import check_text_file, read_lines
from textgan.data.vocab import Tokenizer, Vocab
from textgan.utils import UserError

log = logging.getLogger(__name__)

STYLES = (0, 1)
SPLITS = ("train", "dev", "test")


@dataclass
class StyleSplit:
    """Encoded sentences of one split.

    Attributes:
        ids: LongTensor (N, T).
        labels: LongTensor (N,) style of each sentence.
        texts: the raw lines.
    """

    ids: torch.Tensor
    labels: torch.Tensor
    texts: list[str]


@dataclass
class StyleCorpus:
    """A style-transfer corpus: vocabulary, splits, and human references of the test split.

    Attributes:
        references: style -> one list per test sentence of that style, holding its
            reference rewrites as normalised word lists (empty lists when none exist).
    """

    vocab: Vocab
    tokenizer: Tokenizer
    max_len: int
    splits: dict[str, StyleSplit]
    references: dict[int, list[list[list[str]]]] = field(default_factory=dict)


def read_references(root: Path, style: int, n_test: int) -> list[list[list[str]]]:
    """Human rewrites of ``test.{style}``: one list of word lists per test line.

    Raises:
        UserError: a ``reference`` line without a tab, or a line count unlike ``test.{style}``.
    """
    norm = Tokenizer("nltk", lowercase=True)
    refs: list[list[list[str]]] = [[] for _ in range(n_test)]
    path = root / f"reference.{style}"
    if path.is_file():
        check_text_file(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) != n_test:
            raise UserError(f"{path}: {len(lines)} lines, but test.{style} has {n_test} (they must be line-aligned)")
        for i, line in enumerate(lines):
            if "\t" not in line:
                raise UserError(f"{path}: line {i + 1} has no tab (expected source<TAB>human rewrite)")
            refs[i].append(norm.tokenize(line.split("\t", 1)[1]))
    for k in range(4):
        path = root / "multi_ref" / f"reference{k}.{style}"
        if not path.is_file():
            continue
        check_text_file(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) != n_test:
            raise UserError(f"{path}: {len(lines)} lines, but test.{style} has {n_test} (they must be line-aligned)")
        for i, line in enumerate(lines):
            refs[i].append(norm.tokenize(line))
    return refs


def load_style_corpus(
    data: str,
    *,
    lowercase: bool = False,
    max_len: int = 0,
    min_freq: int = 1,
    max_train_sentences: int = 0,
    vocab: Vocab | None = None,
) -> StyleCorpus:
    """Load and encode a style directory (whitespace tokens, as the Yelp data is tokenised).

    Args:
        data: the style directory.
        lowercase: lowercase before tokenising.
        max_len: cap on tokens per sentence (0: the longest training sentence).
        min_freq: training tokens seen fewer times become ``<unk>``.
        max_train_sentences: use only the first N training sentences of each style (0: all).
        vocab: reuse a vocabulary (evaluation, resume).

    Raises:
        UserError: a missing directory or file (named), unreadable text, bad references.
    """
    root = Path(data)
    if not root.is_dir():
        raise UserError(f"--data {data}: style directory not found")
    for split in SPLITS:
        for style in STYLES:
            if not (root / f"{split}.{style}").is_file():
                raise UserError(
                    f"--data {data}: {split}.{style} is missing (a style directory needs train, dev "
                    f"and test files for styles 0 and 1)"
                )
    tokenizer = Tokenizer("space", lowercase)
    raw: dict[str, dict[int, list[str]]] = {
        split: {style: read_lines(root / f"{split}.{style}") for style in STYLES} for split in SPLITS
    }
    if max_train_sentences:
        raw["train"] = {s: lines[:max_train_sentences] for s, lines in raw["train"].items()}
    tokens = {sp: {s: [tokenizer.tokenize(x) for x in raw[sp][s]] for s in STYLES} for sp in SPLITS}
    if vocab is None:
        vocab = Vocab.build([t for s in STYLES for t in tokens["train"][s]], min_freq)
    longest = max(len(t) for s in STYLES for t in tokens["train"][s])
    cap = min(longest, max_len) if max_len > 0 else longest
    splits, cut = {}, 0
    for sp in SPLITS:
        ids, labels, texts = [], [], []
        for s in STYLES:
            enc, n_cut = vocab.encode_batch(tokens[sp][s], cap)
            cut += n_cut
            ids.append(enc)
            labels.append(torch.full((enc.shape[0],), s, dtype=torch.long))
            texts.extend(raw[sp][s])
        splits[sp] = StyleSplit(torch.cat(ids), torch.cat(labels), texts)
    if cut:
        log.warning("truncated %d sentences to max_len=%d tokens", cut, cap)
    refs = {s: read_references(root, s, len(raw["test"][s])) for s in STYLES}
    return StyleCorpus(vocab, tokenizer, cap, splits, refs)
