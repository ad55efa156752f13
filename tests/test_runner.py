"""scripts/runner.py: the study scripts' job pool (steps in order, outputs written atomically, the
deadline stopping running jobs), mean ± std."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from runner import Job, Pool, mean_std, outcome, shell  # noqa: E402


def test_steps_run_in_order_and_write_their_outputs(tmp_path) -> None:
    out = tmp_path / "a.json"
    steps = [(["bash", "-c", "echo one >> " + str(tmp_path / "log.txt")], None), (["echo", '{"x": 1}'], out)]
    ended = []
    codes = Pool(2, on_done=lambda job, code: ended.append((job.name, code)), poll=0.05).run(
        [Job("a", steps, tmp_path / "a.log"), Job("b", [(["false"], tmp_path / "b.json")], tmp_path / "b.log")]
    )
    assert codes == {"a": 0, "b": 1} and sorted(ended) == [("a", 0), ("b", 1)]
    assert out.read_text() == '{"x": 1}\n' and (tmp_path / "log.txt").read_text() == "one\n"
    assert not (tmp_path / "b.json").exists()  # a failed step marks nothing done
    assert "'a b'" in shell([(["echo", "a b"], None)])


def test_the_deadline_stops_running_jobs_and_starts_no_more(tmp_path) -> None:
    t0 = time.time()
    jobs = [Job(f"j{i}", [(["sleep", "30"], None)], tmp_path / f"{i}.log") for i in range(3)]
    codes = Pool(2, deadline=0.5, poll=0.05).run(jobs)
    assert time.time() - t0 < 20
    assert codes["j2"] is None  # never started
    assert all(codes[f"j{i}"] not in (None, 0) for i in (0, 1))
    assert outcome(codes["j0"]).startswith("stopped by SIGTERM")


def test_mean_std() -> None:
    assert mean_std([]) == "-" and mean_std([None, 2.0], 1) == "2.0"
    assert mean_std([1.0, 3.0], 2) == "2.00 ± 1.41"
