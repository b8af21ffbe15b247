"""The longest functions in bot/ (lines from `def` to the last line of the body), longest first.

Usage: .venv/bin/python bench/longest_functions.py [N] [PATH…]   (default: 5, bot/)
A figure to watch (issue 9 quotes it), never an assertion.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def functions(paths: list[Path]) -> list[tuple[int, str]]:
    found = []
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            tree = ast.parse(file.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    found.append((node.end_lineno - first + 1,
                                  f"{file.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(found, key=lambda f: (-f[0], f[1]))


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv and argv[0].isdigit() else 5
    paths = [Path(p).resolve() for p in argv[1 if argv and argv[0].isdigit() else 0:]] or [ROOT / "bot"]
    for lines, where in functions(paths)[:count]:
        print(f"{lines:5d}  {where}")


if __name__ == "__main__":
    main(sys.argv[1:])
