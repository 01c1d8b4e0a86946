#!/usr/bin/env python3
"""kill_check.py: a cluster keeps serving, and never serves a wrong value,
while one of its nodes is killed under load.

  kill_check.py --node ADDR:PORT [--node ...] --victim I --kill "COMMAND"
                [--restart "COMMAND" --kill "COMMAND" ...]

Clients on every node set and get 300 keys whose values name the key and a
version that only grows; each get must return a miss or a version no older
than the last one the cluster acknowledged before the get was sent (and no
newer than any ever sent). After a warm-up COMMAND kills node I; the
survivors must go on answering (a write may fail with SERVER_ERROR while
the cluster notices the death, never a connection), and a second warm-up
after the kill must see every survivor serve. With --restart the victim
comes back (empty) and is killed again (the next --kill): a survivor that
kept the values it held for the victim's keys during the first outage
would now serve them, older than what the victim acknowledged meanwhile.
Prints a summary; exits 1 on any wrong value or a survivor that stops
answering.
"""

import argparse
import json
import random
import socket
import subprocess
import sys
import time

KEYS = 300


class Node:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.address = (host, int(port))
        self.sock = None
        self.buf = b""
        self.ok = 0

    def connect(self):
        self.sock = socket.create_connection(self.address, timeout=10)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def set(self, key, value):
        self.sock.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(value), value))
        return self.line()

    def get(self, key):
        self.sock.sendall(b"get %s\r\n" % key)
        value = None
        while True:
            line = self.line()
            if line == b"END":
                return value
            parts = line.split()
            if parts[0] != b"VALUE" or len(parts) < 4:
                raise ValueError("bad reply %r" % line)
            value = self.exact(int(parts[3]) + 2)[:-2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", action="append", required=True)
    parser.add_argument("--victim", type=int, required=True)
    parser.add_argument("--kill", action="append", required=True)
    parser.add_argument("--restart", action="append", default=[])
    parser.add_argument("--seconds", type=float, default=3.0, help="load before and after the kill")
    args = parser.parse_args()

    rng = random.Random(7)
    nodes = [Node(a) for a in args.node]
    for n in nodes:
        n.connect()
    keys = [b"ck%d" % i for i in range(KEYS)]
    acked = {k: 0 for k in keys}      # the newest version the cluster confirmed
    attempted = {k: 0 for k in keys}  # the newest version ever sent
    stats = {"sets": 0, "stored": 0, "server_errors": 0, "gets": 0, "hits": 0, "misses": 0,
             "wrong": 0, "survivor_failures": 0}
    wrong = []
    dead = set()

    def run(seconds, phase):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            i = rng.randrange(len(nodes))
            if i in dead:
                continue
            node, key = nodes[i], rng.choice(keys)
            try:
                if rng.random() < 0.4:
                    version = attempted[key] + 1
                    attempted[key] = version
                    stats["sets"] += 1
                    reply = node.set(key, b"%s:%d" % (key, version))
                    if reply == b"STORED":
                        stats["stored"] += 1
                        acked[key] = max(acked[key], version)
                    elif reply.startswith(b"SERVER_ERROR"):
                        stats["server_errors"] += 1
                    else:
                        raise ValueError("set answered %r" % reply)
                else:
                    floor = acked[key]
                    stats["gets"] += 1
                    value = node.get(key)
                    if value is None:
                        stats["misses"] += 1
                    else:
                        stats["hits"] += 1
                        name, _, v = value.partition(b":")
                        if name != key or not v.isdigit() or not floor <= int(v) <= attempted[key]:
                            stats["wrong"] += 1
                            wrong.append("%s: got %r, acknowledged %d, sent up to %d (node %d, %s)"
                                         % (key.decode(), value, floor, attempted[key], i, phase))
                node.ok += 1
            except (OSError, ConnectionError, ValueError) as e:
                if i == args.victim and phase != "before":
                    dead.add(i)  # it was killed: expected
                    continue
                stats["survivor_failures"] += 1
                wrong.append("node %d failed %s the kill: %s" % (i, phase, e))
                dead.add(i)

    run(args.seconds, "before")
    before = [n.ok for n in nodes]
    for round_, kill in enumerate(args.kill):
        if round_ > 0:
            # The victim comes back, empty, and serves for a while.
            subprocess.run(args.restart[round_ - 1], shell=True, check=True)
            deadline = time.monotonic() + 30
            while True:
                try:
                    nodes[args.victim].connect()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            dead.discard(args.victim)
            run(args.seconds, "after the restart")
        subprocess.run(kill, shell=True, check=True)
        run(args.seconds, "around")
        for n in nodes:
            n.ok = 0
        run(args.seconds, "after")
    stats["served_before"] = before
    stats["served_after"] = [n.ok for n in nodes]
    print(json.dumps(stats))
    for w in wrong[:20]:
        print("kill_check:", w, file=sys.stderr)
    survivors_served = all(n.ok > 0 for i, n in enumerate(nodes) if i != args.victim)
    if wrong or not survivors_served or stats["hits"] == 0:
        print("kill_check: FAILED (%d problems; every survivor served after the kill: %s)"
              % (len(wrong), survivors_served), file=sys.stderr)
        return 1
    print("kill_check: no wrong value in %d gets (%d hits); the survivors served %s requests after the kill"
          % (stats["gets"], stats["hits"], stats["served_after"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
