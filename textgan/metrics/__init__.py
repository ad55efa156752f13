"""Metrics: BLEU and self-BLEU (``ngrams``), NLL_gen and NLL_oracle (``nll``), the temperature-swept
quality-diversity frontier (``temperature``), and the style-transfer metrics (``style``).

The functions are importable from here: ``from textgan.metrics import bleu, self_bleu, nll_gen``.
"""

from textgan.metrics.ngrams import bleu, corpus_bleu, self_bleu
from textgan.metrics.nll import nll_gen, nll_oracle
from textgan.metrics.temperature import frontier

__all__ = ["bleu", "corpus_bleu", "frontier", "nll_gen", "nll_oracle", "self_bleu"]
