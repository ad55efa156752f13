"""scripts/style_study.py end to end on the tiny style example: variants from one autoencoder,
a final greedy score, the --decode scorings, and the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from textgan.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = str(ROOT / "data" / "tiny-style")


@pytest.mark.slow
def test_style_study_runs_variants_and_decodings(tmp_path, capsys) -> None:
    clf, ae, out = tmp_path / "clf", tmp_path / "ae", tmp_path / "study"
    assert main(["train", "classifier", "--preset", "smoke", "--data", DATA, "--run-dir", str(clf)]) == 0
    smoke = ["--preset", "smoke", "--data", DATA, "--adv-steps", "0", "--no-progress"]
    assert main(["train", "style", *smoke, "--run-dir", str(ae)]) == 0
    capsys.readouterr()
    cmd = [
        sys.executable, str(ROOT / "scripts" / "style_study.py"), "--ae", str(ae), "--data", DATA,
        "--classifier", str(clf), "--preset", "smoke", "--adv-steps", "2", "--adv-eval-every", "1",
        "--seeds", "1", "--parallel", "2", "--out", str(out), "--variants", "ppo,cyc",
        "--define", "cyc=--loss ppo --cycle-weight 1", "--decode", "b2=--beam 2 --style-rerank 1 --no-repeat",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["variant"] for r in rows) == ["cyc", "cyc+b2", "ppo", "ppo+b2"]
    for r in rows:
        assert 0 <= r["accuracy"] <= 100 and r["bleu_src"] is not None
    assert (out / "s1" / "ppo" / "transfers-b2.tsv").is_file()
    assert "| ppo+b2 | 1 |" in (out / "summary.md").read_text()
    # --summary-only scores finished runs with a new --decode, and trains nothing
    again = [*cmd[: cmd.index("--decode")], "--decode", "g=--no-repeat", "--summary-only"]
    res = subprocess.run(again, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "s1" / "cyc" / "eval-g.json").is_file()
    assert "| cyc+g | 1 |" in (out / "summary.md").read_text()
