"""Score published Yelp test outputs with textgan's evaluator, beside the unchanged input and a human set.

Reads local clones of the public repositories that publish their Yelp test transfers (the table
below names each repository, the commit the layout was checked against, and what each needed),
aligns every system to the order of ``--data``'s ``test.0`` / ``test.1``, checks the alignment,
and scores each with ``textgan eval style --outputs`` (accuracy of ``--classifier``, BLEU-src,
BLEU-ref against the first human rewrite, the 4-reference and sacrebleu corpus versions,
``insert_only``, PPL with ``--lm``). Their files never enter this repository: the aligned copies go
to ``--out`` (with ``scores.jsonl`` and ``table.md``, the README's table).

Alignment, per repository:
- luofuli/DualRL ``outputs/yelp/<system>/test.{0,1}.tsf``: one transfer per line in test order
  (``test.0.tsf``: the negative sentences made positive); ``test.{0-1,1-0}.tsf`` hold
  ``source<TAB>transfer`` pairs, whose sources are checked against our test files (DualRL's
  vocabulary writes rare words as ``<unk>``, in its sources and outputs alike; left as is). The
  ``Human0..3`` folders are the multi-reference rewrites, not systems, and are skipped.
- fastnlp/style-transformer ``outputs/yelp/output.{0,1}.ours_{cond,multi}``: test order as is.
- thu-coai/NAST ``outputs/YELP/<variant>/{neg2pos,pos2neg}.txt``: test order as is.
- xiaofei05/TSST ``outputs/yelp/{dense,sparse}.{neg,pos}`` (``.neg``: the negative sources' transfers).
- machelreid/lewis ``model_outputs/yelp/{pos,neg}.out`` (``pos.out``: transfers *to* positive,
  i.e. of the negative sources); detokenised punctuation ("organized.") is re-tokenised with
  NLTK's tokenizer, lowercased, to match the test files' tokenisation.

Every system must have 500 + 500 lines, and each output must share more words with its own
source than with the next source (a shifted pairing), or the script stops with an error.

Usage: python scripts/score_published.py --clones DIR --data ../shared/data/yelp --classifier runs/yelp-clf
       [--lm runs/yelp-lm] [--out runs/published]
``DIR`` holds one clone per repository, as ``DIR/<name>``, ``DIR/<owner>+<name>`` or
``DIR/<owner>/<name>`` (a work tree or a git directory: files are read with ``git show`` when the
work tree is absent).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

# repo -> (commit checked, {system: (transfers of test.0, transfers of test.1, how)})
SOURCES: dict[str, tuple[str, dict[str, tuple[str, str, str]]]] = {
    "luofuli/DualRL": (
        "f412d903de683cf00ca471a1e413f916911a811c",
        {
            name: (f"outputs/yelp/{folder}/test.0.tsf", f"outputs/yelp/{folder}/test.1.tsf", "tsf")
            for name, folder in (
                ("DualRL (Luo et al. 2019)", "DualRL"),
                ("CrossAlignment (Shen et al. 2017)", "CrossAlignment_Shen"),
                ("MultiDecoder (Fu et al. 2018)", "Multidecoder_Fu"),
                ("StyleEmbedding (Fu et al. 2018)", "StyleEmbedding_Fu"),
                ("DeleteOnly (Li et al. 2018)", "DeleteOnly_Li"),
                ("DeleteAndRetrieve (Li et al. 2018)", "DeleteRetrieve_Li"),
                ("RetrieveOnly (Li et al. 2018)", "RetrieveOnly_Li"),
                ("TemplateBased (Li et al. 2018)", "TemplateBase_Li"),
                ("BackTranslation (Prabhumoye et al. 2018)", "BackTranslation_Pr"),
                ("UnpairedRL (Xu et al. 2018)", "UnpairedRL_Xu"),
                ("UnsuperMT (Zhang et al. 2018)", "UnsuperMT_Zhang"),
            )
        },
    ),
    "fastnlp/style-transformer": (
        "5105cb58da8d121d1177d5a5ea38f7402df2b02b",
        {
            "Style Transformer, conditional (Dai et al. 2019)": (
                "outputs/yelp/output.0.ours_cond", "outputs/yelp/output.1.ours_cond", "plain"
            ),
            "Style Transformer, multi-class (Dai et al. 2019)": (
                "outputs/yelp/output.0.ours_multi", "outputs/yelp/output.1.ours_multi", "plain"
            ),
        },
    ),
    "thu-coai/NAST": (
        "ef765d412f6e9a2ebdcc7d62c99ec2e883d0e17a",
        {
            f"NAST on {base}, learnable (Huang et al. 2021)": (
                f"outputs/YELP/{folder}_learnable/neg2pos.txt", f"outputs/YELP/{folder}_learnable/pos2neg.txt", "plain"
            )
            for base, folder in (("StyTrans", "stytrans"), ("LatentSeq", "latentseq"))
        },
    ),
    "xiaofei05/TSST": (
        "450d0d8c18002b50a50b4b642ace7769d476e889",
        {
            f"TSST, {kind} (Xiao et al. 2021)": (f"outputs/yelp/{kind}.neg", f"outputs/yelp/{kind}.pos", "plain")
            for kind in ("dense", "sparse")
        },
    ),
    "machelreid/lewis": (
        "2e41d6d2087a1082ab3fcb18f84faa3198ec9711",
        {"LEWIS (Reid & Zhong 2021)": ("model_outputs/yelp/pos.out", "model_outputs/yelp/neg.out", "retokenise")},
    ),
}  # fmt: skip


def find_clone(clones: Path, repo: str) -> Path | None:
    owner, name = repo.split("/")
    for cand in (clones / name, clones / f"{owner}+{name}", clones / owner / name):
        for sub in (cand, cand / "repo"):  # a work tree with .git, or a bare git directory
            if (sub / ".git").exists() or (sub / "HEAD").is_file():
                return sub
    return None


def read_file(clone: Path, path: str) -> str:
    """A file of a clone: from its work tree, else ``git show HEAD:path``."""
    if (clone / path).is_file():
        return (clone / path).read_text(encoding="utf-8", errors="replace")
    git_dir = clone / ".git" if (clone / ".git").exists() else clone
    res = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], capture_output=True, text=True, errors="replace"
    )
    if res.returncode != 0:
        raise SystemExit(f"error: {clone}: no {path} ({res.stderr.strip()[:120]})")
    return res.stdout


def commit_of(clone: Path) -> str:
    git_dir = clone / ".git" if (clone / ".git").exists() else clone
    res = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], capture_output=True, text=True)
    return res.stdout.strip()


def same_source(theirs: str, ours: str) -> bool:
    """Equal sentences, DualRL's ``<unk>`` (its vocabulary's rare words) matching any one word."""
    a, b = theirs.split(), ours.split()
    return len(a) == len(b) and all(x == y or x == "<unk>" for x, y in zip(a, b, strict=True))


def normalise(lines: list[str], how: str) -> list[str]:
    if how == "retokenise":
        from textgan.data.text import TextNormalizer

        norm = TextNormalizer("nltk", True)
        return [" ".join(norm.tokenize(x)) for x in lines]
    return [" ".join(x.split()) for x in lines]


def overlap(a: str, b: str) -> float:
    x, y = set(a.split()), set(b.split())
    return len(x & y) / max(1, len(x | y))


def check_alignment(name: str, outputs: list[str], sources: list[str]) -> None:
    """Each output is closer to its own source than to the next one, on average."""
    if len(outputs) != len(sources):
        raise SystemExit(f"error: {name}: {len(outputs)} lines, the test split has {len(sources)}")
    own = sum(overlap(o, s) for o, s in zip(outputs, sources, strict=True)) / len(sources)
    shifted = sum(overlap(o, s) for o, s in zip(outputs, sources[1:] + sources[:1], strict=True)) / len(sources)
    if not own > 2 * shifted:
        raise SystemExit(
            f"error: {name}: not in test order (word overlap {own:.2f} with its sources, {shifted:.2f} shifted)"
        )


def load_system(clone: Path, files: tuple[str, str, str], sources: list[list[str]], name: str) -> list[list[str]]:
    f0, f1, how = files
    out = []
    for style, path in enumerate((f0, f1)):
        lines = read_file(clone, path).splitlines()
        if how == "tsf":  # the pairs file checks that the lines follow our test order
            pairs = read_file(clone, path.replace(f"test.{style}.tsf", f"test.{style}-{1 - style}.tsf")).splitlines()
            srcs = [" ".join(p.split("\t", 1)[0].split()) for p in pairs]
            same = sum(same_source(a, b) for a, b in zip(srcs, sources[style], strict=False)) / len(sources[style])
            if same < 0.99:
                raise SystemExit(f"error: {name}: its sources match our test.{style} on only {same:.0%} of lines")
        lines = normalise(lines, how)
        check_alignment(f"{name} ({path})", lines, sources[style])
        out.append(lines)
    return out


def score(a: argparse.Namespace, files: list[Path] | None) -> dict:
    from textgan.cli import main as textgan_main

    args = ["eval", "style", "--data", a.data, "--classifier", a.classifier, "--json"]
    args += ["--outputs", "copy" if files is None else ",".join(str(f) for f in files)]
    if a.lm:
        args += ["--lm", a.lm]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = textgan_main(args)
    if code != 0:
        raise SystemExit(f"error: textgan eval style failed for {files}")
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def with_gms(row: dict) -> dict:
    """``row`` with ``gm2`` = GM(accuracy, BLEU-ref) and ``gm3`` = GM(accuracy, BLEU-src, BLEU-ref)."""
    from textgan.metrics.style import geometric_mean

    row["gm2"] = geometric_mean(row["accuracy"], row["bleu_ref"])
    row["gm3"] = geometric_mean(row["accuracy"], row["bleu_src"], row["bleu_ref"])
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clones", required=True, help="folder of local clones (see the module docstring)")
    p.add_argument("--data", default="../shared/data/yelp")
    p.add_argument("--classifier", required=True, help="textgan train classifier run (the evaluator)")
    p.add_argument("--lm", default=None, help="LM run for perplexity")
    p.add_argument("--out", default="runs/published")
    p.add_argument("--ours", action="append", default=[], help="NAME=DIR of our own outputs (neg2pos.txt, pos2neg.txt)")
    a = p.parse_args()
    data = Path(a.data)
    sources = [[" ".join(x.split()) for x in (data / f"test.{s}").read_text().splitlines()] for s in (0, 1)]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = [{"system": "copy of the input", "source": "-", **score(a, None)}]
    human = [data / "multi_ref" / f"reference1.{s}" for s in (0, 1)]
    if all(h.is_file() for h in human):
        rows.append(
            {"system": "human rewrites (Luo et al. set 2) vs Li et al.", "source": "multi_ref", **score(a, human)}
        )
    for repo, (checked, systems) in SOURCES.items():
        clone = find_clone(Path(a.clones), repo)
        if clone is None:
            print(f"skipping {repo}: no clone under {a.clones}", file=sys.stderr)
            continue
        commit = commit_of(clone)
        for name, files in systems.items():
            lines = load_system(clone, files, sources, name)
            folder = out / name.split(" (")[0].replace(" ", "_").replace(",", "")
            folder.mkdir(parents=True, exist_ok=True)
            paths = [folder / "neg2pos.txt", folder / "pos2neg.txt"]
            for path, ls in zip(paths, lines, strict=True):
                path.write_text("".join(x + "\n" for x in ls), encoding="utf-8")
            res = score(a, paths)
            rows.append({"system": name, "source": f"{repo}@{commit[:7]}", "checked": commit == checked, **res})
            print(
                f"{name}: acc {res['accuracy']:.1f} BLEU-src {res['bleu_src']:.1f} BLEU-ref {res['bleu_ref']:.2f}",
                flush=True,
            )
    for spec in a.ours:
        name, _, folder = spec.partition("=")
        paths = [Path(folder) / "neg2pos.txt", Path(folder) / "pos2neg.txt"]
        rows.append({"system": name, "source": "textgan", **score(a, paths)})
    rows = [with_gms(r) for r in rows]
    (out / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = [
        "| system | accuracy | BLEU-src | BLEU-ref | BLEU-ref (4 refs) | insert-only % | PPL | GM(acc, ref) | GM(acc, src, ref) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for r in sorted(rows, key=lambda r: -(r["gm2"] if r["gm2"] == r["gm2"] else 0)):
        lines.append(
            f"| {r['system']} | {fmt(r['accuracy'])} | {fmt(r['bleu_src'])} | {fmt(r['bleu_ref'], 2)} | "
            f"{fmt(None if r['source'] == 'multi_ref' else r.get('bleu_ref_multi'), 2)} | {fmt(r['insert_only'])} | {fmt(r['ppl'], 0)} | {fmt(r['gm2'])} | "
            f"{fmt(r['gm3'])} |"
        )
    lines.append("\n(The human set's 4-reference BLEU is left out: it is one of the four references.)")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
