#!/usr/bin/env python3
"""Sends bytes through an echo server and checks every byte comes back.

  echo_check.py --port P [--host H] [--bytes N] [--connections C]

Each connection sends N/C pseudo-random bytes (a different stream each)
while a reader takes the echo; the SHA-256 of what came back must equal
what was sent. Exit 0 when every connection matched, 1 otherwise.
"""
import argparse
import hashlib
import random
import socket
import sys
import threading
import time


def one_connection(host, port, total, seed, results, index):
    rng = random.Random(seed)
    block = rng.randbytes(1 << 20)
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()
    got = 0
    try:
        s = socket.create_connection((host, port), timeout=60)
    except OSError as e:
        results[index] = f"connect: {e}"
        return

    def reader():
        nonlocal got
        while got < total:
            data = s.recv(1 << 16)
            if not data:
                break
            got_hash.update(data)
            got += len(data)

    t = threading.Thread(target=reader)
    t.start()
    sent = 0
    try:
        while sent < total:
            chunk = block[: min(len(block), total - sent)]
            s.sendall(chunk)
            sent_hash.update(chunk)
            sent += len(chunk)
    except OSError as e:
        results[index] = f"send: {e}"
    t.join()
    s.close()
    if results[index] is None:
        if got != total:
            results[index] = f"{got} of {total} bytes came back"
        elif sent_hash.digest() != got_hash.digest():
            results[index] = "the bytes that came back differ from those sent"
        else:
            results[index] = "ok"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--connections", type=int, default=1)
    a = p.parse_args()
    per = a.bytes // a.connections
    results = [None] * a.connections
    start = time.time()
    threads = [threading.Thread(target=one_connection, args=(a.host, a.port, per, i, results, i))
               for i in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.time() - start
    bad = [f"connection {i}: {r}" for i, r in enumerate(results) if r != "ok"]
    for line in bad:
        print("echo_check:", line)
    print(f"echo_check: {a.connections} connection(s), {per * a.connections} bytes each way, "
          f"{'all matched' if not bad else 'FAILED'} in {seconds:.1f} s "
          f"({per * a.connections / seconds / 1e6:.1f} MB/s)")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
