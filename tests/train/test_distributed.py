"""Training under torchrun (DDP, gloo, 2 CPU processes spawned by the tests): the same global
batch gives the same model as one process, the method's batch statistics are global, rank 0
alone writes, and a stop on any rank checkpoints once and stops every rank."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from textgan import losses as L
from textgan.cli import main
from textgan.train import common as C

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not built")
ROOT = Path(__file__).resolve().parents[2]
SMOKE = ["train", "lm", "--preset", "smoke", "--no-progress"]


def torchrun(*args: str, nproc: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]


def env() -> dict[str, str]:
    e = {**os.environ, "OMP_NUM_THREADS": "1", "TEXTGAN_DIST_TIMEOUT": "60"}
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), e.get("PYTHONPATH")]))
    return e


def run_torchrun(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun(*args), env=env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def records(run: Path) -> list[dict]:
    return C.read_metrics(run / C.METRICS_FILE)


@pytest.mark.slow
def test_mle_on_two_processes_equals_one_process_with_the_global_batch(tmp_path, capsys) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*SMOKE, "--adv-steps", "0", "--run-dir", str(one)]) == 0
    capsys.readouterr()
    res = run_torchrun(["-m", "textgan", *SMOKE, "--adv-steps", "0", "--run-dir", str(two), "--json"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(res.stdout.strip().splitlines()) == 1  # rank 0 alone prints the final record
    a, b = records(one), records(two)
    assert len(a) == len(b) == 2  # one record per epoch: rank 1 wrote none
    for ra, rb in zip(a, b, strict=True):
        assert ra["step"] == rb["step"]
        for key in ("train_loss", "nll_gen", "nll_oracle"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-5, abs=1e-6), key
    wa, wb = load_file(str(one / C.GENERATOR_FILE)), load_file(str(two / C.GENERATOR_FILE))
    for name, value in wa.items():
        if name.endswith("qkv.bias"):
            # Its key third has zero gradient (softmax ignores a shift of every key); Adam turns
            # that float noise into steps of about lr, which the model's outputs ignore.
            continue
        torch.testing.assert_close(wb[name].float(), value.float(), atol=1e-5, rtol=1e-4, msg=name)
    assert sorted(p.name for p in (two / C.SAMPLES_DIR).iterdir()) == sorted(
        p.name for p in (one / C.SAMPLES_DIR).iterdir()
    )


WORKER = """
import json, sys, torch
from textgan import distributed as D, losses as L
ctx = D.setup("cpu")
full = torch.tensor([0.3, -1.2, 2.5, 0.0, 1.1, -0.4, 3.0, 0.7])
local = D.shard(full)
out = {
    "world": ctx.world,
    "weights": D.gather(L.reweighting_weights(local, D.gather(local))).tolist(),
    "advantage": D.gather(L.shape_advantage(local, "normalized", D.gather(local))).tolist(),
    "stats": {k: float(v) for k, v in D.reduce_stats(
        {"ratio_max": local.max(), "ratio_min": local.min(), "clip_frac": local.mean()}).items()},
    "any": D.any_rank(ctx.rank == 1),
}
if ctx.is_main:
    json.dump(out, open(sys.argv[1], "w"))
D.teardown()
"""


@pytest.mark.slow
def test_reweighting_advantage_and_statistics_are_over_the_global_batch(tmp_path) -> None:
    script, out = tmp_path / "worker.py", tmp_path / "out.json"
    script.write_text(WORKER)
    res = run_torchrun([str(script), str(out)])
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(out.read_text())
    full = torch.tensor([0.3, -1.2, 2.5, 0.0, 1.1, -0.4, 3.0, 0.7])
    order = torch.cat([torch.arange(0, 8, 2), torch.arange(1, 8, 2)])  # gather: rank 0's rows, then rank 1's
    assert got["world"] == 2 and got["any"] is True
    torch.testing.assert_close(torch.tensor(got["weights"]), L.reweighting_weights(full)[order])
    torch.testing.assert_close(torch.tensor(got["advantage"]), L.shape_advantage(full, "normalized")[order])
    assert got["stats"] == pytest.approx({"ratio_max": 3.0, "ratio_min": -1.2, "clip_frac": float(full.mean())})


@pytest.mark.slow
def test_adversarial_ppo_run_completes_and_resumes_on_another_world_size(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    adv = ["--loss", "ppo", "--adv-steps", "2", "--adv-eval-every", "1"]
    res = run_torchrun(["-m", "textgan", *SMOKE, *adv, "--run-dir", str(run)])
    assert res.returncode == 0, res.stderr[-2000:]
    first = records(run)
    assert [r["adv_step"] for r in first if r["phase"] == "adv"] == [0, 1, 2]  # rank 0 alone wrote them
    assert all(r["ratio_mean"] > 0 for r in first if r["phase"] == "adv" and r["adv_step"] > 0)
    assert main(["train", "lm", "--resume", "--run-dir", str(run), "--adv-steps", "4", "--no-progress"]) == 0
    capsys.readouterr()
    assert [r["adv_step"] for r in records(run) if r["phase"] == "adv"] == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_style_transfer_trains_under_torchrun(tmp_path) -> None:
    run = tmp_path / "style"
    args = ["train", "style", "--preset", "smoke", "--data", "data/tiny-style", "--adv-steps", "2"]
    res = run_torchrun(["-m", "textgan", *args, "--run-dir", str(run), "--no-progress"])
    assert res.returncode == 0, res.stderr[-2000:]
    phases = [r["phase"] for r in records(run)]
    assert phases.count("ae") == 1 and phases.count("adv") >= 1
    assert (run / "style_model.safetensors").is_file()


def _worker_pids(parent: int) -> dict[int, int]:
    """RANK -> pid of the processes torchrun started (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            environ = dict(kv.split("=", 1) for kv in (entry / "environ").read_text().split("\0") if "=" in kv)
        except (OSError, ValueError, IndexError):
            continue
        if "RANK" in environ:
            found[int(environ["RANK"])] = int(entry.name)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the workers")
def test_sigterm_to_one_rank_checkpoints_once_and_stops_every_rank(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    args = ["-m", "textgan", *SMOKE, "--mle-epochs", "100000", "--adv-steps", "0", "--run-dir", str(run)]
    proc = subprocess.Popen(torchrun(*args), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (run / C.CHECKPOINT_DIR / C.LAST_CHECKPOINT).is_file():  # an epoch or more done
            assert time.time() < deadline and proc.poll() is None, "torchrun did not start training"
            time.sleep(0.2)
        workers = _worker_pids(proc.pid)
        assert sorted(workers) == [0, 1]
        os.kill(workers[1], signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0  # the workers exit 130, which torchrun reports as a failure
    assert err.count("interrupted at step") == 1  # rank 0 says it, once
    ckpt = torch.load(run / C.CHECKPOINT_DIR / C.LAST_CHECKPOINT, weights_only=True)
    epoch = int(ckpt[C.KEY_EPOCH])
    resumed = ["train", "lm", "--resume", "--run-dir", str(run), "--mle-epochs", str(epoch + 1), "--no-progress"]
    assert main(resumed) == 0
    capsys.readouterr()
    assert records(run)[-1]["epoch"] == epoch + 1


def test_the_evaluator_classifier_refuses_torchrun_with_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(["train", "classifier", "--data", "data/tiny-style"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "without torchrun" in err[0]
