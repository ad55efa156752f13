from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from textgan.config import ClassifierModelConfig
from textgan.models.classifiers import TextCNN

CFG = ClassifierModelConfig(clf_embed_dim=8, clf_filter_sizes=(2, 3), clf_filters=4, clf_dropout=0.0)


def test_ids_and_soft_agree_and_shapes() -> None:
    model = TextCNN(CFG, vocab_size=12)
    ids = torch.randint(0, 12, (5, 6))
    logits = model(ids=ids)
    assert logits.shape == (5, 2)
    torch.testing.assert_close(logits, model(soft=F.one_hot(ids, 12).float()))
    with pytest.raises(ValueError, match="exactly one"):
        model()
    assert model(ids=ids[:, :1]).shape == (5, 2)  # shorter than the widest filter
