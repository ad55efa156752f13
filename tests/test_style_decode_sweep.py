"""scripts/style_decode_sweep.py: the selection rule, per-run tuning, resuming and the summary, with
the evaluations replaced by a fixed table (each real one is a `textgan eval style`)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sweep(monkeypatch):
    module = load_script("style_decode_sweep")
    calls: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def values(flags, flag, kind, default):
        return [kind(v) for v in flags[flags.index(flag) + 1].split(",")] if flag in flags else [default]

    def fake_score(run, a, split, flags, tag):
        """A fixed table; like `textgan eval style`, one result per combination of the listed values
        (with its weights when there are several)."""
        with lock:
            calls.append((run, split, tag))
        grid = [
            (s, c, o if c else 2)
            for s in values(flags, "--style-rerank", float, 0.0)
            for c in values(flags, "--content-rerank", float, 0.0)
            for o in values(flags, "--content-order", int, 2)
        ]
        grid = list(dict.fromkeys(grid))
        results = []
        for style, content, order in grid:
            content_eff = content + (1.0 if order == 4 else 0.0)  # order 4: 1 more BLEU-src, same accuracy
            margin = 4.0 if "cycle1" in run else 0.0  # cycle1 runs keep more accuracy as content weight grows
            r = {
                "accuracy": 92.0 + margin - content_eff / 2,
                "bleu_src": 50.0 + content_eff + (1.0 if run.startswith("b") else 0.0),
                "bleu_ref": 18.0 + content_eff / 4 if split == "test" else None,
                "ppl": 70.0 if split == "test" else None,
                "gm": 45.0 + content_eff / 4,
                "seconds": 1.0,
            }
            if len(grid) > 1:
                r.update(style_rerank=style, content_rerank=content, content_order=order)
            results.append(r)
        return results

    monkeypatch.setattr(module, "score", fake_score)
    module.calls = calls
    return module


def args(out: Path, *extra: str) -> list[str]:
    return ["--run", "a/s1/ppo-cycle3", "--data", "d", "--classifier", "c", "--beams", "16", "--style-rerank", "1",
            "--content-rerank", "8,12,16", "--out", str(out), *extra]  # fmt: skip


def test_one_choice_for_all_runs_by_the_rule(sweep, tmp_path) -> None:
    assert sweep.main(args(tmp_path, "--also", "a/s2/ppo-cycle3", "--also", "a/s1/ppo-cycle1")) == 0
    test = [json.loads(line) for line in (tmp_path / "test.jsonl").read_text().splitlines()]
    # dev accuracy 88 at content 8, 86 at 12 (< 87): the rule keeps content 8 for every run
    assert {r["flags"] for r in test} == {"--beam 16 --no-repeat --style-rerank 1 --content-rerank 8"}
    assert [c for c in sweep.calls if c[1] == "dev"] == [("a/s1/ppo-cycle3", "dev", "b16")]  # one beam search
    summary = (tmp_path / "summary.md").read_text()
    assert "| ppo-cycle3 | s1,s2 | 88.0 ± 0.0 | 58.0 ± 0.0 | 20.0 ± 0.0 | 70.0 ± 0.0 |" in summary


def test_tune_each_resume_and_parallel(sweep, tmp_path) -> None:
    runs = ["--also", "a/s1/ppo-cycle1", "--also", "a/s2/ppo-cycle1"]
    assert sweep.main(args(tmp_path, *runs, "--tune-each", "--parallel", "2")) == 0
    test = {r["run"]: r for r in map(json.loads, (tmp_path / "test.jsonl").read_text().splitlines())}
    assert test["a/s1/ppo-cycle3"]["flags"].endswith("--content-rerank 8")
    # cycle1: accuracy 96 - w/2 stays >= 87 up to w = 16 -> the highest BLEU-src there
    assert test["a/s1/ppo-cycle1"]["flags"].endswith("--content-rerank 16")
    for tag in ("s1-ppo-cycle3", "s1-ppo-cycle1", "s2-ppo-cycle1"):
        assert len((tmp_path / tag / "dev.jsonl").read_text().splitlines()) == 3
    assert "| ppo-cycle1 | s1,s2 | 88.0 ± 0.0 | 66.0 ± 0.0 | 22.0 ± 0.0 |" in (tmp_path / "summary.md").read_text()
    sweep.calls.clear()
    assert sweep.main(args(tmp_path, *runs, "--tune-each", "--content-rerank", "8,12,16,20")) == 0
    assert len([c for c in sweep.calls if c[1] == "dev"]) == 3  # one evaluation per run, for the new setting
    for tag in ("s1-ppo-cycle3", "s1-ppo-cycle1", "s2-ppo-cycle1"):
        rows = [json.loads(line) for line in (tmp_path / tag / "dev.jsonl").read_text().splitlines()]
        assert [r["content_rerank"] for r in rows] == [8, 12, 16, 20]


def test_deadline_leaves_a_partial_sweep_to_resume(sweep, tmp_path, capsys) -> None:
    assert sweep.main(args(tmp_path, "--deadline", "-1")) == 1
    assert "partial" in capsys.readouterr().err
    assert not (tmp_path / "test.jsonl").exists()
    assert sweep.main(args(tmp_path)) == 0


def test_save_writes_each_runs_choice_for_transfer(sweep, tmp_path, monkeypatch) -> None:
    from textgan.decoding import read_decoding

    monkeypatch.chdir(tmp_path)
    for run in ("a/s1/ppo-cycle3", "a/s1/ppo-cycle1"):
        (tmp_path / run).mkdir(parents=True)
    assert sweep.main(args(tmp_path / "out", "--also", "a/s1/ppo-cycle1", "--tune-each", "--save")) == 0
    assert read_decoding("a/s1/ppo-cycle3") == {
        "beam": 16,
        "style_rerank": 1.0,
        "content_rerank": 8.0,
        "no_repeat": True,
        "content_order": 2,
    }
    assert read_decoding("a/s1/ppo-cycle1")["content_rerank"] == 16.0
    saved = json.loads((tmp_path / "a/s1/ppo-cycle1/decoding.json").read_text())
    assert saved["dev_accuracy"] == 88.0 and "dev split of a/s1/ppo-cycle1" in saved["chosen_by"]


def test_content_orders_are_a_setting_and_a_weight_of_0_is_scored_once(sweep, tmp_path, monkeypatch) -> None:
    from textgan.decoding import read_decoding

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a/s1/ppo-cycle3").mkdir(parents=True)
    extra = ("--content-rerank", "0,8,12", "--content-orders", "2,4", "--save")
    assert sweep.main(args(tmp_path / "out", *extra)) == 0
    assert [c[2] for c in sweep.calls if c[1] == "dev"] == ["b16"]
    rows = [json.loads(line) for line in (tmp_path / "out/dev.jsonl").read_text().splitlines()]
    assert sorted((r["content_rerank"], r["content_order"]) for r in rows) == [(0, 2), (8, 2), (8, 4), (12, 2), (12, 4)]
    test = json.loads((tmp_path / "out/test.jsonl").read_text().splitlines()[0])
    # order 4 at content 8: dev accuracy 92 - (8+1)/2 = 87.5 >= 87, BLEU-src 59, the best that qualifies
    assert test["flags"] == "--beam 16 --no-repeat --style-rerank 1 --content-rerank 8 --content-order 4"
    assert read_decoding("a/s1/ppo-cycle3")["content_order"] == 4
    assert "| 16 | 1 | 8 | 4 | 87.5 | 59.0 **chosen** |" in (tmp_path / "out/summary.md").read_text()
    sweep.calls.clear()  # rows of an older sweep (no content_order key) resume as order 2
    rows = (tmp_path / "out/dev.jsonl").read_text().splitlines()
    old = [json.loads(r) for r in rows]
    for r in old:
        if r["content_order"] == 2:
            del r["content_order"]
    (tmp_path / "out/dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    assert sweep.main(args(tmp_path / "out", *extra)) == 0
    assert not [c for c in sweep.calls if c[1] == "dev"]


def test_data_without_human_rewrites_reads_as_dashes(sweep, tmp_path, monkeypatch) -> None:
    scored = sweep.score

    def no_refs(*args):
        return [{**r, "bleu_ref": None, "ppl": None, "gm": float("nan")} for r in scored(*args)]

    monkeypatch.setattr(sweep, "score", no_refs)
    monkeypatch.chdir(tmp_path)
    assert sweep.main(["--run", "style", "--also", "other", "--data", "d", "--classifier", "c", "--beams", "4",
                       "--style-rerank", "1", "--content-rerank", "6,8", "--tune-each", "--out", "out"]) == 0  # fmt: skip
    assert (tmp_path / "out/style/dev.jsonl").is_file()  # a run without a seed folder: its own name
    summary = (tmp_path / "out/summary.md").read_text()
    assert "| style | `--beam 4 --no-repeat --style-rerank 1 --content-rerank 8` | 88.0 | 58.0 | - | - | - |" in summary
