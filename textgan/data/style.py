"""Style corpora (sentiment transfer): ``train/dev/test.{0,1}`` plus optional human references.

Layout of a style directory (the layout of ``../shared/data/yelp``)::

    train.0 train.1 dev.0 dev.1 test.0 test.1     one tokenised sentence per line (0 = negative, 1 = positive)
    reference.0 reference.1                       optional: ``source<TAB>human rewrite``, aligned with test.*
    multi_ref/reference{0..3}.{0,1}               optional: more rewrites, aligned with test.*
    styles.txt                                    optional: two lines, the names of style 0 and style 1

Without ``styles.txt`` the styles are Yelp's ``negative`` (0) and ``positive`` (1). Sentences
are read through ``data.text.TextNormalizer`` (raw or tokenised text; the same normalisation
as ``transfer``). Human rewrites are cased and untokenised: they are lowercased and tokenised
with NLTK's word tokenizer (PTB conventions, as the data) before BLEU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from textgan.data.corpus import check_text_file, read_lines
from textgan.data.text import TextNormalizer
from textgan.data.vocab import Tokenizer, Vocab
from textgan.utils import UserError

log = logging.getLogger(__name__)

STYLES = (0, 1)
SPLITS = ("train", "dev", "test")
DEFAULT_STYLE_NAMES = ("negative", "positive")
STYLE_NAMES_FILE = "styles.txt"
FLIP = "flip"


def read_style_names(root: str | Path) -> tuple[str, str]:
    """Names of style 0 and style 1: ``root/styles.txt`` (two lines), else negative / positive.

    Raises:
        UserError: a ``styles.txt`` without exactly two distinct one-word names (``flip`` is taken).
    """
    path = Path(root) / STYLE_NAMES_FILE
    if not path.is_file():
        return DEFAULT_STYLE_NAMES
    check_text_file(path)
    names = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if len(names) != 2 or len(set(names)) != 2:
        raise UserError(f"{path}: expected two different style names, one per line (style 0, then style 1)")
    for name in names:
        if len(name.split()) != 1 or name == FLIP:
            raise UserError(f"{path}: style name {name!r} must be one word other than {FLIP!r}")
    return names[0], names[1]


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
    tokenizer: TextNormalizer
    max_len: int
    splits: dict[str, StyleSplit]
    references: dict[int, list[list[list[str]]]] = field(default_factory=dict)
    style_names: tuple[str, str] = DEFAULT_STYLE_NAMES


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
    normalize: str = "nltk",
    lowercase: bool = True,
    max_len: int = 0,
    min_freq: int = 1,
    max_train_sentences: int = 0,
    vocab: Vocab | None = None,
) -> StyleCorpus:
    """Load and encode a style directory.

    Args:
        data: the style directory.
        normalize: ``nltk`` or ``space`` (``data.text.TextNormalizer``).
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
    style_names = read_style_names(root)
    tokenizer = TextNormalizer(normalize, lowercase)
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
    return StyleCorpus(vocab, tokenizer, cap, splits, refs, style_names)
