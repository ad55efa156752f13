"""The Python API: the README's "Python API" code runs verbatim; exports are documented."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import textgan

ROOT = Path(__file__).resolve().parents[1]


def readme_api_code() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_readme_python_api_runs_verbatim(tmp_path, monkeypatch, capsys) -> None:
    code = readme_api_code()
    assert len(code.strip().splitlines()) <= 20
    shutil.copytree(ROOT / "data" / "tiny-style", tmp_path / "data" / "tiny-style")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 6
    assert [line.split()[0] for line in out[1:3]] == ["0.8", "1.0"]  # the frontier, one line a point
    transfers = eval(out[4])  # noqa: S307 - a printed list of strings
    assert isinstance(transfers, list) and len(transfers) == 2 and transfers[1] == ""
    assert len(eval(out[5])) == 1  # noqa: S307 - no decoding.json: greedy
    assert (tmp_path / "runs" / "api-lm" / "generator.safetensors").is_file()


def test_exports_are_listed_and_documented() -> None:
    import textgan.metrics

    for module in (textgan, textgan.metrics):
        for name in module.__all__:
            obj = getattr(module, name)
            if name != "__version__":
                assert obj.__doc__ and len(obj.__doc__) > 20, name


def test_generate_is_reproducible_and_tempered(tmp_path) -> None:
    run = tmp_path / "r"
    textgan.train_lm(textgan.lm_config("smoke", run_dir=str(run), progress=False))
    lm = textgan.load(run)
    assert isinstance(lm, textgan.LMRun)
    a, b = lm.generate(8, seed=3), lm.generate(8, seed=3)
    assert a == b and len(a) == 8 and lm.generate(8, seed=4) != a
    cold = lm.generate(8, temperature=1e-6, seed=1)
    assert cold == lm.generate(8, temperature=1e-6, seed=2)  # T -> 0 is greedy: seed-independent
    with pytest.raises(textgan.runs.UserError):
        lm.generate(0)


def test_config_overrides_by_flag_name() -> None:
    cfg = textgan.style_config("smoke", data="d", word_drop=0.2, adv_steps=7, filter_sizes=[2, 3])
    assert (cfg.data.data, cfg.train.word_drop, cfg.adv.adv_steps) == ("d", 0.2, 7)
    assert cfg.critic.filter_sizes == (2, 3)
    with pytest.raises(ValueError, match="did you mean word_drop"):
        textgan.style_config("smoke", word_dropp=0.1)
    with pytest.raises(ValueError, match="--word-drop"):
        textgan.style_config("smoke", word_drop=2.0)
    with pytest.raises(ValueError, match="unknown preset"):
        textgan.lm_config("nope")


def test_load_refuses_a_classifier_run_and_a_missing_dir(tmp_path) -> None:
    with pytest.raises(textgan.runs.UserError, match="not found"):
        textgan.load(tmp_path / "none")


def test_run_loading_sits_below_metrics_and_train() -> None:
    import subprocess
    import sys

    code = (
        "import sys, textgan.runs; "
        "bad = sorted(m for m in sys.modules if m.startswith(('textgan.train', 'textgan.metrics', 'textgan.cli'))); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_help_answers_without_importing_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io, textgan.cli as c; "
        "out = io.StringIO(); ctx = contextlib.redirect_stdout(out); ctx.__enter__(); code = c.main(['--help']); "
        "ctx.__exit__(None, None, None); "
        "print('torch' in sys.modules, code, 'commands:' in out.getvalue())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "0", "True"], done.stdout + done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["generate"],
        ["eval", "style"],
        ["eval", "lm"],
        ["transfer"],
        ["plot"],
        ["export"],
        ["train", "ratio"],
        ["train", "lm"],
        ["train", "style"],
        ["train", "classifier"],
    ],  # fmt: skip
)
def test_command_help_answers_without_importing_torch(command) -> None:
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io, textgan.cli as c; out = io.StringIO(); "
        "ctx = contextlib.redirect_stdout(out); ctx.__enter__()\n"
        "try:\n    code = c.main(%r)\nexcept SystemExit as e:\n    code = e.code\n"
        "ctx.__exit__(None, None, None); print('torch' in sys.modules, code, 'usage' in out.getvalue().lower())"
    ) % [*command, "--help"]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "0", "True"], done.stdout + done.stderr
