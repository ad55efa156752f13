"""The temperature-swept quality-diversity frontier: ``eval lm --temperatures`` and ``plot --frontier``."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import SMOKE, one_error_line
from textgan.cli import main
from textgan.metrics.temperature import parse_temperatures, value_at


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("frontier") / "run"
    assert main([*SMOKE, "--run-dir", str(run), "--mle-epochs", "4", "--adv-steps", "0"]) == 0
    return run


def sweep(run, capsys, temps="0.2,1.0,3.0", n="200"):
    args = ["eval", "lm", "--run", str(run), "--temperatures", temps, "--samples-per-point", n, "--json"]
    capsys.readouterr()
    assert main(args) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_frontier_json_keys_and_structure(smoke_run, capsys) -> None:
    points = sweep(smoke_run, capsys)
    assert [p["temperature"] for p in points] == [0.2, 1.0, 3.0]
    keys = {"temperature", "samples", "nll_test", "nll_oracle", "seconds"}
    keys |= {f"bleu{n}" for n in (2, 3, 4, 5)} | {f"self_bleu{n}" for n in (2, 3, 4, 5)}
    assert all(set(p) == keys for p in points)
    assert all(p["samples"] == 200 for p in points)
    # Colder sampling repeats itself: self-BLEU falls as T rises; the samples' oracle NLL rises.
    sb = [p["self_bleu2"] for p in points]
    assert sb[0] > sb[1] > sb[2]
    assert points[0]["nll_oracle"] < points[2]["nll_oracle"]
    # NLL_test of the tempered model is that of the model at T = 1 (the eval at the end of training).
    final = json.loads((smoke_run / "metrics.jsonl").read_text().splitlines()[-1])
    assert points[1]["nll_test"] == pytest.approx(final["nll_gen"])
    # Saved beside the run, and the same seed gives the same points.
    saved = [json.loads(x) for x in (smoke_run / "frontier.jsonl").read_text().splitlines()]
    assert [p["nll_oracle"] for p in saved] == [p["nll_oracle"] for p in points]
    again = sweep(smoke_run, capsys)
    assert [p["bleu2"] for p in again] == [p["bleu2"] for p in points]


def test_library_frontier_is_the_cli_frontier(smoke_run, capsys) -> None:
    import textgan
    from textgan.utils import UserError

    cli = sweep(smoke_run, capsys, "0.5,1.0", "60")
    lib = list(textgan.evaluate_frontier(smoke_run, (0.5, 1.0), samples_per_point=60))
    drop = lambda p: {k: v for k, v in p.items() if k != "seconds"}  # noqa: E731
    assert [drop(p) for p in lib] == [drop(p) for p in cli]
    # Bad arguments fail at the call, before anything is read (the run dir need not exist).
    for kwargs, message in [
        ({"temperatures": (0.0,)}, "must be > 0"),
        ({"samples_per_point": 1}, "--samples-per-point"),
        ({"resample": 0}, "--resample"),
        ({"resample": 4, "alphas": (-1.0,)}, "--alpha"),
    ]:
        with pytest.raises(UserError, match=message):
            textgan.evaluate_frontier(smoke_run / "missing", **kwargs)


def test_frontier_on_real_text(tmp_path, tiny_corpus, capsys) -> None:
    run = tmp_path / "run"
    assert main([*SMOKE, "--data", str(tiny_corpus), "--run-dir", str(run), "--adv-steps", "0"]) == 0
    points = sweep(run, capsys, "0.5,1", "20")
    assert len(points) == 2 and all("nll_oracle" not in p and "bleu4" in p for p in points)
    out = tmp_path / "plots" / "real.png"
    assert main(["plot", "--frontier", str(run), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_plot_frontier_writes_a_png(smoke_run, tmp_path, capsys) -> None:
    sweep(smoke_run, capsys)
    out = tmp_path / "frontier.png"
    other = tmp_path / "other.jsonl"
    other.write_text((smoke_run / "frontier.jsonl").read_text())
    assert main(["plot", "--frontier", str(smoke_run), str(other), "--labels", "mle,copy", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "lm", "--temperatures", "1"], "needs --run"),
        (["eval", "lm", "--run", "RUN", "--temperatures", "0,1"], "must be > 0"),
        (["eval", "lm", "--run", "RUN", "--temperatures", "a,b"], "comma-separated"),
        (["eval", "lm", "--run", "RUN", "--temperatures", "1", "--samples-per-point", "1"], "--samples-per-point"),
        (["eval", "lm"], "--samples FILE and --references FILE"),
        (["plot", "--frontier", "RUN"], "--out"),
        (["plot", "--frontier", "RUN", "--labels", "a,b", "--out", "x.png"], "2 names for 1 runs"),
        (["plot"], "RUN_DIR"),
    ],
)
def test_bad_frontier_input_is_one_line(smoke_run, tmp_path, capsys, args, message) -> None:
    args = [str(smoke_run) if a == "RUN" else a for a in args]
    args = [str(tmp_path / a) if a == "x.png" else a for a in args]
    assert main(args) == 2
    assert message in one_error_line(capsys)


def test_plot_frontier_of_a_run_without_points(tmp_path, capsys) -> None:
    assert main(["plot", "--frontier", str(tmp_path), "--out", str(tmp_path / "f.png")]) == 2
    assert "eval lm --run" in one_error_line(capsys)
    assert not (tmp_path / "f.png").exists()


def test_parse_temperatures_and_value_at() -> None:
    assert parse_temperatures("0.7, 1,1.3") == (0.7, 1.0, 1.3)
    pts = [{"temperature": 0.8, "x": 1.0, "y": 10.0}, {"temperature": 1.0, "x": 3.0, "y": 20.0}]
    assert value_at(pts, "x", 2.0, "y") == pytest.approx(15.0)
    assert value_at(pts, "x", 2.0, "temperature") == pytest.approx(0.9)
    assert value_at(pts, "x", 1.0, "y") == 10.0
    assert value_at(pts, "x", 3.5, "y") is None
