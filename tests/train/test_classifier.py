from __future__ import annotations

import json

import torch

from tests.conftest import FIXTURES
from textgan.cli import main
from textgan.train.classifier import load_classifier, predict_styles

STYLE = FIXTURES / "style"


def test_train_classifier_end_to_end(tmp_path, capsys) -> None:
    run = tmp_path / "clf"
    args = [
        "train",
        "classifier",
        "--preset",
        "smoke",
        "--data",
        str(STYLE),
        "--run-dir",
        str(run),
        "--epochs",
        "30",
        "--no-progress",
        "--lr",
        "0.01",
    ]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["dev_accuracy"] >= 0.75 and 0 <= out["test_accuracy"] <= 1
    ckpt = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["task"] == "classifier"
    model, vocab, cfg = load_classifier(run)
    assert predict_styles(model, vocab, ["rude staff .", "friendly staff .", ""])[:2] == [0, 1]


def test_train_classifier_bad_input(tmp_path, capsys) -> None:
    assert main(["train", "classifier", "--preset", "smoke", "--run-dir", str(tmp_path / "r")]) == 2
    assert "style directory is required" in capsys.readouterr().err
    assert main(["train", "classifier", "--data", str(tmp_path / "none"), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "not found" in err and not (tmp_path / "r").exists()
    assert main(["train", "classifier", "--data", str(STYLE), "--lr", "0", "--run-dir", str(tmp_path / "r")]) == 2
    assert "--lr" in capsys.readouterr().err
