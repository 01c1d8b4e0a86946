#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/corpus/messenger_frame_fuzz/: Messenger
streams (ebbs/messenger/frame.h) in the input format of
tests/fuzz/messenger_frame_fuzz.cc (a cut prefix, tests/fuzz/fuzz_input.h,
then the stream). Rewrites the files named seed-*, leaves others alone."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "messenger_frame_fuzz")


def frame(type_id, payload=b"", flags=0, version=1, ebb=0x10, source=1, destination=2, request=0):
    header = b"EBBM" + struct.pack(">BBHHHIHHQI", 1, flags, type_id, version, 0, ebb, source, destination,
                                   request, len(payload))
    assert len(header) == 32
    return header + payload


def cuts(*sizes, mode=False):
    # n cut bytes (each b < 0xC0: a piece of b + 1 bytes), the mode bit.
    return bytes([len(sizes) | (0x10 if mode else 0)]) + bytes(s - 1 for s in sizes)


SEEDS = {
    "one": cuts(7) + frame(10, b"hello"),
    "several": cuts(1, 31, 33) + frame(10) + frame(11, b"x" * 100, request=5) + frame(12, b"last", flags=1),
    "bytewise": cuts() + frame(1000, b"abc", flags=3, request=2**63),
    "bad-magic": cuts(4) + b"GET / HTTP/1.1\r\n\r\n",
    "bad-version": cuts(40) + frame(10, b"v")[:4] + b"\x02" + frame(10, b"v")[5:],
    "reserved": cuts(16) + frame(10, b"r", flags=0x80),
    "over-limit": cuts(32, mode=True) + frame(10, b"y" * 65),
    "truncated": cuts(5) + frame(10, b"z" * 50)[:60],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
