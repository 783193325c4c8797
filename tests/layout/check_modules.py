#!/usr/bin/env python3
"""Fails when the modules of src/ and probes/ include each other in a cycle.

A module is a directory: src/<name>/ is <name>, probes/ is probes, the files directly in src/
are the front ends ("top"). Every `#include "dir/file"` of a source file is an edge from its
module to dir's. Any cycle (a includes b, b includes a; or longer) is printed with one include
per edge that makes it, and the exit status is 1. Run from the repository root (ctest does).
"""

import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def module_of(path: pathlib.Path) -> str:
    parts = path.parts
    if parts[0] == "probes":
        return "probes"
    return parts[1] if len(parts) > 2 else "top"


def edges(root: pathlib.Path):
    """{(from, to): 'file:line: #include ...'} for includes that cross modules."""
    found = {}
    for base in ("src", "probes"):
        for path in sorted((root / base).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".inc", ".in"):
                continue
            rel = path.relative_to(root)
            here = module_of(rel)
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                if "/" not in target:
                    continue  # a file of the same directory
                there = target.split("/", 1)[0]
                if there != here and (here, there) not in found:
                    line = text.count("\n", 0, match.start()) + 1
                    found[(here, there)] = f"{rel}:{line}: #include \"{target}\""
    return found


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    found = edges(root)
    if not found:
        print("check_modules: no includes found; run from the repository root", file=sys.stderr)
        return 2
    graph = {}
    for a, b in found:
        graph.setdefault(a, set()).add(b)
    bad = cycles(graph)
    for component in bad:
        print(f"check_modules: these modules include each other: {', '.join(component)}")
        members = set(component)
        for (a, b), where in sorted(found.items()):
            if a in members and b in members:
                print(f"  {a} -> {b}: {where}")
    if bad:
        return 1
    modules = sorted({m for edge in found for m in edge})
    print(f"check_modules: {len(modules)} modules, {len(found)} edges between them, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
