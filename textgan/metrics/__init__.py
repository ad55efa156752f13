"""Metrics: BLEU, self-BLEU, NLL."""
