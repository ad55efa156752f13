"""What the study scripts share: a pool of jobs with a deadline, the shell line of a job's steps,
how a job ended, mean ± std, and reading metrics through the package.

A job is a list of steps (commands) run one after another in a child shell of its own process
group, so that a deadline or a SIGTERM / SIGINT to the study reaches every process of the job
(textgan's trainers then write a checkpoint and stop; rerunning the study resumes them). A step
may name a file that receives its standard output atomically (``> FILE.tmp && mv``), which is how
the scripts mark steps done.

>>> pool = Pool(parallel=2, deadline=3600, env=thread_env(1))           # doctest: +SKIP
>>> pool.run([Job("s1/ppo", [(textgan("train", "lm", ...), None)], log=Path("s1-ppo.log"))])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Step = tuple[list[str], Path | None]  # a command and the file that receives its stdout (or None)


def textgan(*args: str) -> list[str]:
    """The command line of ``textgan ARGS`` with this interpreter."""
    return [sys.executable, "-m", "textgan", *args]


def thread_env(threads: int) -> dict[str, str]:
    """The environment of a child that uses ``threads`` torch threads."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def machine() -> dict[str, str]:
    """What a run's floating-point results depend on beyond its seed: the CPU (name, family and
    model: a new micro-architecture takes other matmul kernels), the vector extension torch uses,
    torch's version and the thread count. The same seed on two machines that differ here can give
    different numbers; on one machine it gives the same bits."""
    import platform

    import torch

    info = {"cpu": platform.processor() or platform.machine()}
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    names = {"model name": "cpu", "cpu family": "cpu_family", "model": "model"}
    for line in text.split("\n\n", 1)[0].splitlines():  # the first processor is enough
        key, _, value = line.partition(":")
        if key.strip() in names:
            info[names[key.strip()]] = value.strip()
    info["capability"] = torch.backends.cpu.get_cpu_capability()
    info["torch"] = torch.__version__
    info["threads"] = os.environ.get("OMP_NUM_THREADS", "")
    return info


def describe_machine(info: dict[str, str]) -> str:
    """One line naming a ``machine()`` record."""
    family = f" (family {info['cpu_family']}, model {info['model']})" if "cpu_family" in info else ""
    return f"{info.get('cpu', '?')}{family}, {info.get('capability', '?')}, torch {info.get('torch', '?')}"


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a JSONL file (``metrics.jsonl``, a frontier file); [] when it does not exist."""
    from textgan.runs import read_metrics

    return read_metrics(path) if Path(path).is_file() else []


def mean_std(values: Sequence[float | None], digits: int = 3) -> str:
    """``mean ± std`` of the values that are not None (one value alone; ``-`` for none)."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.{digits}f}"
    return f"{statistics.mean(vals):.{digits}f} ± {statistics.stdev(vals):.{digits}f}"


def shell(steps: Sequence[Step]) -> str:
    """One shell line running the steps in turn (stopping at the first failure), each step's
    standard output written atomically to its file when it names one."""
    parts = []
    for cmd, out in steps:
        line = shlex.join(cmd)
        if out is not None:
            tmp = shlex.quote(str(out) + ".tmp")
            line += f" > {tmp} && mv {tmp} {shlex.quote(str(out))}"
        parts.append(line)
    return " && ".join(parts)


def outcome(code: int) -> str:
    """How a job's shell ended, for the study's log."""
    if code == 0:
        return "done"
    if code < 0 or code > 128:  # killed by a signal (as the shell's own exit, or as a child's)
        sig = -code if code < 0 else code - 128
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"stopped by {name} (rerun the study to resume it):"
    return f"failed (exit {code}; see its log):"


@dataclass
class Job:
    """A named list of steps and the log file their output is appended to."""

    name: str
    steps: list[Step]
    log: Path
    info: dict[str, Any] = field(default_factory=dict)  # the caller's own (seed, variant, run dir, ...)


class Pool:
    """Runs jobs ``parallel`` at a time.

    After ``deadline`` seconds (0: none) no job starts and the running ones get SIGTERM; a
    SIGTERM or SIGINT sent to the study does the same. ``on_done(job, code)`` is called as each
    job ends (also for stopped ones).
    """

    def __init__(
        self,
        parallel: int,
        deadline: float = 0.0,
        env: dict[str, str] | None = None,
        on_done: Callable[[Job, int], None] | None = None,
        poll: float = 2.0,
    ) -> None:
        self.parallel = max(1, parallel)
        self.deadline = deadline
        self.env = env
        self.on_done = on_done
        self.poll = poll
        self.stopping = False

    def _stop(self, signum: int, frame: Any) -> None:
        print(f"signal {signum}: stopping the running jobs", flush=True)
        self.stopping = True

    def run(self, jobs: Sequence[Job]) -> dict[str, int | None]:
        """Run the jobs; returns each one's exit code (None: not started)."""
        codes: dict[str, int | None] = {j.name: None for j in jobs}
        pending, running = list(jobs), {}
        signalled: set[str] = set()  # once each: a second SIGTERM stops a trainer before its checkpoint
        start = time.time()
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while pending or running:
                late = self.deadline and time.time() - start > self.deadline
                if (late or self.stopping) and pending:
                    why = "deadline" if late else "stopping"
                    print(f"{why}: {len(running)} jobs running, {len(pending)} not started", flush=True)
                    pending = []
                if late or self.stopping:
                    for name, (_, proc) in running.items():
                        if name not in signalled and proc.poll() is None:
                            signalled.add(name)
                            try:
                                os.killpg(proc.pid, signal.SIGTERM)
                            except ProcessLookupError:
                                pass
                while pending and len(running) < self.parallel:
                    job = pending.pop(0)
                    job.log.parent.mkdir(parents=True, exist_ok=True)
                    with open(job.log, "a", encoding="utf-8") as log:
                        running[job.name] = (
                            job,
                            subprocess.Popen(
                                ["bash", "-c", shell(job.steps)],
                                stdout=log,
                                stderr=subprocess.STDOUT,
                                env=self.env,
                                start_new_session=True,
                            ),
                        )
                    print(f"start {job.name}", flush=True)
                for name, (job, proc) in list(running.items()):
                    if proc.poll() is not None:
                        del running[name]
                        codes[name] = proc.returncode
                        print(f"{outcome(proc.returncode)} {name}", flush=True)
                        if self.on_done:
                            self.on_done(job, proc.returncode)
                if pending or running:
                    time.sleep(self.poll)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        return codes
