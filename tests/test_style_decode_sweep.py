"""scripts/style_decode_sweep.py: the selection rule, per-run tuning, resuming and the summary, with
the evaluations replaced by a fixed table (each real one is a `textgan eval style`)."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sweep(monkeypatch):
    spec = importlib.util.spec_from_file_location("style_decode_sweep", ROOT / "scripts" / "style_decode_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def fake_score(run, a, split, flags, tag):
        content = float(flags[flags.index("--content-rerank") + 1]) if "--content-rerank" in flags else 0.0
        if "--content-order" in flags:  # order 4: the same accuracy for 1 more point of BLEU-src
            content += 1.0 if flags[flags.index("--content-order") + 1] == "4" else -1.0
        margin = 4.0 if "cycle1" in run else 0.0  # cycle1 runs keep more accuracy as content weight grows
        with lock:
            calls.append((run, split, tag))
        return {
            "accuracy": 92.0 + margin - content / 2,
            "bleu_src": 50.0 + content + (1.0 if run.startswith("b") else 0.0),
            "bleu_ref": 18.0 + content / 4 if split == "test" else None,
            "ppl": 70.0 if split == "test" else None,
            "gm": 45.0 + content / 4,
            "seconds": 1.0,
        }

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
    assert [c for c in sweep.calls if c[1] == "dev"] == [
        ("a/s1/ppo-cycle3", "dev", f"b16-s1-c{w}") for w in (8, 12, 16)
    ]
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
    assert sorted(c[2] for c in sweep.calls if c[1] == "dev") == ["b16-s1-c20"] * 3  # only the new setting


def test_deadline_leaves_a_partial_sweep_to_resume(sweep, tmp_path, capsys) -> None:
    assert sweep.main(args(tmp_path, "--deadline", "-1")) == 1
    assert "partial" in capsys.readouterr().err
    assert not (tmp_path / "test.jsonl").exists()
    assert sweep.main(args(tmp_path)) == 0


def test_save_writes_each_runs_choice_for_transfer(sweep, tmp_path, monkeypatch) -> None:
    from textgan.runs import read_decoding

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
    from textgan.runs import read_decoding

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a/s1/ppo-cycle3").mkdir(parents=True)
    extra = ("--content-rerank", "0,8,12", "--content-orders", "2,4", "--save")
    assert sweep.main(args(tmp_path / "out", *extra)) == 0
    dev_tags = sorted(c[2] for c in sweep.calls if c[1] == "dev")
    assert dev_tags == sorted(["b16-s1-c0", "b16-s1-c8", "b16-s1-c8-o4", "b16-s1-c12", "b16-s1-c12-o4"])
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
