#!/usr/bin/env python3
"""Checks that a memcached server spreads connections over every core.

  spread_check.py --host H --port P --cores N [--connections C]

Opens C connections (default 64), stores and reads back a key on each,
then, with all of them still open, asks 'stats cores' on one more and
checks that every core 0..N-1 holds at least one (its curr_connections).
With 64 connections a core left out by chance is a 1-in-10^7 event for 4
cores; a server that keeps every connection on one core fails at once.
"""
import argparse
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from memcached_wire import request  # noqa: E402




def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cores", type=int, required=True)
    p.add_argument("--connections", type=int, default=64)
    a = p.parse_args()
    conns = []
    for i in range(a.connections):
        s = socket.create_connection((a.host, a.port), timeout=30)
        key = f"spread{i}".encode()
        if request(s, b"set " + key + b" 0 0 2\r\nok\r\n", b"\r\n") != b"STORED\r\n":
            print(f"spread_check: connection {i}: set failed")
            return 1
        if request(s, b"get " + key + b"\r\n", b"END\r\n") != b"VALUE " + key + b" 0 2\r\nok\r\nEND\r\n":
            print(f"spread_check: connection {i}: get returned something else")
            return 1
        conns.append(s)
    probe = socket.create_connection((a.host, a.port), timeout=30)
    stats = request(probe, b"stats cores\r\n", b"END\r\n").decode()
    per_core = {}
    for line in stats.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].endswith(":curr_connections"):
            per_core[int(parts[1].split(":")[0][4:])] = int(parts[2])
    print("spread_check: open connections per core:", " ".join(f"{c}={n}" for c, n in sorted(per_core.items())))
    missing = [c for c in range(a.cores) if per_core.get(c, 0) < 1]
    for s in conns + [probe]:
        s.close()
    if missing:
        print("spread_check: cores with no connection:", missing)
        return 1
    print(f"spread_check: {a.connections} connections over all {a.cores} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
