"""The package's layers (docs/architecture.md): every import, the lazy ones inside functions
included, points to the same layer or one below, and no two modules import each other in a ring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "textgan"

# Lowest first. A module belongs to the first entry that equals its name or is a prefix of it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("textgan.utils", "textgan.config", "textgan.losses", "textgan.distributed")),
    ("data", ("textgan.data",)),
    ("models", ("textgan.models",)),
    ("inference", ("textgan.sampling", "textgan.decoding")),
    ("runs", ("textgan.runs", "textgan.hub")),
    ("metrics", ("textgan.metrics",)),
    ("train", ("textgan.train",)),
    ("surface", ("textgan.plot", "textgan.cli", "textgan.__main__", "textgan")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path], name: str | None = None) -> set[str]:
    """Every project module ``path`` (module ``name``) imports, at the top or inside a function."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "textgan":
                continue
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                out.add(full if full in known else mod)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "textgan")
    out.discard(name)
    return out


def layer_of(name: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or (p != "textgan" and name.startswith(p + ".")) for p in prefixes):
            return i
    raise AssertionError(f"{name}: in no layer of docs/architecture.md; add it to LAYERS and to the doc")


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) for name, path in known.items()}


def test_every_module_has_a_layer_and_imports_only_downwards() -> None:
    bad = [
        f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
        for m, deps in graph().items()
        for d in sorted(deps)
        if layer_of(d) > layer_of(m)
    ]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    g = graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for dep in sorted(g.get(node, ())):
            if dep == "textgan" or node == "textgan":
                continue  # the package root is the API facade: it imports lazily from the layers below
            if seen.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in seen:
                visit(dep, [*path, dep])
        seen[node] = 2

    for m in sorted(g):
        if m not in seen:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_losses_import_nothing_of_the_project() -> None:
    assert graph()["textgan.losses"] == set()


def test_the_checker_sees_lazy_and_relative_imports(tmp_path) -> None:
    (tmp_path / "utils.py").write_text("def f():\n    from textgan.train import lm\n    return lm\n")
    (tmp_path / "lm.py").write_text("from .. import utils\nfrom . import common\nimport textgan.config\n")
    known = {"textgan.utils": tmp_path, "textgan.train.lm": tmp_path, "textgan.train.common": tmp_path}
    assert imports(tmp_path / "utils.py", known, "textgan.utils") == {"textgan.train.lm"}
    lm = imports(tmp_path / "lm.py", known, "textgan.train.lm")
    assert lm == {"textgan.utils", "textgan.train.common", "textgan.config"}
    assert layer_of("textgan.train.lm") > layer_of("textgan.utils")


@pytest.mark.parametrize("name", ["textgan.runs", "textgan.decoding", "textgan.train.common"])
def test_layers_named_in_the_doc(name: str) -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"`{name.removeprefix('textgan.').replace('.', '/')}" in doc or f"`{name}`" in doc
