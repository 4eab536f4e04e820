#!/usr/bin/env python3
"""The library's layering, checked (t0007).

    layers.py SRCDIR

common/<layer>/ may include headers of the layers listed for it below and
nothing of agent/; no module includes, directly or through others, a
header of a module that includes one of its own: no include cycles anywhere
in common/ or agent/.  A module is P.c and P.h with the files named P_*
beside them (config_set.c and config_int.h are config's, fetcher_msg.c is
the fetcher's): the parts of one concern may share a private header, two
concerns may not lean on each other.  Only a module with a P.c has parts:
cmd.h is the commands' shared helpers, and each cmd_*.c is a command of
its own.  Only the cycle's driver writes the status document: no file of
agent/ but cycle.c and publish.c includes publish.h.  Prints one line per
violation (file:line: what) and exits 1 if there is any.
"""
import os
import re
import sys

ALLOWED = {
    "util": {"util"},
    "trust": {"util", "trust"},
    "transport": {"util", "transport"},
    "model": {"util", "trust", "transport", "model"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# The agent/ files that may include publish.h: the driver and the
# document's own code.
PUBLISHERS = {"cycle.c", "publish.c", "publish.h"}


def sources(src):
    for top in ("common", "agent"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


def main():
    src = sys.argv[1]
    where = {}          # header name -> layer ("agent" for agent/)
    for path in sources(src):
        if path.endswith(".h"):
            rel = os.path.relpath(path, src).split(os.sep)
            layer = rel[1] if rel[0] == "common" else "agent"
            where[os.path.basename(path)] = layer
    names = {(os.path.dirname(p), os.path.splitext(os.path.basename(p))[0])
             for p in sources(src) if p.endswith(".c")}
    hdir = {}           # header name -> its directory
    for p in sources(src):
        if p.endswith(".h"):
            hdir[os.path.basename(p)] = os.path.dirname(p)

    def module(d, base):
        parts = base.split("_")
        for i in range(1, len(parts)):
            if (d, "_".join(parts[:i])) in names:
                return "_".join(parts[:i])
        return base

    bad = []
    edges = {}          # module -> set of modules it includes
    for path in sources(src):
        rel = os.path.relpath(path, src)
        parts = rel.split(os.sep)
        layer = parts[1] if parts[0] == "common" else "agent"
        if parts[0] == "common" and layer not in ALLOWED:
            bad.append("%s: not in a known layer of common/" % rel)
            continue
        mod = module(os.path.dirname(path),
                     os.path.splitext(os.path.basename(path))[0])
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                h = os.path.basename(m.group(1))
                if (layer == "agent" and h == "publish.h" and
                        os.path.basename(path) not in PUBLISHERS):
                    bad.append("%s:%d: a step includes publish.h: only the "
                               "driver (cycle.c) writes the status "
                               "document" % (rel, n))
                hl = where.get(h)
                if hl is None:
                    continue    # a generated or system header
                if layer != "agent" and hl not in ALLOWED[layer]:
                    bad.append("%s:%d: common/%s includes %s of %s" % (
                        rel, n, layer, h, hl if hl == "agent"
                        else "common/" + hl))
                dep = module(hdir[h], os.path.splitext(h)[0])
                if dep != mod:
                    edges.setdefault(mod, set()).add(dep)
    # Cycles: depth-first search over the module graph.
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d]
                bad.append("include cycle: %s" % " -> ".join(cyc))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


main()
