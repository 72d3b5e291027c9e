"""The shape of the code: lines per module, per class and per function under flows/.

    .venv/bin/python bench/code_shape.py

Prints the largest modules and classes and the median (p50) and 90th percentile (p90) of
function lengths in lines (decorators and docstrings included), so a layout change can be
measured, not guessed.
"""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[1] / "flows"


def _spans(tree: ast.AST, kind) -> list[tuple[str, int]]:
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree) if isinstance(node, kind)]


def main() -> None:
    modules, classes, functions = [], [], []
    for path in sorted(FLOWS.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        name = str(path.relative_to(FLOWS.parent))
        modules.append((name, len(source.splitlines())))
        classes += [(f"{name}:{c}", n) for c, n in _spans(tree, ast.ClassDef)]
        functions += [n for _, n in _spans(tree, (ast.FunctionDef, ast.AsyncFunctionDef))]
    modules.sort(key=lambda m: -m[1])
    classes.sort(key=lambda c: -c[1])
    print(f"modules: {len(modules)}, over 400 lines: {sum(n > 400 for _, n in modules)}")
    for name, n in modules[:5]:
        print(f"  {n:4d}  {name}")
    print(f"classes: {len(classes)}, over 200 lines: {sum(n > 200 for _, n in classes)}")
    for name, n in classes[:3]:
        print(f"  {n:4d}  {name}")
    deciles = statistics.quantiles(functions, n=10)
    print(f"functions: {len(functions)}, p50 {statistics.median(functions):.0f} lines, p90 {deciles[8]:.0f} lines, "
          f"max {max(functions)}")


if __name__ == "__main__":
    main()
