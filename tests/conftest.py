"""Shared fixtures: seeding, tiny corpora, the optional real data in ../shared/data."""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TEXTGAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCRIPTS = ROOT / "scripts"

os.environ.setdefault("TEXTGAN_NO_PROGRESS", "1")


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _pristine_logging():
    """Each test starts with the 'textgan' logger as a fresh process has it (no handlers, records
    propagate to the root, where caplog sees them) and leaves it so, whatever the CLI's
    ``setup_logging`` or pytest's capture attached during the test."""
    logger = logging.getLogger("textgan")

    def reset() -> None:
        logger.handlers[:] = []
        logger.propagate, logger.level = True, logging.NOTSET

    reset()
    yield
    reset()


@pytest.fixture
def tiny_corpus() -> Path:
    """The tiny corpus directory (train.txt, test.txt) that data/README.md shows users: the tests
    run on the same example."""
    return ROOT / "data" / "tiny"


def shared(name: str) -> Path:
    """A folder of ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data {name} not available")
    return path


@pytest.fixture(scope="session")
def smoke_lm_run(tmp_path_factory) -> Path:
    """One smoke-preset LM run on the oracle (MLE and a few adversarial steps), trained once per
    session for tests that only read a finished run; tests must not write into it."""
    from textgan.cli import main

    run = tmp_path_factory.mktemp("smoke") / "run"
    assert main(["train", "lm", "--preset", "smoke", "--no-progress", "--run-dir", str(run)]) == 0
    return run


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module; scripts/ goes on sys.path for the scripts' own ``import runner``."""
    if str(SCRIPTS) not in sys.path:
        sys.path.append(str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
