#!/usr/bin/env python3
"""Fails when the #include "..." graph of the driver sources has a cycle.

    tools/check_include_cycles.py [DIR]      (default: drivers/ beside tools/)

Every .c and .h below DIR is read; `#include "name"` is resolved the way the
build resolves it for a driver: first beside the including file, then in
DIR/common (the one shared include directory of dbal_add_driver). Names
found in neither place (system and library headers) are not part of the
graph. A driver is layered so that each header includes only headers of its
own layer or below: a header that includes one above it closes a cycle, and
a cycle means there is no order in which the headers can be read.

Prints every cycle found as `a.h -> b.h -> a.h` and exits 1; prints a
one-line summary and exits 0 when there is none. Needs only python3.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def sources(root):
    for top, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.join(top, name)


def includes(path, root):
    """The files of the tree that path includes."""
    found = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = INCLUDE.match(line)
            if not m:
                continue
            for where in (os.path.dirname(path), os.path.join(root, "common")):
                target = os.path.normpath(os.path.join(where, m.group(1)))
                if os.path.isfile(target):
                    found.append(target)
                    break
    return found


def cycles(graph):
    """Each cycle once, found by a depth-first walk (a back edge closes one)."""
    state, stack, found, seen = {}, [], [], set()

    def walk(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                loop = stack[stack.index(nxt):] + [nxt]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    found.append(loop)
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "drivers"))
    if not os.path.isdir(root):
        print(f"check_include_cycles: {root}: not a directory", file=sys.stderr)
        return 2
    graph = {path: includes(path, root) for path in sources(root)}
    loops = cycles(graph)
    for loop in loops:
        print("include cycle: " + " -> ".join(os.path.relpath(p, root) for p in loop))
    edges = sum(len(v) for v in graph.values())
    if loops:
        print(f"check_include_cycles: {len(loops)} cycle(s) among the includes of {root}")
        return 1
    print(f"check_include_cycles: no cycle in {len(graph)} files, {edges} includes ({root})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
