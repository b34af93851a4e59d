"""bench/'s shape: imports that run one way, and class names that place themselves."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
BENCH_PHASES = {"queries", "isolation", "bursts", "comparison", "profile"}
CHAOS_RUNS = {
    "outages",
    "refusals",
    "hostile",
    "inbound_mail",
    "failover",
    "coalescing",
    "reminders",
}
MEASURING = BENCH_PHASES | CHAOS_RUNS
TABLES = {"bench_tables", "chaos_tables"}
RESULTS = {"bench_results", "chaos_results"}


def bench_imports() -> dict[str, set[str]]:
    """The bench modules each bench module imports, wherever in it."""
    modules = {path.stem for path in BENCH.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found: set[str] = set()
        for node in ast.walk(ast.parse((BENCH / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "bench":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {
            part
            for module in found
            for part in [module.removeprefix("bench.")]
            if part in modules and part != name
        }
    return graph


def test_bench_imports_form_no_circle() -> None:
    graph = bench_imports()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for imported in graph[name]:
            assert imported not in path, " -> ".join([*path, imported])
            if imported not in done:
                visit(imported, [*path, imported])
        done.add(name)

    for name in graph:
        visit(name, [name])


def test_tables_and_results_import_no_measuring_module() -> None:
    graph = bench_imports()
    for name in TABLES | RESULTS:
        assert not graph[name] & (MEASURING | {"run", "chaos", "rig", "stack"}), name
    for name in RESULTS:
        assert not graph[name] & TABLES, name
    for name in MEASURING:
        assert not graph[name] & TABLES, name


def test_no_two_bench_classes_share_a_name() -> None:
    names = Counter(
        node.name
        for path in BENCH.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
    )
    assert [name for name, count in names.items() if count > 1] == []
