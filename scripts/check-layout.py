#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The source tree's layering rules, measured (issue 13; tests/t/02-layout.t).

    scripts/check-layout.py [SRC_DIR]      default: src/ next to this script

Prints one line per finding, tab-separated, sorted; nothing else:

    cycle       <n>  <file> <file> ...       files on include cycles of more than 3
    engine      <engine file>  <header>      an engine file includes a front end's header
                                             or the daemon's (daemon.h)
    long        <file>:<function>  <lines>   a function over 100 lines
    wing        <front-end file>  <header>   a front end includes the other's header
    io          <file>  <call>               the control codec does I/O, or the
                                             control I/O calls the system
                                             other than through ssa_io_*

The control protocol's codec (proto/wire_codec.c, proto/wire.h) must do no
I/O at all, and its I/O (proto/wire_io.c) must reach the system only
through ssa_io_sendmsg/recvmsg/close, which libssa supplies with the C
library's own calls (a control connection that hangs up must never re-enter
libssa's interposed functions).

"Files" in cycles are modules: foo.c and foo.h count as one file, foo, so
that foo.c including bar.h and bar.c including foo.h is a cycle of two. The
include graph follows #include "..." (resolved against the including file's
folder). A cycle is a simple one (no file twice): a hub that is in a cycle
of two with each of several files is not a long cycle. For each strongly
connected component of the graph, the line lists every file that lies on a
cycle of more than three files in it (n of them). A
function's length runs from the line of its name to its closing brace,
comments and blank lines included (as a reader sees it).

Exit status: 0 when the tree could be read (findings or not), 2 otherwise.
"""
import os
import re
import sys

MAX_CYCLE = 3
MAX_FUNC_LINES = 100
ENGINE = "ssad/engine"
FRONT_ENDS = ("ssad/libssa_front", "ssad/kernel_front")
# The daemon's own state (struct ssad) is the front ends' business too.
DAEMON_HEADERS = ("ssad/daemon.h",)

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(src):
    """Every .c and .h file under src, as paths relative to src."""
    out = []
    for root, _dirs, files in os.walk(src):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(root, f), src))
    return sorted(out)


def includes(src, rel):
    """The src-relative paths of the files rel includes with quotes (only
    those that exist under src)."""
    with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
        text = f.read()
    out = []
    for name in INCLUDE_RE.findall(text):
        path = os.path.normpath(os.path.join(os.path.dirname(rel), name))
        if not path.startswith("..") and os.path.isfile(os.path.join(src, path)):
            out.append(path)
    return out


def module(rel):
    """foo.c and foo.h are one module, foo (without the extension)."""
    return os.path.splitext(rel)[0]


def strongly_connected(graph):
    """Tarjan's algorithm, iterative; returns the components as sorted lists."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                comps.append(sorted(comp))
    return comps


def on_long_cycle(graph, comp, start, budget=200000):
    """Whether a simple cycle of more than MAX_CYCLE nodes of comp passes
    through start (depth-first over simple paths; a search over budget steps
    answers yes, to be safe)."""
    inside = set(comp)
    path, on_path = [start], {start}
    stack = [iter(sorted(graph[start] & inside))]
    steps = 0
    while stack:
        steps += 1
        if steps > budget:
            return True
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if nxt == start and len(path) > MAX_CYCLE:
            return True
        if nxt in on_path:
            continue
        path.append(nxt)
        on_path.add(nxt)
        stack.append(iter(sorted(graph[nxt] & inside)))
    return False


def cycles(src, files):
    """Per strongly connected component, the sorted files that lie on a
    simple include cycle of more than MAX_CYCLE files (components without
    one are left out)."""
    graph = {}
    for rel in files:
        m = module(rel)
        graph.setdefault(m, set())
        for inc in includes(src, rel):
            if module(inc) != m:
                graph[m].add(module(inc))
    out = []
    for comp in strongly_connected(graph):
        if len(comp) <= MAX_CYCLE:
            continue
        members = [m for m in comp if on_long_cycle(graph, comp, m)]
        if members:
            out.append(members)
    return out


def wing_includes(src, files):
    """Front-end files including a header of the other front end: the
    two front ends meet only in the engine (and in main.c, which wires
    them)."""
    out = []
    for rel in files:
        mine = [fe for fe in FRONT_ENDS if rel.startswith(fe + os.sep)]
        if not mine:
            continue
        others = tuple(fe + os.sep for fe in FRONT_ENDS if fe != mine[0])
        for inc in includes(src, rel):
            if inc.startswith(others):
                out.append((rel, inc))
    return out


def engine_includes(src, files):
    out = []
    for rel in files:
        if not rel.startswith(ENGINE + os.sep):
            continue
        for inc in includes(src, rel):
            if inc.startswith(tuple(fe + os.sep for fe in FRONT_ENDS)) or inc in DAEMON_HEADERS:
                out.append((rel, inc))
    return out


def strip_c(text):
    """The text with comments, string and character literals and
    preprocessor lines blanked (newlines kept, so line numbers hold)."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            # a preprocessor line, with its continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
            i = end
            continue
        if c == "/" and text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            q, j = c, i + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(q + " " * (min(j, n) - i - 1) + q)
            i = j + 1
            continue
        if c == "\n":
            at_line_start = True
        elif not c.isspace():
            at_line_start = False
        out.append(c)
        i += 1
    return "".join(out)


FUNC_HEAD_RE = re.compile(r"([A-Za-z_]\w*)\s*\([^;{}]*\)\s*(?:__attribute__\s*\(\(.*\)\)\s*)?$", re.S)


def functions(text):
    """(name, first line, last line) of every function defined in C text."""
    code = strip_c(text)
    out, depth, head_start = [], 0, 0
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if depth == 0 and c in ";}":
            head_start = i + 1
        elif c == "{":
            if depth == 0:
                head = code[head_start:i]
                m = FUNC_HEAD_RE.search(head.strip())
                is_init = "=" in head.split("(")[0]
                if m and not is_init and not re.match(r"\s*(struct|union|enum)\b[^(]*$", head):
                    name = m.group(1)
                    first = code.count("\n", 0, head_start + head.find(name)) + 1
                    j, d = i, 0
                    while j < n:
                        if code[j] == "{":
                            d += 1
                        elif code[j] == "}":
                            d -= 1
                            if d == 0:
                                break
                        j += 1
                    last = code.count("\n", 0, j) + 1
                    out.append((name, first, last))
                    i = j + 1
                    head_start = i
                    continue
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
            if depth == 0:
                head_start = i + 1
        i += 1
    return out


def long_functions(src, files):
    out = []
    for rel in files:
        if not rel.endswith(".c"):
            continue
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name, first, last in functions(text):
            lines = last - first + 1
            if lines > MAX_FUNC_LINES:
                out.append((rel, name, lines))
    return out


CODEC_FILES = ("proto/wire_codec.c", "proto/wire.h")
IO_FILES = ("proto/wire_io.c",)
IO_CALLS = ("sendmsg", "recvmsg", "sendto", "recvfrom", "send", "recv", "read", "write",
            "readv", "writev", "close", "socket", "connect", "accept", "accept4", "poll")


def calls(rel, text, names):
    """(rel, name) for each call of one of names in C text (comments and
    strings ignored)."""
    code = strip_c(text)
    pattern = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(names))
    return [(rel, m.group(1)) for m in pattern.finditer(code)]


def protocol_io(src, files):
    out = []
    for rel in files:
        if rel not in CODEC_FILES + IO_FILES:
            continue
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        names = IO_CALLS
        if rel in CODEC_FILES:
            names = IO_CALLS + (r"ssa_io_\w+", r"ssa_wire_send\w*", r"ssa_wire_recv\w*")
        out.extend(calls(rel, text, names))
    return sorted(set(out))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "..", "src")
    if not os.path.isdir(src):
        print("no source folder: %s" % src, file=sys.stderr)
        return 2
    files = sources(src)
    if not files:
        print("no C files under %s" % src, file=sys.stderr)
        return 2
    lines = []
    for comp in cycles(src, files):
        lines.append("cycle\t%d\t%s" % (len(comp), " ".join(comp)))
    for rel, inc in engine_includes(src, files):
        lines.append("engine\t%s\t%s" % (rel, inc))
    for rel, inc in wing_includes(src, files):
        lines.append("wing\t%s\t%s" % (rel, inc))
    for rel, name in protocol_io(src, files):
        lines.append("io\t%s\t%s" % (rel, name))
    for rel, name, n in long_functions(src, files):
        lines.append("long\t%s:%s\t%d" % (rel, name, n))
    for line in sorted(lines):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
