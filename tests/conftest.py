"""Shared fixtures: seeding, tiny corpora, the optional real data in ../shared/data."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TEXTGAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("TEXTGAN_NO_PROGRESS", "1")


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def tiny_corpus() -> Path:
    """A tiny corpus directory (train.txt, test.txt) shipped with the tests."""
    return FIXTURES / "tiny"


def shared(name: str) -> Path:
    """A folder of ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data {name} not available")
    return path
