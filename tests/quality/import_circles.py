"""Print the import circles among the project's packages; exit 1 when there is one.

A circle is a set of modules each of which reaches every other through imports, counting
imports inside functions (grimp records them too): a lazy import hides a circle from the
interpreter, not from the next reader. Run as ``python tests/quality/import_circles.py
PACKAGE...`` with the tree to read first on ``PYTHONPATH``; ``test_import_circles.py``
runs it on this tree and on a copy with a planted circle.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

import grimp


def strongly_connected(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module, each sorted, in order; iterative, so a
    deep import chain meets no recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return sorted(circles)


def import_circles(packages: Iterable[str]) -> list[list[str]]:
    names = tuple(packages)
    graph = grimp.build_graph(*names)
    ours = {module for module in graph.modules if module.split(".")[0] in names}
    edges = {
        module: {
            target for target in graph.find_modules_directly_imported_by(module) if target in ours
        }
        for module in ours
    }
    return strongly_connected(edges)


if __name__ == "__main__":
    found = import_circles(sys.argv[1:])
    for circle in found:
        print(" <-> ".join(circle))
    sys.exit(1 if found else 0)
