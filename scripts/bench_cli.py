"""How fast the command line answers: ``textgan --help`` and every ``textgan <command> --help``.

Each is timed as a fresh process (median of ``--repeats``), beside a baseline measured in the same
run: ``python -c pass`` (the interpreter's own start) and ``python -c "import torch"`` (what a
command pays that loads torch before parsing). The target is under 1 s for every help.

Usage: python scripts/bench_cli.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

COMMANDS = [
    [],
    ["train", "lm"],
    ["train", "style"],
    ["train", "classifier"],
    ["train", "ratio"],
    ["generate"],
    ["eval", "lm"],
    ["eval", "style"],
    ["transfer"],
    ["plot"],
    ["export"],
]
TARGET_S = 1.0


def seconds(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    base = seconds([sys.executable, "-c", "pass"], a.repeats)
    torch_s = seconds([sys.executable, "-c", "import torch"], a.repeats)
    print(f"baseline: python -c pass {base:.2f} s; python -c 'import torch' {torch_s:.2f} s\n")
    print(f"{'command':<32} {'s':>6} {'x python':>9} {'x torch import':>15} {'< 1 s':>6}")
    worst = 0.0
    for args in COMMANDS:
        t = seconds([sys.executable, "-m", "textgan", *args, "--help"], a.repeats)
        worst = max(worst, t)
        name = " ".join(["textgan", *args, "--help"])
        print(f"{name:<32} {t:6.2f} {t / base:9.1f} {t / torch_s:15.2f} {'yes' if t < TARGET_S else 'NO':>6}")
    print(f"\nslowest help {worst:.2f} s (target < {TARGET_S:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
