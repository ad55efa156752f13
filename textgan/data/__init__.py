"""Data: tokenisers, vocabularies, corpora and the synthetic oracle."""

from textgan.data.corpus import Corpus, load_corpus
from textgan.data.oracle import OracleLSTM
from textgan.data.vocab import Tokenizer, Vocab

__all__ = ["Corpus", "OracleLSTM", "Tokenizer", "Vocab", "load_corpus"]
