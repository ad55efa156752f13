"""scripts/score_systems.py: splitting an ``eval style --out`` file, the per-seed and mean table,
and one end-to-end scoring of copied inputs on the style fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, load_script
from textgan.cli import main

ROOT = Path(__file__).resolve().parents[1]
STYLE = FIXTURES / "style"


@pytest.fixture(scope="module")
def ss():
    return load_script("score_systems")


def test_split_transfers_by_source_style(ss, tmp_path) -> None:
    tsv = tmp_path / "t.tsv"
    tsv.write_text("bad food .\t1\tgood food .\nrude staff\t1\tkind staff\ngreat !\t0\tawful !\n")
    assert ss.split_transfers(tsv) == [["good food .", "kind staff"], ["awful !"]]
    tsv.write_text("bad food .\t2\tgood food .\n")
    with pytest.raises(SystemExit, match=r"error: .*t.tsv:1: expected"):
        ss.split_transfers(tsv)
    tsv.write_text("only two\tcolumns\n")
    with pytest.raises(SystemExit, match="error:"):
        ss.split_transfers(tsv)
    with pytest.raises(SystemExit, match="no such transfers file"):
        ss.split_transfers(tmp_path / "missing.tsv")
    with pytest.raises(SystemExit, match="NAME=PATH"):
        ss.parse_system("no-paths")


def test_table_has_each_seed_and_the_mean(ss) -> None:
    row = {"bleu_src": 60.0, "bleu_ref": 20.0, "bleu_ref_multi": 50.0, "insert_only": 10.0, "ppl": None}
    rows = [
        {"system": "a", "seed": 1, "accuracy": 80.0, "gm2": 40.0, "gm3": 45.0, **row},
        {"system": "a", "seed": 2, "accuracy": 90.0, "gm2": 42.0, "gm3": 47.0, **row},
        {"system": "b", "seed": 1, "accuracy": 70.0, "gm2": 37.0, "gm3": 43.0, **row},
    ]
    lines = ss.table(rows).splitlines()
    assert lines[2].startswith("| a | 1 | 80.0 | 60.0 | 20.00 | 50.00 | 10.0 | - | 40.0 | 45.0 |")
    assert lines[4] == (
        "| **a** | mean ± std of 2 | 85.0 ± 7.1 | 60.0 ± 0.0 | 20.00 ± 0.00 | 50.00 ± 0.00 | 10.0 ± 0.0 | - "
        "| 41.0 ± 1.4 | 46.0 ± 1.4 |"
    )
    assert lines[5].startswith("| b | 1 | 70.0") and len(lines) == 6  # one seed: no mean row


def test_scores_transfers_files_and_folders_alike_and_publishes(tmp_path) -> None:
    clf = tmp_path / "clf"
    cmd = ["train", "classifier", "--preset", "smoke", "--data", str(STYLE), "--run-dir", str(clf), "--no-progress"]
    assert main(cmd) == 0
    sources = [(STYLE / f"test.{s}").read_text().splitlines() for s in (0, 1)]
    tsv = tmp_path / "copy.tsv"  # the unchanged input, as eval style --out writes transfers
    tsv.write_text("".join(f"{x}\t{1 - s}\t{x}\n" for s in (0, 1) for x in sources[s]))
    folder = tmp_path / "copy-dir"
    folder.mkdir()
    (folder / "neg2pos.txt").write_text("".join(x + "\n" for x in sources[0]))
    (folder / "pos2neg.txt").write_text("".join(x + "\n" for x in sources[1]))
    out, publish = tmp_path / "out", tmp_path / "pub"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "score_systems.py"), "--data", str(STYLE), "--classifier", str(clf),
         "--system", f"copy={tsv},{folder}", "--publish", str(publish), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in (out / "scores.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in rows] == [1, 2]
    assert all(r["bleu_src"] == pytest.approx(100.0) for r in rows)
    assert {k: v for k, v in rows[0].items() if k != "outputs"} == {
        k: v for k, v in rows[1].items() if k not in ("outputs", "seed")
    } | {"seed": 1}
    assert (publish / "textgan-copy-s1" / "neg2pos.txt").read_text() == (folder / "neg2pos.txt").read_text()
    assert "mean ± std of 2" in (out / "table.md").read_text()
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "score_systems.py"), "--classifier", str(clf), "--data", str(STYLE),
         "--system", f"x={tmp_path / 'nope.tsv'}", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and bad.stderr.strip().startswith("error:") and "Traceback" not in bad.stderr
