"""Corpora: reading, validation, vocabulary, encoding and batching.

A corpus directory holds ``train.txt`` and ``test.txt``, one sentence per line.
Files are read with the ``datasets`` library ("text" builder); ``--data oracle``
builds the synthetic oracle corpus instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from textgan.config import DataConfig
from textgan.data.oracle import OracleLSTM
from textgan.data.vocab import (
    BOS_ID,
    EOS_ID,
    HF_TOKENIZER_DIR,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    Tokenizer,
    Vocab,
    hf_ids,
    hf_vocab,
    train_spm,
)
from textgan.utils import UserError

log = logging.getLogger(__name__)

ORACLE = "oracle"


def check_text_file(path: Path) -> None:
    """Refuse files that are missing, empty, binary or not UTF-8, naming the line.

    Raises:
        UserError: with a one-line explanation.
    """
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise UserError(f"{path}: looks like a binary file (NUL bytes), expected UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UserError(f"{path}: line {line} is not valid UTF-8 ({err.reason})") from None
    if not text.strip():
        raise UserError(f"{path}: file is empty (no non-blank lines)")


def input_lines(path: Path, flag: str) -> list[str]:
    """Every line of a UTF-8 file given by ``flag``, blank ones included (an empty file is no lines).

    Raises:
        UserError: a missing file, binary or non-UTF-8 bytes (the line named).
    """
    if not path.is_file():
        raise UserError(f"{flag} {path}: file not found")
    raw = path.read_bytes()
    if raw.strip():
        check_text_file(path)
    return raw.decode("utf-8").splitlines()


def read_lines(path: Path) -> list[str]:
    """Non-blank lines of a UTF-8 text file, read with ``datasets``.

    Blank lines are skipped and counted in a warning.
    """
    import datasets

    check_text_file(path)
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    ds = datasets.load_dataset("text", data_files={"split": str(path)}, split="split")
    return _nonblank(ds["text"], str(path))


def _nonblank(lines: list[str], where: str) -> list[str]:
    kept = [ln.strip() for ln in lines if ln.strip()]
    if len(kept) < len(lines):
        log.warning("%s: skipped %d blank lines", where, len(lines) - len(kept))
    return kept


def read_hub(name: str) -> tuple[list[str], list[str]]:
    """Train and test lines of a hub dataset with a ``text`` column (needs internet)."""
    import datasets

    try:
        ds = datasets.load_dataset(name)
    except Exception as err:  # offline, unknown name, ...
        raise UserError(
            f"--data {name}: not a directory, not 'oracle', and the hub dataset could not be loaded "
            f"({type(err).__name__})"
        ) from None
    if "train" not in ds or "text" not in ds["train"].column_names:
        raise UserError(f"--data {name}: hub dataset needs a 'train' split with a 'text' column")
    test_split = "test" if "test" in ds else "validation" if "validation" in ds else None
    if test_split is None:
        raise UserError(f"--data {name}: hub dataset has no 'test' or 'validation' split")
    return _nonblank(ds["train"]["text"], name), _nonblank(ds[test_split]["text"], name)


@dataclass
class Corpus:
    """A tokenised, encoded corpus.

    Attributes:
        vocab: the vocabulary built from the training split.
        tokenizer: how text becomes tokens.
        train: LongTensor (N, T) of training ids (``<eos>`` then ``<pad>`` after a sentence).
        test: LongTensor (M, T) of test ids.
        test_words: the test sentences as normalised word lists (BLEU references).
        max_len: T, tokens per sentence.
        banned_ids: special ids that never occur as a training target (never generated).
        oracle: the oracle LSTM for synthetic data, else None.
        to_hf: with ``--tokenizer hf``, the Hugging Face id of each vocabulary id, else None.
    """

    vocab: Vocab
    tokenizer: Tokenizer
    train: torch.Tensor
    test: torch.Tensor
    test_words: list[list[str]]
    max_len: int
    banned_ids: list[int]
    oracle: OracleLSTM | None = None
    to_hf: list[int] | None = None

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Shuffled training batches, LongTensor (B, T) each; the last may be smaller."""
        order = torch.randperm(self.train.shape[0], generator=generator)
        for start in range(0, len(order), batch_size):
            yield self.train[order[start : start + batch_size]]

    def detokenize(self, ids: torch.Tensor) -> list[str]:
        """Generated ids (B, T) to text lines."""
        return [self.tokenizer.detokenize(self.vocab.decode(row)) for row in ids.tolist()]

    def to_oracle_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """Map vocabulary ids of oracle tokens to oracle ids (``oracle_corpus`` puts token k at id 4 + k).

        Specials map to -1 (they never occur: the oracle corpus bans them from generation).
        """
        ids = ids.cpu()
        return torch.where(ids >= len(SPECIALS), ids - len(SPECIALS), torch.full_like(ids, -1))


def oracle_corpus(cfg: DataConfig) -> Corpus:
    """Build the synthetic corpus: sample train and test sets from the oracle."""
    oracle = OracleLSTM(cfg.oracle_vocab_size, cfg.oracle_hidden_dim, cfg.oracle_seed)
    gen = torch.Generator().manual_seed(cfg.oracle_seed)
    train = oracle.sample(cfg.oracle_train_size, cfg.oracle_len, gen)
    test = oracle.sample(cfg.oracle_test_size, cfg.oracle_len, gen)
    # Fixed id layout: oracle token k is vocabulary id 4 + k, named "k".
    vocab = Vocab([str(k) for k in range(cfg.oracle_vocab_size)])
    offset = len(SPECIALS)
    test_words = [[str(t) for t in row] for row in test.tolist()]
    return Corpus(
        vocab=vocab,
        tokenizer=Tokenizer("space"),
        train=train + offset,
        test=test + offset,
        test_words=test_words,
        max_len=cfg.oracle_len,
        banned_ids=[PAD_ID, BOS_ID, EOS_ID, UNK_ID],
        oracle=oracle,
    )


def load_corpus(cfg: DataConfig, run_dir: Path | None = None, vocab: Vocab | None = None) -> Corpus:
    """Load, tokenise and encode the corpus named by ``cfg.data``.

    Args:
        cfg: the data config.
        run_dir: where a SentencePiece model is written (or read, when resuming).
        vocab: reuse this vocabulary instead of building one (resume, evaluation).

    Raises:
        UserError: missing directory or files, unreadable text.
    """
    if cfg.data == ORACLE:
        return oracle_corpus(cfg)
    root = Path(cfg.data)
    if root.is_dir():
        for name in ("train.txt", "test.txt"):
            if not (root / name).is_file():
                raise UserError(f"--data {cfg.data}: no {name} in that directory (expected train.txt and test.txt)")
        train_lines, test_lines = read_lines(root / "train.txt"), read_lines(root / "test.txt")
    elif root.exists():
        raise UserError(f"--data {cfg.data}: not a directory (expected a directory with train.txt and test.txt)")
    elif cfg.data.startswith((".", "/", "~")) or cfg.data.count("/") > 1:
        raise UserError(f"--data {cfg.data}: directory not found")
    else:
        train_lines, test_lines = read_hub(cfg.data)
    if cfg.max_train_sentences:
        train_lines = train_lines[: cfg.max_train_sentences]
    if cfg.max_test_sentences:
        test_lines = test_lines[: cfg.max_test_sentences]

    spm_model = None
    if cfg.tokenizer == "spm":
        if run_dir is None:
            raise UserError("--tokenizer spm needs a run directory for its model")
        spm_model = run_dir / "spm.model"
        if not spm_model.is_file():
            train_spm(train_lines, run_dir / "spm", cfg.spm_vocab_size, cfg.lowercase)
    hf_dir = None
    if cfg.tokenizer == "hf":
        hf_dir = None if run_dir is None else run_dir / HF_TOKENIZER_DIR
        if hf_dir is None or not hf_dir.is_dir():
            raise UserError(f"--tokenizer hf: no {HF_TOKENIZER_DIR}/ in the run directory (use --generator hf)")
    tokenizer = Tokenizer(cfg.tokenizer, cfg.lowercase, spm_model, hf_dir)
    train_tok = [tokenizer.tokenize(s) for s in train_lines]
    test_tok = [tokenizer.tokenize(s) for s in test_lines]
    to_hf = None
    if hf_dir is not None:  # the model's vocabulary, not the training split's
        vocab = hf_vocab(tokenizer) if vocab is None else vocab
        try:
            to_hf = hf_ids(vocab, tokenizer)
        except ValueError as err:
            raise UserError(f"--tokenizer hf: {err}") from None
    if vocab is None:
        vocab = Vocab.build(train_tok, cfg.min_freq)
    longest = max(len(s) for s in train_tok)
    max_len = min(longest, cfg.max_len) if cfg.max_len > 0 else longest
    train, n_train_cut = vocab.encode_batch(train_tok, max_len)
    test, n_test_cut = vocab.encode_batch(test_tok, max_len)
    if n_train_cut or n_test_cut:
        log.warning("truncated %d train and %d test sentences to max_len=%d tokens", n_train_cut, n_test_cut, max_len)
    targets = set(train.unique().tolist())
    # Never generate pad or bos; nor eos when every training sentence fills max_len.
    # <unk> stays allowed: test words unseen in training are <unk> and NLL_gen must stay finite.
    banned = [PAD_ID, BOS_ID] + ([EOS_ID] if EOS_ID not in targets else [])
    if to_hf is not None and tokenizer.hf.unk_token_id is None:
        banned.append(UNK_ID)  # a tokenizer without an unknown token (byte-level) never needs one
    oov = sum(t == UNK_ID for t in test.view(-1).tolist())
    if oov:
        log.info(
            "test split: %d tokens (%.2f%%) are not in the training vocabulary (<unk>)",
            oov,
            100.0 * oov / max(int((test != PAD_ID).sum()), 1),
        )
    test_words = [tokenizer.words(s) for s in test_lines]
    return Corpus(vocab, tokenizer, train, test, test_words, max_len, sorted(banned), to_hf=to_hf)
