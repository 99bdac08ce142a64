"""The layout guard of `make lint`: no import loops, no long modules, no ignored imports.

Stdlib only, so it runs before anything is installed. It checks the package under ROOT
(default: the checkout this file lives in) and prints one line per problem, each naming
the file, then exits 1; a clean tree prints one ``layout: ok (...)`` line and exits 0.

- An import loop is a cycle of any length between modules of the package. Imports inside
  functions and under ``TYPE_CHECKING`` count (they still tie the modules together), and
  ``from pkg import name`` counts as importing ``pkg.name`` when that is a module. A package
  ``__init__`` importing its own children is not a loop (that is how a package re-exports).
- A module is long over MAX_LINES lines; the model builders may be longer.
- The import-linter contracts of pyproject.toml may not ignore any import.

Usage: python tools/layout_check.py [ROOT]
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "edgecnn"
MAX_LINES = 300
LONG_ALLOWED = ("edgecnn/training/models/",)  # the model builders
SKIPPED = ("edgecnn/_boards/",)  # data files, linked from boards/


@dataclass
class Module:
    """One module of the package: its dotted name, file and what it imports (line numbers)."""

    name: str
    path: Path
    is_package: bool
    imports: dict[str, int] = field(default_factory=dict)


def find_modules(root: Path) -> dict[str, Module]:
    """Every module of the package under root, keyed by dotted name."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(SKIPPED):
            continue
        parts = rel[: -len(".py")].split("/")
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = Module(name, path, is_package)
    return modules


def _from_base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` reads from, relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _targets(module: Module, node: ast.AST, known: dict[str, Module]) -> list[str]:
    """The package modules one import statement ties this module to."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = _from_base(module, node)
    found = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in known:
            found.append(sub)
        elif base in known:
            found.append(base)
    return found


def read_imports(module: Module, known: dict[str, Module]) -> None:
    """Fill module.imports: every import anywhere in the file (functions, TYPE_CHECKING)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    for node in ast.walk(tree):
        for target in _targets(module, node, known):
            # A package __init__ importing its children is an edge too: a loop appears only
            # when such a child imports the package back (by ``from pkg import name``).
            if target != module.name:
                line = module.imports.get(target, node.lineno)
                module.imports[target] = min(line, node.lineno)


def strongly_connected(modules: dict[str, Module]) -> list[list[str]]:
    """The import graph's strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, iter(sorted(modules[start].imports)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(modules[child].imports))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def shortest_cycle(start: str, component: list[str], modules: dict[str, Module]) -> list[str]:
    """The shortest import chain from start back to start inside one component."""
    inside = set(component)
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for child in sorted(modules[node].imports):
            if child == start:
                return paths[node] + [start]
            if child in inside and child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return [start, start]  # unreachable for a real component


def loop_problems(root: Path, modules: dict[str, Module]) -> list[str]:
    """One line per import loop, naming the file and line of its first import."""
    lines = []
    for component in strongly_connected(modules):
        cycle = shortest_cycle(component[0], component, modules)
        first = modules[cycle[0]]
        where = f"{first.path.relative_to(root).as_posix()}:{first.imports[cycle[1]]}"
        extra = len(component) - (len(cycle) - 1)
        more = f" (and {extra} more module(s) in the same loop)" if extra else ""
        lines.append(f"{where}: import loop {' -> '.join(cycle)}{more}")
    return lines


def long_problems(root: Path, modules: dict[str, Module]) -> list[str]:
    """One line per module over MAX_LINES lines outside the model builders."""
    lines = []
    for module in modules.values():
        rel = module.path.relative_to(root).as_posix()
        count = len(module.path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES and not rel.startswith(LONG_ALLOWED):
            lines.append(f"{rel}: {count} lines, over the limit of {MAX_LINES}")
    return sorted(lines)


def ignore_problems(root: Path) -> list[str]:
    """One line per import an import-linter contract of pyproject.toml ignores."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return []
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    contracts = config.get("tool", {}).get("importlinter", {}).get("contracts", [])
    lines = []
    for contract in contracts:
        name = contract.get("id") or contract.get("name", "?")
        for ignored in contract.get("ignore_imports", []):
            lines.append(f"pyproject.toml: contract {name!r} ignores the import {ignored!r}")
    return lines


def check(root: Path) -> tuple[list[str], str]:
    """All problems of the tree under root, and the summary line of a clean tree."""
    modules = find_modules(root)
    for module in modules.values():
        read_imports(module, modules)
    loops = loop_problems(root, modules)
    long = long_problems(root, modules)
    ignored = ignore_problems(root)
    summary = (
        f"layout: ok ({len(modules)} modules, {len(loops)} loops, {len(long)} modules over "
        f"{MAX_LINES} lines, {len(ignored)} ignored imports)"
    )
    return loops + long + ignored, summary


def main(argv: list[str] | None = None) -> int:
    """Print the problems (or the ok line) and return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    if not (root / PACKAGE).is_dir():
        print(f"layout: no {PACKAGE}/ package under {root}")
        return 1
    problems, summary = check(root)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
