"""Score our style-transfer systems, several seeds each, under textgan's evaluator: one row per
seed and a mean ± std row per system, the columns of the README's Yelp table.

Each ``--system NAME=PATH[,PATH...]`` lists one system's seeds in seed order. A PATH is either
a transfers file written by ``textgan eval style --out`` (``source<TAB>target style<TAB>transfer``
per line, the test split in order: what ``style_decode_sweep.py`` leaves as
``transfers-<run>-test-chosen.tsv``) or a folder holding ``neg2pos.txt`` and ``pos2neg.txt``
(the transfers of ``test.0`` and of ``test.1``, one per line, as ``docs/results/yelp/outputs/``
publishes them). With ``--publish DIR`` each transfers file is also written out in that layout,
as ``DIR/textgan-<NAME>-s<seed>/``, so that anyone can score it with any evaluator.

Every seed is scored by ``textgan eval style --outputs`` (so the line counts and encoding are
checked there), with perplexity under ``--lm`` when given.

Usage (the README's ablation):
  python scripts/score_systems.py --data ../shared/data/yelp --classifier runs/yelp-clf --lm runs/yelp-lm \\
      --system ppo-cycle3=docs/results/yelp/outputs/textgan-ppo-cycle3-s1,... \\
      --system none-cycle3=runs/sweep-s1/transfers-s1-none-cycle3-test-chosen.tsv,... \\
      --publish docs/results/yelp/outputs --out runs/ablation
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from runner import mean_std

COLUMNS = (  # key, header, digits
    ("accuracy", "accuracy", 1),
    ("bleu_src", "BLEU-src", 1),
    ("bleu_ref", "BLEU-ref", 2),
    ("bleu_ref_multi", "BLEU-ref (4 refs)", 2),
    ("insert_only", "insert-only %", 1),
    ("ppl", "PPL", 0),
    ("gm2", "GM(acc, ref)", 1),
    ("gm3", "GM(acc, src, ref)", 1),
)


def parse_system(spec: str) -> tuple[str, list[Path]]:
    name, sep, paths = spec.partition("=")
    if not sep or not name or not paths:
        raise SystemExit(f"error: --system {spec!r}: expected NAME=PATH[,PATH...]")
    return name, [Path(p) for p in paths.split(",") if p]


def split_transfers(tsv: Path, styles: int = 2) -> list[list[str]]:
    """The transfers of each source style's test sentences, in order, from an ``eval style --out``
    file (target style ``t`` of a 2-style split means source style ``1 - t``)."""
    if not tsv.is_file():
        raise SystemExit(f"error: {tsv}: no such transfers file")
    out: list[list[str]] = [[] for _ in range(styles)]
    for n, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in {str(s) for s in range(styles)}:
            raise SystemExit(f"error: {tsv}:{n}: expected source<TAB>target style<TAB>transfer")
        out[styles - 1 - int(parts[1])].append(parts[2])
    return out


def outputs_dir(path: Path, name: str, seed: int, publish: Path | None, scratch: Path) -> Path:
    """The folder of ``neg2pos.txt`` / ``pos2neg.txt`` for one seed (written from a transfers file)."""
    if path.is_dir():
        return path
    folder = (publish or scratch) / f"textgan-{name}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for file, lines in zip(("neg2pos.txt", "pos2neg.txt"), split_transfers(path), strict=True):
        (folder / file).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return folder


def table(rows: list[dict]) -> str:
    """Markdown: each seed's row, then the system's mean ± std (``rows`` carry ``system``, ``seed``)."""
    head = "| system | seed | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    fmt = lambda v, d: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for system in dict.fromkeys(r["system"] for r in rows):
        mine = [r for r in rows if r["system"] == system]
        for r in mine:
            lines.append(f"| {system} | {r['seed']} | " + " | ".join(fmt(r.get(k), d) for k, _, d in COLUMNS) + " |")
        if len(mine) > 1:
            cells = " | ".join(mean_std([r.get(k) for r in mine], d) for k, _, d in COLUMNS)
            lines.append(f"| **{system}** | mean ± std of {len(mine)} | {cells} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--system", action="append", required=True, help="NAME=PATH[,PATH...]: one system's seeds")
    p.add_argument("--data", default="../shared/data/yelp")
    p.add_argument("--classifier", required=True, help="textgan train classifier run (the evaluator)")
    p.add_argument("--lm", default=None, help="LM run for perplexity")
    p.add_argument("--publish", default=None, help="write transfers files out as DIR/textgan-NAME-sSEED/")
    p.add_argument("--out", default="runs/systems")
    a = p.parse_args()
    systems = [parse_system(s) for s in a.system]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from score_published import score, with_gms

    rows = []
    for name, paths in systems:
        for seed, path in enumerate(paths, 1):
            folder = outputs_dir(path, name, seed, Path(a.publish) if a.publish else None, out / "outputs")
            res = with_gms(score(a, [folder / "neg2pos.txt", folder / "pos2neg.txt"]))
            rows.append({"system": name, "seed": seed, "outputs": str(folder), **res})
            print(f"{name} s{seed}: acc {res['accuracy']:.1f} BLEU-src {res['bleu_src']:.1f} "
                  f"BLEU-ref {res['bleu_ref']:.2f}", file=sys.stderr, flush=True)  # fmt: skip
    (out / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = table(rows)
    (out / "table.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
