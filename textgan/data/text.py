"""Text normalisation of the style task, in one place.

Training (``load_style_corpus`` with ``--normalize nltk``, the default), ``eval style`` and
``transfer`` all read text through ``normalize``; ``transfer`` writes through ``detokenize``
unless ``--raw-output`` is given. The model's tokens are those of the Yelp data of Li et al.
2018: lowercased (when the run lowercases) NLTK / Penn Treebank word tokens.

``normalize`` (raw text -> tokens):

1. Unicode NFKC (full-width forms, ligatures and the like become plain characters);
   curly quotes and apostrophes become straight ones.
2. Lowercase, when asked (the run's ``--lowercase``).
3. NLTK's Treebank word tokenizer, one line at a time (``preserve_line``, which needs no
   downloaded data): ``didn't`` -> ``did n't``, ``$5`` -> ``$ 5``, ``"great"`` -> ``\u0060\u0060 great ''``.
   Quote tokens that are already PTB's (\u0060\u0060 and ''), as in pre-tokenised corpora, are kept
   as they are, so tokenised text maps to itself.
4. A word glued to a full stop inside a line (``wait.`` in ``wait. then``), which the tokenizer
   leaves whole, is split as at the end of a line, except for abbreviations (``dr.``, ``u.s.``).

``detokenize`` (tokens -> text): Treebank detokenisation (``did n't`` -> ``didn't``,
``$ 5`` -> ``$5``, quotes), a space after an ellipsis, then sentence case: the first letter
of each sentence and the pronoun ``i`` (``i``, ``i'm``, ``i've``) upper-cased. Emoji and other
symbols pass through both ways.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from textgan.config import NORMALIZERS

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"'})
# PTB quote tokens already in the text stand for themselves; the tokenizer would re-guess them.
_PTB_QUOTE = re.compile(r"(?<!\S)(``|'')(?!\S)")
_KEEP = {"``": "qqtextganopenqq", "''": "qqtextganclosequ"}
_RESTORE = {v: k for k, v in _KEEP.items()}
ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. st. jr. sr. vs. etc. inc. ltd. co. ave. no. approx. dept. min. max. hr. hrs. "
    "a.m. p.m. e.g. i.e. u.s. u.k.".split()
)
_ELLIPSIS = re.compile(r"(\.\.\.|\u2026)(?=\w)")
SENTENCE_END = frozenset({".", "!", "?", "..."})


@lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize import word_tokenize

    return word_tokenize


@lru_cache(maxsize=1)
def _detokenizer():
    from nltk.tokenize.treebank import TreebankWordDetokenizer

    return TreebankWordDetokenizer()


def _split_stop(tok: str) -> list[str]:
    """``wait.`` -> ``wait .``; abbreviations, ``...``, numbers like ``3.`` kept as they are."""
    if len(tok) > 1 and tok.endswith(".") and not tok.endswith("..") and tok not in ABBREVIATIONS:
        head = tok[:-1]
        if "." not in head and any(c.isalpha() for c in head):
            return [head, "."]
    return [tok]


def normalize(text: str, lowercase: bool = True) -> list[str]:
    """Raw text (one line) -> the model's word tokens (module docstring)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    if lowercase:
        text = text.lower()
    text = _PTB_QUOTE.sub(lambda m: f" {_KEEP[m.group(1)]} ", text)
    out: list[str] = []
    for tok in _tokenizer()(text, preserve_line=True):
        out.extend(_split_stop(_RESTORE.get(tok, tok)))
    return out


def sentence_case(tokens: Sequence[str]) -> list[str]:
    """Tokens with the first word of each sentence (after ``. ! ?``) and the pronoun ``i`` capitalised."""
    out, start = [], True
    for tok in tokens:
        if tok == "i" or (start and tok[:1].isalpha()):
            tok = tok[:1].upper() + tok[1:]
        if any(c.isalnum() for c in tok):
            start = False
        elif tok in (".", "!", "?"):
            start = True
        out.append(tok)
    return out


def detokenize(tokens: Sequence[str]) -> str:
    """The model's tokens -> readable, sentence-cased text (module docstring)."""
    if not tokens:
        return ""
    text = _detokenizer().detokenize(sentence_case(tokens))
    return _ELLIPSIS.sub(r"\1 ", text).strip()


def sentences(tokens: Sequence[str]) -> list[list[str]]:
    """Split a token list after each sentence end (``. ! ? ...``; a run of them stays together)."""
    out: list[list[str]] = [[]]
    for i, tok in enumerate(tokens):
        out[-1].append(tok)
        if tok in SENTENCE_END and (i + 1 == len(tokens) or tokens[i + 1] not in SENTENCE_END):
            out.append([])
    return [s for s in out if s] or [[]]


def chunks(tokens: Sequence[str], limit: int) -> list[list[str]]:
    """Pieces of a token list that the model can take: the list itself when it has at most
    ``limit`` tokens; else its sentences, a sentence longer than ``limit`` cut after the last
    comma / semicolon / colon that fits, else at ``limit``. No token is lost and the order is kept."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    if len(tokens) <= limit:
        return [list(tokens)]
    out = []
    for rest in sentences(tokens):
        while len(rest) > limit:
            window = rest[:limit]
            ends = [i + 1 for i, t in enumerate(window) if t in {",", ";", ":", "--"}]
            cut = ends[-1] if ends else limit
            out.append(rest[:cut])
            rest = rest[cut:]
        out.append(rest)
    return out


class TextNormalizer:
    """The style task's text <-> tokens, with the interface of ``data.vocab.Tokenizer``.

    Args:
        kind: ``nltk`` (``normalize``, for raw or tokenised text) or ``space`` (a whitespace
            split only; the behaviour of runs made before normalisation existed).
        lowercase: lowercase before tokenising.
    """

    def __init__(self, kind: str = "nltk", lowercase: bool = True) -> None:
        if kind not in NORMALIZERS:
            raise ValueError(f"--normalize: unknown normalisation {kind!r} (choose from {', '.join(NORMALIZERS)})")
        self.kind, self.lowercase = kind, lowercase

    def tokenize(self, text: str) -> list[str]:
        """One line of text -> model tokens."""
        if self.kind == "nltk":
            return normalize(text, self.lowercase)
        return (text.lower() if self.lowercase else text).split()

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Model tokens -> readable text (``detokenize``)."""
        return detokenize(tokens)


def insert_only(output: Sequence[object], source: Sequence[object]) -> bool:
    """Whether ``output`` keeps every ``source`` token (words or ids), in order, and only adds tokens:
    the failure mode of a rewrite that inserts ("not", "loved") where a person substitutes a word."""
    if len(output) <= len(source):
        return False
    it = iter(output)
    return all(tok in it for tok in source)  # ``in`` on an iterator consumes it: a subsequence test
