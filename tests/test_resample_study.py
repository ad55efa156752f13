"""scripts/resample_study.py: the judge lock that lets two seed processes share one judge LM, the
quality axis of a frontier, and the summary's gain at matched coverage on real data (hand-made
frontier files instead of the study's runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def study():
    return load_script("resample_study")


def test_the_judge_lock_is_held_once_and_taken_over_from_a_stopped_holder(study, tmp_path) -> None:
    lock = tmp_path / "judge.lock"
    assert study.take_lock(lock) and lock.read_text() == str(os.getpid())
    assert not study.take_lock(lock)  # held by a live process (this one)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(dead.stdout.strip())  # a holder that has exited
    assert study.take_lock(lock) and lock.read_text() != dead.stdout.strip()
    lock.write_text("")  # being written by its holder
    assert not study.take_lock(lock)
    os.utime(lock, (0, 0))  # ... long ago: torn
    assert study.take_lock(lock)


def test_the_quality_axis_is_the_oracle_when_there_is_one_else_the_judge(study) -> None:
    assert study.quality_key([{"nll_oracle": 1.0, "lm_nll": 2.0}]) == "nll_oracle"
    assert study.quality_key([{"lm_nll": 2.0}, {"nll_oracle": 1.0, "lm_nll": 2.0}]) == "lm_nll"


def test_the_summary_measures_gains_against_the_tempered_curve_of_the_judge(study, tmp_path, monkeypatch) -> None:
    out = tmp_path / "study"
    sd = out / "s1"
    (sd / "d-train").mkdir(parents=True)
    tempered = [  # quality (judge NLL) falls and coverage (NLL_test) rises as T falls
        {"temperature": t, "lm_nll": q, "nll_test": c, "reverse_nll": c + 0.5}
        for t, q, c in ((0.8, 3.0, 5.2), (0.9, 3.2, 5.1), (1.0, 3.4, 5.0), (1.1, 3.6, 4.95))
    ]
    (sd / "tempered.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tempered))
    sir = {"temperature": 1.0, "alpha": 1.0, "lm_nll": 3.1, "nll_test": 5.0, "reverse_nll": 5.5, "ess": 0.8}
    (sd / "sir-d-train.jsonl").write_text(json.dumps(sir) + "\n")
    (sd / "d-train" / "ratio.json").write_text(json.dumps({"heldout_auc": 0.6, "test_auc": 0.61}))
    monkeypatch.setattr(sys, "argv", ["resample_study.py", "--summary", "--seeds", "1", "--preset", "coco",
                                      "--data", "x", "--out", str(out)])  # fmt: skip
    assert study.main() == 0
    text = (out / "summary.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| sir-d-train T=1 A=1 "))
    assert "| judge NLL |" in text and row.split("|")[7].strip().startswith("0.300")  # 3.4 at NLL_test 5.0, less 3.1
    assert (out / "frontier.png").is_file()


def test_a_sweep_of_m_and_the_noise_check_add_their_evals_and_summary_rows(study, tmp_path, monkeypatch) -> None:
    args = ["--out", str(tmp_path / "study"), "--resample", "16", "--resample-sweep", "4,16,64"]
    a = study.argparse.Namespace(
        out=str(tmp_path / "study"), seed=1, preset="oracle", data="", mle_epochs=3, ratio_steps=10, ratio_flags="",
        temperatures="1.0", sir_temperatures="1.0,1.1", alphas="1", resample=16, resample_sweep="4,16,64",
        sweep_temperatures="1.0", samples_per_point=10, adv=[], adv_steps=1, adv_eval_every=1, adv_temperatures="1.0",
        adv_alphas="", judge_flags="", threads=1, device="cpu", noise_check=True, d_ensemble="", d_kind=[],
    )  # fmt: skip
    sd = tmp_path / "study" / "s1"
    cmds = {done.name: cmd for done, cmd in study.steps(a, sd)}
    assert study.sweep(a) == [4, 64]  # 16 is the main M: its file keeps its name
    for m in (4, 64):
        for d in ("d-train", "d-fresh"):
            cmd = cmds[f"sir-{d}-m{m}.jsonl"]
            assert cmd[cmd.index("--resample") + 1] == str(m) and cmd[cmd.index("--temperatures") + 1] == "1.0"
    assert "sir-d-train-m16.jsonl" not in cmds
    again = cmds["tempered-again.jsonl"]  # the noise floor: the same generator, other samples
    assert again[again.index("--seed") + 1] == "1001" and again[again.index("--temperatures") + 1] == "1.0,1.1"
    a.noise_check = False
    assert "tempered-again.jsonl" not in {done.name for done, _ in study.steps(a, sd)}
    a.resample_sweep = "4,x"
    with pytest.raises(SystemExit, match="--resample-sweep"):
        study.sweep(a)

    (sd / "d-train").mkdir(parents=True)
    tempered = [
        {"temperature": t, "nll_oracle": q, "nll_test": c, "reverse_nll": c + 0.5}
        for t, q, c in ((0.8, 3.0, 5.2), (0.9, 3.2, 5.1), (1.0, 3.4, 5.0), (1.1, 3.6, 4.95))
    ]
    (sd / "tempered.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tempered))
    point = {"temperature": 1.0, "alpha": 1.0, "nll_test": 5.0, "reverse_nll": 5.5, "ess": 0.8}
    (sd / "sir-d-train.jsonl").write_text(json.dumps({**point, "nll_oracle": 3.3}) + "\n")
    (sd / "sir-d-train-m64.jsonl").write_text(json.dumps({**point, "nll_oracle": 3.2, "ess": 0.5}) + "\n")
    (sd / "d-train" / "ratio.json").write_text(json.dumps({"heldout_auc": 0.6, "test_auc": 0.61}))
    (sd / "tempered-again.jsonl").write_text(json.dumps({**tempered[2], "nll_oracle": 3.42}) + "\n")
    monkeypatch.setattr(sys, "argv", ["resample_study.py", "--summary", "--seeds", "1", *args])
    assert study.main() == 0
    text = (tmp_path / "study" / "summary.md").read_text()
    rows = {line.split("|")[1].strip(): line.split("|") for line in text.splitlines() if line.startswith("| sir-")}
    assert rows["sir-d-train T=1 A=1"][7].strip().startswith("0.100")
    assert rows["sir-d-train M=64 T=1 A=1"][7].strip().startswith("0.200")
    assert rows["sir-d-train M=64 T=1 A=1"][5].strip() == "0.50"
    assert not any("M=4" in k for k in rows)  # no file: no row
    noise = next(line for line in text.splitlines() if line.startswith("| tempered-again T=1 "))
    assert noise.split("|")[7].strip().startswith("-0.020") and noise.split("|")[6].strip() == "-"  # no D
    assert rows["sir-d-train T=1 A=1"][9].strip().startswith("0.120")  # 0.100 less the floor's -0.020
    assert rows["sir-d-train M=64 T=1 A=1"][9].strip().startswith("0.220") and noise.split("|")[9].strip() == "-"


def test_an_ensemble_of_ds_trains_its_members_and_resamples_by_all_of_them(study, tmp_path, monkeypatch) -> None:
    args = ["--out", str(tmp_path / "study"), "--seed", "2", "--d-ensemble", "3,2"]
    seen = []  # the parsed arguments, with the real parser's defaults

    def run_seed(ns) -> int:
        seen.append(ns)
        return 0

    monkeypatch.setattr(sys, "argv", ["resample_study.py", *args])
    monkeypatch.setattr(study, "run_seed", run_seed)
    assert study.main() == 0
    (a,) = seen
    assert study.ensembles(a) == [2, 3]
    assert study.ensemble_members(a, 2) == [("d-train", 2), ("d-train-seed102", 102), ("d-train-seed202", 202)]
    sd = tmp_path / "study" / "s2"
    cmds = {str(done.relative_to(sd)): cmd for done, cmd in study.steps(a, sd)}
    member = cmds["d-train-seed202/ratio.json"]
    assert member[member.index("--run-dir") + 1] == str(sd / "d-train-seed202")
    assert member[len(member) - 1 - member[::-1].index("--seed") + 1] == "202"  # its last --seed wins
    three = cmds["sir-d-ens3.jsonl"]
    assert three[three.index("--ratio") + 1].split(",") == [
        str(sd / d) for d in ("d-train", "d-train-seed102", "d-train-seed202")
    ]
    two = cmds["sir-d-ens2.jsonl"]
    assert two[two.index("--ratio") + 1].split(",") == [str(sd / d) for d in ("d-train", "d-train-seed102")]
    for j, d in ((2, "d-train-seed102"), (3, "d-train-seed202")):  # each other member alone
        alone = cmds[f"sir-d-member{j}.jsonl"]
        assert alone[alone.index("--ratio") + 1] == str(sd / d)
    a.d_ensemble = "2,x"
    with pytest.raises(SystemExit, match="--d-ensemble"):
        study.ensembles(a)
    a.d_ensemble = "2"

    tempered = [
        {"temperature": t, "nll_oracle": q, "nll_test": c, "reverse_nll": c + 0.5}
        for t, q, c in ((0.8, 3.0, 5.2), (0.9, 3.2, 5.1), (1.0, 3.4, 5.0), (1.1, 3.6, 4.95))
    ]
    sd.mkdir(parents=True)
    (sd / "tempered.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tempered))
    for d, auc in (("d-train", 0.6), ("d-train-seed102", 0.7)):
        (sd / d).mkdir(parents=True)
        (sd / d / "ratio.json").write_text(json.dumps({"heldout_auc": auc, "test_auc": auc}))
    point = {"temperature": 1.0, "alpha": 1.0, "nll_test": 5.0, "reverse_nll": 5.5, "ess": 0.8, "nll_oracle": 3.25}
    (sd / "sir-d-ens2.jsonl").write_text(json.dumps(point) + "\n")
    monkeypatch.setattr(sys, "argv", ["resample_study.py", "--summary", "--seeds", "2", *args[:2], "--d-ensemble", "2"])
    assert study.main() == 0
    text = (tmp_path / "study" / "summary.md").read_text()
    row = next(line.split("|") for line in text.splitlines() if line.startswith("| sir-d-ens2 T=1 A=1 "))
    assert row[6].strip() == "0.650" and row[7].strip().startswith("0.150")  # the members' mean AUC; 3.4 - 3.25

    # D's seed against the generator's: seed 2's two Ds gain 0.15 and 0.05 alone, seed 3's 0.45 and 0.35
    for seed, own, other, ens in (("2", 3.25, 3.35, 3.3), ("3", 2.95, 3.05, 3.0)):
        sd = tmp_path / "study" / f"s{seed}"
        for d in ("d-train", f"d-train-seed{int(seed) + 100}"):
            (sd / d).mkdir(parents=True, exist_ok=True)
            (sd / d / "ratio.json").write_text(json.dumps({"heldout_auc": 0.6, "test_auc": 0.6}))
        (sd / "tempered.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tempered))
        for name, q in (("sir-d-train", own), ("sir-d-member2", other), ("sir-d-ens2", ens)):
            (sd / f"{name}.jsonl").write_text(json.dumps({**point, "nll_oracle": q}) + "\n")
    monkeypatch.setattr(
        sys, "argv", ["resample_study.py", "--summary", "--seeds", "2,3", *args[:2], "--d-ensemble", "2"]
    )
    assert study.main() == 0
    text = (tmp_path / "study" / "summary.md").read_text()
    member = next(line.split("|") for line in text.splitlines() if line.startswith("| sir-d-member2 T=1 A=1 "))
    assert member[7].strip().startswith("0.200 ± 0.212")  # 0.05 and 0.35
    spread = next(line.split("|") for line in text.splitlines() if line.startswith("| T=1, A=1 "))
    assert "2: +0.150 / +0.050" in spread[2] and "→ +0.100" in spread[2] and "3: +0.450 / +0.350" in spread[2]
    assert spread[3].strip() == "0.071" and spread[4].strip() == "0.212"  # within: sd of (0.15, 0.05); between


def test_another_kind_of_d_trains_with_its_flags_and_resamples_alone_and_with_d_train(
    study, tmp_path, monkeypatch
) -> None:
    args = ["--out", str(tmp_path / "study"), "--seed", "2", "--preset", "coco", "--ratio-steps", "2000"]
    args += ["--d-kind", "gen=--arch generator --steps 1000"]
    seen = []
    monkeypatch.setattr(sys, "argv", ["resample_study.py", *args])
    monkeypatch.setattr(study, "run_seed", lambda ns: seen.append(ns) or 0)
    assert study.main() == 0
    (a,) = seen
    sd = tmp_path / "study" / "s2"
    order = [str(done.relative_to(sd)) for done, _ in study.steps(a, sd)]
    cmds = dict(zip(order, (cmd for _, cmd in study.steps(a, sd)), strict=True))
    gen = cmds["d-gen/ratio.json"]
    assert gen[gen.index("--run-dir") + 1] == str(sd / "d-gen") and gen[gen.index("--arch") + 1] == "generator"
    assert gen[len(gen) - 1 - gen[::-1].index("--steps") + 1] == "1000"  # its own --steps come last and win
    assert order.index("d-gen/ratio.json") < order.index("sir-d-gen.jsonl")
    assert cmds["sir-d-gen.jsonl"][cmds["sir-d-gen.jsonl"].index("--ratio") + 1] == str(sd / "d-gen")
    both = cmds["sir-d-train+gen.jsonl"]
    assert both[both.index("--ratio") + 1].split(",") == [str(sd / "d-train"), str(sd / "d-gen")]
    for bad in (["train=--lr 1"], ["a b=--lr 1"], ["=--lr 1"]):
        a.d_kind = bad
        with pytest.raises(SystemExit, match="--d-kind"):
            study.other_kinds(a)

    tempered = [
        {"temperature": t, "lm_nll": q, "nll_test": c, "reverse_nll": c + 0.5}
        for t, q, c in ((0.8, 3.0, 5.2), (0.9, 3.2, 5.1), (1.0, 3.4, 5.0), (1.1, 3.6, 4.95))
    ]
    sd.mkdir(parents=True)
    (sd / "tempered.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tempered))
    for d, auc in (("d-train", 0.6), ("d-gen", 0.7)):
        (sd / d).mkdir()
        (sd / d / "ratio.json").write_text(json.dumps({"heldout_auc": auc, "test_auc": auc}))
    point = {"temperature": 1.0, "alpha": 1.0, "nll_test": 5.0, "reverse_nll": 5.5, "ess": 0.8}
    for name, q in (("sir-d-gen", 3.3), ("sir-d-train+gen", 3.2)):
        (sd / f"{name}.jsonl").write_text(json.dumps({**point, "lm_nll": q}) + "\n")
    monkeypatch.setattr(sys, "argv", ["resample_study.py", "--summary", "--seeds", "2", *args[:4], *args[-2:]])
    assert study.main() == 0
    rows = {
        line.split("|")[1].strip(): line.split("|")
        for line in (tmp_path / "study" / "summary.md").read_text().splitlines()
        if line.startswith("| sir-")
    }
    assert rows["sir-d-gen T=1 A=1"][6].strip() == "0.700" and rows["sir-d-gen T=1 A=1"][7].strip().startswith("0.100")
    both = rows["sir-d-train+gen T=1 A=1"]
    assert both[6].strip() == "0.650" and both[7].strip().startswith("0.200")  # the two Ds' mean AUC; 3.4 - 3.2


def test_the_machines_that_ran_a_seed_are_noted_and_named_in_the_summary(study, tmp_path, monkeypatch) -> None:
    out = tmp_path / "study"
    for s in (1, 2):
        (out / f"s{s}").mkdir(parents=True)
    here = study.machine()
    assert {"cpu", "capability", "torch"} <= set(here)
    study.note_machine(out / "s1")
    study.note_machine(out / "s1")  # the same machine again: noted once
    assert json.loads((out / "s1" / "machine.json").read_text()) == [here]
    assert study.machines(out, [1, 2]) == ["", f"Machine: {study.describe_machine(here)} (every seed)."]
    other = {**here, "cpu_family": "25", "model": "1", "cpu": "Other CPU"}
    monkeypatch.setattr(study, "machine", lambda: other)
    study.note_machine(out / "s2")
    line = study.machines(out, [1, 2])[1]
    assert line.startswith("Machines (") and "Other CPU (family 25, model 1)" in line and here["cpu"] in line
