"""scripts/style_beam_ceiling.py: the oracle's pick on hand-made beams, and the whole script on the
style fixture (a smoke run's beam, every hypothesis scored)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES, load_script
from textgan.cli import main as textgan

STYLE = FIXTURES / "style"
REF = "the food was very good".split()


def test_the_oracle_picks_the_best_rewrite_the_evaluator_reads_as_the_target() -> None:
    ceiling = load_script("style_beam_ceiling").ceiling
    copy, good, bad = "the food was very bad".split(), list(REF), "food good".split()
    # the exact rewrite is read as the wrong style: the oracle takes the best of those that reach it
    score, hit = ceiling([good, copy], copy, REF, 1, [0, 1], {})
    assert hit and score == pytest.approx(100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)
    assert ceiling([good, copy], copy, REF, 1, [1, 1], {}) == (pytest.approx(100.0), True)
    # none reaches the target: the best BLEU-ref of all, counted as a miss
    assert ceiling([bad, good], copy, REF, 1, [0, 0], {}) == (pytest.approx(100.0), False)
    assert ceiling([], copy, REF, 1, [], {})[1] is False  # an empty beam: the input stands in


def test_the_ceiling_is_above_beam_search_on_a_smoke_run(tmp_path, capsys) -> None:
    clf, run = tmp_path / "clf", tmp_path / "run"
    smoke = ["--preset", "smoke", "--data", str(STYLE), "--no-progress"]
    assert textgan(["train", "classifier", *smoke, "--run-dir", str(clf)]) == 0
    assert textgan(["train", "style", *smoke, "--run-dir", str(run), "--st-style-mask", "2"]) == 0
    script = load_script("style_beam_ceiling")
    out = tmp_path / "c.json"
    capsys.readouterr()
    args = ["--run", str(run), "--data", str(STYLE), "--classifier", str(clf), "--beam", "4", "--no-repeat"]
    assert script.main([*args, "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert "oracle_with_copy" in capsys.readouterr().out
    assert res["oracle"]["accuracy"] >= res["beam_search"]["accuracy"]
    assert res["oracle_with_copy"]["accuracy"] >= max(res["oracle"]["accuracy"], res["copy"]["accuracy"])
    assert script.main([*args[:6], "--classifier", str(tmp_path / "absent")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert script.main([*args[:6], "--classifier", str(clf), "--beam", "1"]) == 2
    assert "--beam: must be >= 2" in capsys.readouterr().err


def test_every_beam_holds_k_hypotheses_and_the_chosen_one_is_among_them(tmp_path) -> None:
    from textgan.data.style import load_style_corpus
    from textgan.decoding import beam_tokens
    from textgan.runs import load_style_run

    run = tmp_path / "run"
    assert (
        textgan(["train", "style", "--preset", "smoke", "--data", str(STYLE), "--no-progress", "--run-dir", str(run)])
        == 0
    )
    model, _, vocab, cfg = load_style_run(run, "cpu")
    part = load_style_corpus(STYLE, max_len=cfg.data.max_len, vocab=vocab).splits["test"]
    toks = [s.split() for s in part.texts]
    beams = beam_tokens(model, vocab, toks, [1 - s for s in part.labels.tolist()], 3)
    hyps, chosen = beams.hypotheses(), beams.choose(None)
    assert len(hyps) == len(toks) and all(len(h) == 3 for h in hyps)
    assert all(c in h for c, h in zip(chosen, hyps, strict=True))
