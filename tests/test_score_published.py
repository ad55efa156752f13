"""scripts/score_published.py: finding clones, each repository's layout, and the alignment checks,
on small hand-made files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [["the food was cold .", "service was slow and rude ."], ["great pizza , friendly staff !", "i love it ."]]


@pytest.fixture(scope="module")
def sp():
    return load_script("score_published")


def write(root: Path, rel: str, lines: list[str]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(x + "\n" for x in lines))


def test_each_layout_aligns_to_test_order(sp, tmp_path) -> None:
    clones = tmp_path / "clones"
    neg2pos = ["the food was hot .", "service was fast and kind ."]
    pos2neg = ["awful pizza , rude staff !", "i hate it ."]
    # DualRL: transfers per line, and source<TAB>transfer pairs whose sources may hold <unk>
    dual = clones / "DualRL"
    write(dual, "outputs/yelp/X/test.0.tsf", neg2pos)
    write(dual, "outputs/yelp/X/test.1.tsf", pos2neg)
    write(dual, "outputs/yelp/X/test.0-1.tsf", [f"{s}\t{t}" for s, t in zip(SOURCES[0], neg2pos, strict=True)])
    pairs = ["great <unk> , friendly staff !\tawful pizza , rude staff !", "i love it .\ti hate it ."]
    write(dual, "outputs/yelp/X/test.1-0.tsf", pairs)
    (dual / ".git").mkdir()
    files = ("outputs/yelp/X/test.0.tsf", "outputs/yelp/X/test.1.tsf", "tsf")
    assert sp.find_clone(clones, "luofuli/DualRL") == dual
    assert sp.load_system(dual, files, SOURCES, "x") == [neg2pos, pos2neg]
    # LEWIS: pos.out holds the transfers to positive (of the negative sources), detokenised
    lewis = clones / "machelreid+lewis"
    write(lewis, "model_outputs/yelp/pos.out", ["The food was hot.", "Service was fast and kind."])
    write(lewis, "model_outputs/yelp/neg.out", pos2neg)
    (lewis / ".git").mkdir()
    got = sp.load_system(
        lewis, ("model_outputs/yelp/pos.out", "model_outputs/yelp/neg.out", "retokenise"), SOURCES, "l"
    )
    assert got == [neg2pos, pos2neg]
    # a bare git directory (a mirror without a work tree) is read with git show
    bare = clones / "thu-coai" / "NAST"
    work = tmp_path / "nast-work"
    write(work, "outputs/YELP/v/neg2pos.txt", neg2pos)
    write(work, "outputs/YELP/v/pos2neg.txt", pos2neg)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(work)]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    assert sp.find_clone(clones, "thu-coai/NAST") == bare
    files = ("outputs/YELP/v/neg2pos.txt", "outputs/YELP/v/pos2neg.txt", "plain")
    assert sp.load_system(bare, files, SOURCES, "n") == [neg2pos, pos2neg]
    assert sp.find_clone(clones, "xiaofei05/TSST") is None


def test_misaligned_or_short_files_stop_with_an_error(sp, tmp_path) -> None:
    clone = tmp_path / "c"
    write(clone, "a.txt", ["service was fast and kind .", "the food was hot ."])  # swapped lines
    write(clone, "b.txt", ["awful pizza , rude staff !"])  # one line short
    with pytest.raises(SystemExit, match="not in test order"):
        sp.load_system(clone, ("a.txt", "b.txt", "plain"), SOURCES, "swapped")
    write(clone, "a.txt", ["the food was hot .", "service was fast and kind ."])
    with pytest.raises(SystemExit, match="1 lines, the test split has 2"):
        sp.load_system(clone, ("a.txt", "b.txt", "plain"), SOURCES, "short")
    write(clone, "test.0.tsf", ["x", "y"])  # its source<TAB>transfer pairs file is missing
    with pytest.raises(SystemExit, match="no test.0-1.tsf"):
        sp.load_system(clone, ("test.0.tsf", "b.txt", "tsf"), SOURCES, "tsf")
