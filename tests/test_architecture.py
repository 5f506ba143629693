"""The layer order of ``docs/architecture.md`` holds: no upward or sideways imports, no cycles.

Every import in ``src/touchline`` counts, also inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "touchline"


def read_layers(doc: Path) -> dict[str, int]:
    """Unit -> layer rank (0 at the bottom) from the ```layers block, top row first."""
    m = re.search(r"```layers\n(.*?)```", doc.read_text(), re.S)
    assert m, f"{doc}: no ```layers block"
    rows = [r.split() for r in m.group(1).strip().splitlines()]
    ranks: dict[str, int] = {}
    for rank, row in enumerate(reversed(rows)):
        for unit in row:
            assert unit not in ranks, f"{doc}: {unit} listed twice"
            ranks[unit] = rank
    return ranks


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (resolved to the most specific module)."""
    pkg_name = root.name
    files = {}
    for f in root.rglob("*.py"):
        parts = f.relative_to(root.parent).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[mod] = f

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for mod, f in files.items():
        package = mod if f.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [target] + [f"{target}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name == pkg_name or name.startswith(pkg_name + "."):
                    dep = resolve(name)
                    if dep and dep != mod:
                        graph[mod].add(dep)
        graph.setdefault(mod, set())
    return graph


def unit_of(mod: str) -> str:
    parts = mod.split(".")
    return parts[0] if len(parts) == 1 else parts[1]


def layer_violations(graph: dict[str, set[str]], ranks: dict[str, int]) -> list[str]:
    out = []
    for mod, deps in sorted(graph.items()):
        a = unit_of(mod)
        if a not in ranks:
            out.append(f"{mod}: its unit {a!r} is in no layer of docs/architecture.md")
            continue
        for dep in sorted(deps):
            b = unit_of(dep)
            if b == a or b not in ranks:
                continue
            if ranks[b] > ranks[a]:
                out.append(f"{mod} imports {dep}: upward ({a} is below {b})")
            elif ranks[b] == ranks[a]:
                out.append(f"{mod} imports {dep}: sideways ({a} and {b} share a layer)")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_every_import_follows_the_layer_order() -> None:
    ranks = read_layers(REPO / "docs" / "architecture.md")
    graph = module_graph(SRC)
    assert len(graph) > 100
    assert layer_violations(graph, ranks) == []
    units = {unit_of(m) for m in graph}
    assert set(ranks) == units, f"layers without code: {set(ranks) - units}"


def test_no_import_cycles() -> None:
    assert cycles(module_graph(SRC)) == []


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A package ``toy`` with layers ``top`` over ``low``."""
    root = tmp_path / "toy"
    for d in ("low", "top"):
        (root / d).mkdir(parents=True)
        (root / d / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "low" / "a.py").write_text("X = 1\n")
    (root / "top" / "b.py").write_text("from toy.low.a import X\n")
    return root


def test_the_checker_finds_a_function_local_upward_import_and_a_cycle(toy: Path) -> None:
    ranks = {"top": 2, "low": 1, "toy": 0}
    assert layer_violations(module_graph(toy), ranks) == []
    assert cycles(module_graph(toy)) == []
    (toy / "low" / "a.py").write_text("X = 1\n\ndef f():\n    from ..top import b\n    return b\n")
    graph = module_graph(toy)
    assert layer_violations(graph, ranks) == [
        "toy.low.a imports toy.top: upward (low is below top)",
        "toy.low.a imports toy.top.b: upward (low is below top)",
    ]
    assert cycles(graph) == [["toy.low.a", "toy.top.b"]]
    assert layer_violations(graph, {"top": 1, "low": 1, "toy": 0})[0].endswith("share a layer)")
