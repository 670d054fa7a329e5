#!/usr/bin/env python3
# The tree reads top-down: each folder of core/ includes headers only from
# itself and the folders below it, and no two files include each other,
# directly or through others.
#   check-layers.py SOURCE-ROOT
import os
import re
import sys

# folder → the folders whose headers it may include (besides its own)
ALLOWED = {
    "core/libchartdesk": set(),
    "core/libchartdesk/engine": {"core/libchartdesk", "core/libchartdesk/archive"},
    "core/libchartdesk/archive": {"core/libchartdesk", "core/libchartdesk/engine"},
    "core/libchartdesk/tests": {"core/libchartdesk", "core/libchartdesk/engine", "core/libchartdesk/archive"},
    "core/dbus": {"core/libchartdesk", "core/libchartdesk/engine", "core/libchartdesk/archive"},
    "core/cli": {"core/libchartdesk", "core/libchartdesk/engine", "core/libchartdesk/archive", "core/dbus"},
    "core/service": {"core/libchartdesk", "core/libchartdesk/engine", "core/libchartdesk/archive", "core/dbus"},
    "core/service/tests": {"core/libchartdesk", "core/libchartdesk/engine", "core/libchartdesk/archive",
                           "core/dbus", "core/service"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([\w.-]+\.h)[>"]', re.M)


def main():
    root = sys.argv[1]
    where = {}  # header name → folder
    files = {}  # path → included header names
    for folder in ALLOWED:
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.endswith((".c", ".h")):
                with open(full, encoding="utf-8") as f:
                    files[os.path.join(folder, name)] = INCLUDE.findall(f.read())
                if name.endswith(".h"):
                    where[name] = folder
    where["chartdesk.h"] = "core/libchartdesk"
    failures = []
    for path, includes in sorted(files.items()):
        folder = os.path.dirname(path)
        for inc in includes:
            target = where.get(inc)
            if target is None or target == folder or target in ALLOWED[folder]:
                continue
            failures.append("%s includes %s from %s, above it" % (path, inc, target))
    # include cycles between files (a header including, through others, itself)
    graph = {}
    for path, includes in files.items():
        graph[os.path.basename(path)] = [i for i in includes if i in where]

    def visit(node, stack, seen):
        if node in stack:
            return stack[stack.index(node):] + [node]
        if node in seen:
            return None
        seen.add(node)
        for nxt in graph.get(node, []):
            cycle = visit(nxt, stack + [node], seen)
            if cycle:
                return cycle
        return None

    seen = set()
    for node in sorted(graph):
        cycle = visit(node, [], seen)
        if cycle:
            failures.append("include cycle: " + " -> ".join(cycle))
            break
    print("%d files in %d folders checked" % (len(files), len({os.path.dirname(p) for p in files})))
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
