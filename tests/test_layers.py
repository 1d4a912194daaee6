"""The layer contract: orderbook_cli's import graph (function-level imports
included) has no cycle and no arrow pointing up.

Layers, top to bottom; a module imports only from its own layer or below.
A new module declares its layer by adding its name (or its package's) to
LAYERS; the README's layout section lists the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "orderbook_cli"

LAYERS: list[tuple[str, set[str]]] = [
    ("entry", {"__main__", "main"}),
    ("commands", {"cli"}),
    ("pipeline", {"pipeline", "tape", "recording", "replay", "alerts"}),
    ("views", {"views"}),
    ("venues", {"venues"}),
    # the feed: retry policy, states, checks and what rides on a feed; it uses the engine, never the reverse
    ("feed", {"feed", "verify", "orderflow", "trades", "consolidate", "config", "symbol_cache"}),
    # the engine: transport knows no feed and no venue; the sync engine, the shaping step and the JSON writer
    ("engine", {"transport", "sync", "shape", "jsonout", "conditions"}),
    ("helpers", {"impact", "liquidity", "symbols", "smallfile", "timefmt", "debuglog", "stdio", "about", "help_memo", "distributions"}),
    ("base", {"book", "errors", "memo", ""}),  # "": the package itself (__version__); memo imports nothing of obook
]

KNOWN_CYCLES: list[set[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
                    base = "orderbook_cli." + base if base else "orderbook_cli"
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for target in targets:
                if target != "orderbook_cli" and not target.startswith("orderbook_cli."):
                    continue
                local = target.removeprefix("orderbook_cli").removeprefix(".")
                while local and local not in modules:
                    local = local.rpartition(".")[0]
                if local != name and (local in modules):
                    graph[name].add(local)
    return graph


def layer_of(module: str) -> int:
    for depth, (_, names) in enumerate(LAYERS):
        if module in names or module.split(".")[0] in names - {""}:
            return depth
    raise AssertionError(f"orderbook_cli.{module} has no layer: add it to LAYERS in tests/test_layers.py (and the README layout)")


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer_and_no_arrow_points_up():
    graph = import_graph()
    upward = {(source, target) for source, targets in graph.items() for target in targets
              if layer_of(target) < layer_of(source)}
    assert upward == set(), "imports pointing up a layer"


def test_no_import_cycle():
    new = [cycle for cycle in cycles(import_graph()) if not any(cycle <= known for known in KNOWN_CYCLES)]
    assert new == [], "import cycles"


def test_the_checks_see_an_upward_arrow_and_a_cycle():
    """The graph reader finds a function-level import, and both checks would fail on it."""
    graph = import_graph()
    assert "venues" in graph["cli"]  # imported inside a method only
    fake = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(fake) == [{"a", "b"}]
    assert layer_of("errors") > layer_of("cli")
