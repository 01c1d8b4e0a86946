#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/: a few small valid
requests (or replies) per protocol, each behind the cut prefix that
tests/fuzz/fuzz_input.h reads. Run it from anywhere; it rewrites the seeds
(files named seed-*) and leaves any other file (saved findings) alone."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def cut(*sizes, mode=False):
    """The prefix: piece sizes (1..192) in a cycle; none: one byte at a time."""
    assert len(sizes) < 16 and all(1 <= s <= 192 for s in sizes)
    return bytes([len(sizes) | (0x10 if mode else 0)] + [s - 1 for s in sizes])


def write(harness, seeds):
    folder = os.path.join(HERE, "corpus", harness)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("seed-"):
            os.remove(os.path.join(folder, name))
    for name, data in seeds.items():
        assert len(data) <= 4096, name  # libFuzzer's default -max_len
        with open(os.path.join(folder, "seed-" + name), "wb") as f:
            f.write(data)


def ascii_seeds():
    big = b"v" * 940  # near the harness's 1 KiB item limit
    return {
        "set-get": cut(5, 3) + b"set foo 0 0 3\r\nbar\r\nget foo\r\ngets foo bar\r\n",
        "storage": cut(7) + b"add k 1 0 1\r\na\r\nreplace k 2 0 1\r\nb\r\nappend k 0 0 2\r\ncd\r\n"
        b"prepend k 0 0 1\r\nz\r\ncas k 0 0 1 2\r\nx\r\ngets k\r\n",
        "arith": cut() + b"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr x 1\r\n"
        b"touch n 100\r\ndelete n\r\ndelete n noreply\r\nget n\r\n",
        "gat": cut(11, 2, 30) + b"set g 0 100 1\r\ng\r\ngat 0 g\r\ngats 50 g missing\r\n",
        "misc": cut(64) + b"version\r\nverbosity 1\r\ncache_memlimit 8\r\nflush_all\r\n"
        b"flush_all 10 noreply\r\nbogus\r\nshutdown\r\nquit\r\n",
        "noreply": cut(3, 9) + b"set a 0 0 1 noreply\r\n1\r\nadd a 0 0 1 noreply\r\n2\r\n"
        b"incr a 1 noreply\r\ntouch a 1 noreply\r\nget a\r\n",
        "too-large": cut(100) + b"set big 0 0 1500\r\n" + b"x" * 1500 + b"\r\nget big\r\n"
        b"set a 0 0 900\r\n" + b"a" * 900 + b"\r\nappend a 0 0 100\r\n" + b"b" * 100 + b"\r\nmg a s\r\n",
        "expire": cut(13) + b"set e 0 -1 1\r\ne\r\nget e\r\nset f 0 2000000000 1\r\nf\r\nmg f t v\r\n",
        "stats": cut(2) + b"stats\r\nstats settings\r\nstats items\r\nstats slabs\r\nstats reset\r\n",
        "meta": cut(17, 1) + b"ms foo 3 T0 F5 c\r\nbar\r\nmg foo v f t c k s h l O123 q\r\n"
        b"mg missing v\r\nma cnt N0 J5 v\r\nma cnt MD D2 v\r\nmd foo q\r\nmn\r\n",
        "meta-modes": cut(40) + b"ms k 2 MA\r\nxy\r\nms k 2 N0 MA\r\nxy\r\nms k 1 MP\r\na\r\n"
        b"ms k 1 MR I\r\nb\r\nmg k v c\r\nmd k I T30\r\nmg k v\r\nme k\r\n",
        "meta-base64": cut(9) + b"ms Zm9v 3 b\r\nbar\r\nmg Zm9v b v k\r\nmd Zm9v b\r\n",
        # A multi-get whose reply passes Session::kMaxBatchReply: pauses, and
        # (mode bit) input stashed while paused.
        "pause": cut(192, 192, 7, mode=True) + b"set a 0 0 940\r\n" + big + b"\r\nget"
        + b" a" * 1100 + b"\r\nget a\r\nversion\r\n",
    }


def binary_request(opcode, key=b"", extras=b"", value=b"", opaque=0, cas=0):
    body = extras + key + value
    return struct.pack(">BBHBBHIIQ", 0x80, opcode, len(key), len(extras), 0, 0, len(body),
                       opaque, cas) + body


GET, SET, ADD, REPLACE, DELETE, INCR, DECR, QUIT, FLUSH, GETQ, NOOP, VERSION = range(12)
GETK, GETKQ, APPEND, PREPEND, STAT, SETQ = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
VERBOSITY, TOUCH, GAT, GATQ, GATK = 0x1B, 0x1C, 0x1D, 0x1E, 0x23


def binary_seeds():
    r = binary_request
    flags_exp = struct.pack(">II", 0xDEADBEEF, 0)
    return {
        "set-get": cut(24, 5) + r(SET, b"foo", flags_exp, b"bar", opaque=1)
        + r(GET, b"foo", opaque=2) + r(GETK, b"foo", opaque=3) + r(GET, b"nope", opaque=4),
        "quiet": cut() + r(SETQ, b"q", flags_exp, b"1") + r(GETQ, b"q") + r(GETKQ, b"none")
        + r(NOOP),
        "storage": cut(30) + r(ADD, b"k", flags_exp, b"a") + r(ADD, b"k", flags_exp, b"b")
        + r(REPLACE, b"k", flags_exp, b"c") + r(APPEND, b"k", value=b"de")
        + r(PREPEND, b"k", value=b"z") + r(SET, b"k", flags_exp, b"x", cas=12345) + r(GET, b"k"),
        "arith": cut(50, 1) + r(INCR, b"n", struct.pack(">QQI", 5, 10, 0))
        + r(INCR, b"n", struct.pack(">QQI", 5, 10, 0)) + r(DECR, b"n", struct.pack(">QQI", 100, 0, 0))
        + r(INCR, b"m", struct.pack(">QQI", 1, 0, 0xFFFFFFFF)),
        "touch": cut(7) + r(SET, b"t", flags_exp, b"v") + r(TOUCH, b"t", struct.pack(">I", 100))
        + r(GAT, b"t", struct.pack(">I", 0)) + r(GATK, b"t", struct.pack(">I", 5))
        + r(GATQ, b"missing", struct.pack(">I", 5)) + r(DELETE, b"t") + r(DELETE, b"t"),
        "misc": cut(24) + r(VERSION) + r(VERBOSITY, extras=struct.pack(">I", 1)) + r(FLUSH)
        + r(FLUSH, extras=struct.pack(">I", 10)) + r(NOOP) + r(QUIT),
        "stat": cut(3) + r(STAT) + r(STAT, b"settings"),
        "too-large": cut(64) + r(SET, b"big", flags_exp, b"x" * 2000) + r(GET, b"big"),
        "unknown": cut(192) + r(0x55, b"k", value=b"body") + r(NOOP),
    }


def loadgen_seeds():
    return {
        "get": cut(6) + b"VALUE k 0 3\r\nabc\r\nEND\r\nEND\r\n",
        "cas": cut() + b"VALUE key 5 10 77\r\n0123456789\r\nEND\r\n",
        "multi": cut(3, 40) + b"VALUE a 0 1\r\n1\r\nVALUE b 0 2\r\n22\r\nEND\r\n",
        "store": cut(4) + b"STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\n",
        "errors": cut(9) + b"ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\n"
        b"ERRORS\r\nsomething else\r\n",
        "value-crlf": cut(2) + b"VALUE k 0 4\r\n\r\n\r\n\r\nEND\r\n",
        "broken": cut(13) + b"VALUE k 0 x\r\nEND\r\n",
    }


if __name__ == "__main__":
    write("memcached_ascii_fuzz", ascii_seeds())
    write("memcached_binary_fuzz", binary_seeds())
    write("loadgen_reply_fuzz", loadgen_seeds())
