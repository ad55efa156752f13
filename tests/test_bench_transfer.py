"""scripts/bench_transfer.py runs end to end on the tiny style fixture, and its rerank grid (one
beam search ranked per setting) gives the same outputs as one beam search per setting."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def test_bench_transfer_smoke(capsys) -> None:
    module = load_script("bench_transfer")
    argv = ["--data", str(ROOT / "data" / "tiny-style"), "--sentences", "8", "--baseline-sentences", "2",
            "--threads", "1", "--precisions", "fp32", "--grid", "4", "--grid-sentences", "6"]  # fmt: skip
    assert module.main(argv) == 0
    out = capsys.readouterr().out
    assert "rerank grid: 4 settings" in out
    grid_row = out.strip().splitlines()[-1]
    assert grid_row.startswith("| 1 |") and grid_row.endswith("| yes |")
