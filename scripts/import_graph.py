"""The project's import graph: modules, cycles and the longest chain of imports.

Every `import` counts, at module level or inside a function (a lazy import still ties two modules
together). Only the project's own packages are nodes.

    .venv/bin/python scripts/import_graph.py            # summary
    .venv/bin/python scripts/import_graph.py --edges    # and every edge
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "guardrails", "eval")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def edges(found: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in found:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest path of imports (cycles cut where they close)."""
    best: dict[str, list[str]] = {}

    def walk(v: str, seen: frozenset[str]) -> list[str]:
        if v in best:
            return best[v]
        tails = [walk(w, seen | {v}) for w in sorted(graph[v]) if w not in seen]
        chain = [v, *max(tails, key=len, default=[])]
        best[v] = chain
        return chain

    return max((walk(v, frozenset()) for v in sorted(graph)), key=len)


def main(argv: list[str]) -> int:
    found = modules()
    graph = edges(found)
    loops = cycles(graph)
    chain = longest_chain(graph)
    print(f"modules: {len(found)}, imports between them: {sum(len(t) for t in graph.values())}")
    print(f"cycles: {len(loops)}" + "".join(f"\n  {' <-> '.join(c)}" for c in loops))
    print(f"longest chain ({len(chain)} modules): {' -> '.join(chain)}")
    if "--edges" in argv:
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f"{name} -> {target}")
    return 1 if loops else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
