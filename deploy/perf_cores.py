#!/usr/bin/env python3
"""Where each core's time goes, from `perf script` text of `perf record -g`.

Every sample is one core's thread (ebb-core-N) at one moment; it is put in
the first category that a frame names, walking from the sampled function
up its stack: the allocator, buffers or a system call if the core was in
one, else the layer of the app it was working for (memcached's store or
protocol, the TCP/IP stack), else the event loop itself (dispatching, or
spinning with nothing to run). `python3 perf_cores.py perf.txt` prints the
table; profile_report.py puts it in the report."""

import re
import sys
from collections import Counter, defaultdict

# (category, pattern on a frame's symbol), tried in order on each frame
# of user space.
RULES = [
    ("memory allocation", re.compile(r"^(ebb::mem::|malloc$|free$|realloc$|calloc$|je_|_int_malloc|_int_free|"
                                     r"operator new|operator delete|cfree)")),
    ("buffers (IOBuf)", re.compile(r"^ebb::net::IOBuf")),
    ("memcached store", re.compile(r"^ebb::memcached::(ItemTable|Store|Item|ServerClock)")),
    ("memcached protocol", re.compile(r"^ebb::memcached::")),
    ("TCP/IP stack", re.compile(r"^ebb::net::stack::")),
    ("connections (sockets layer)", re.compile(r"^ebb::net::")),
    ("cluster messaging", re.compile(r"^ebb::messenger::")),
    ("event loop (dispatch, idle spin)", re.compile(r"^ebb::")),
]
# In the kernel: waiting for I/O, or doing the system call's work.
EPOLL = "epoll (waiting for I/O)"
KERNEL = "kernel (system calls)"
OTHER = "other"
CATEGORIES = [EPOLL, KERNEL] + [name for name, _ in RULES] + [OTHER]
EPOLL_CALL = re.compile(r"epoll_(p?wait|pwait2)")

FRAME = re.compile(r"^\s*([0-9a-f]+) (.+?)\+0x[0-9a-f]+ \((.*)\)")


def categorize(frames):
    """frames: (symbol, in kernel) pairs, the sampled one first."""
    if frames[0][1]:
        user = [symbol for symbol, kernel in frames if not kernel]
        if user and EPOLL_CALL.search(user[0]):
            return EPOLL
        return KERNEL
    for symbol, _ in frames:
        for name, pattern in RULES:
            if pattern.search(symbol):
                return name
    return OTHER


def read(path):
    """{thread name: (Counter of categories, Counter of sampled functions)}."""
    cores = defaultdict(lambda: (Counter(), Counter()))
    thread, frames = None, []

    def flush():
        if thread is not None and frames:
            categories, functions = cores[thread]
            categories[categorize(frames)] += 1
            functions[frames[0][0]] += 1

    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                flush()
                thread, frames = None, []
            elif not line[0].isspace():
                flush()
                thread, frames = line.split()[0], []
            else:
                m = FRAME.match(line)
                if m:
                    frames.append((m.group(2), m.group(3) == "[kernel.kallsyms]"))
        flush()
    return {t: v for t, v in cores.items() if t.startswith("ebb-core-")}


def core_number(thread):
    return int(thread.rsplit("-", 1)[1])


def markdown(cores, top=3):
    """The report's table: a row per core, a column per category seen, then
    each core's most sampled functions."""
    if not cores:
        return []
    seen = [c for c in CATEGORIES if any(cat[c] for cat, _ in cores.values())]
    lines = ["| core | samples | " + " | ".join(seen) + " |", "|---|---|" + "---|" * len(seen)]
    for thread in sorted(cores, key=core_number):
        categories, _ = cores[thread]
        total = sum(categories.values())
        cells = ["%.0f%%" % (100.0 * categories[c] / total) for c in seen]
        lines.append("| %d | %d | %s |" % (core_number(thread), total, " | ".join(cells)))
    lines.append("")
    for thread in sorted(cores, key=core_number):
        categories, functions = cores[thread]
        total = sum(categories.values())
        names = ", ".join("`%s` %.0f%%" % (short(f), 100.0 * n / total) for f, n in functions.most_common(top))
        lines.append("- core %d's most sampled functions: %s" % (core_number(thread), names))
    return lines


def short(symbol):
    """A symbol without its template arguments and parameters, for a table."""
    depth, out = 0, []
    for ch in symbol.replace("(anonymous namespace)::", ""):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= 60 else "..." + text[-57:]


def main():
    if len(sys.argv) != 2:
        print("usage: perf_cores.py PERF_SCRIPT_TEXT", file=sys.stderr)
        return 2
    print("\n".join(markdown(read(sys.argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
