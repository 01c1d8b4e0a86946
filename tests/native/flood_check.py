#!/usr/bin/env python3
"""Floods an echo server and checks it keeps serving others.

  flood_check.py --port P [--host H] [--flooders N] [--seconds S]

N connections send as fast as they can and never read (the echo must push
back instead of buffering without bound); meanwhile one more connection
makes round trips and every one must come back intact. Then the flooders
go away and a fresh connection must work too. Exit 0 when it all held.
"""
import argparse
import os
import socket
import sys
import threading
import time


def flood(host, port, stop, sent):
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.setblocking(False)
        block = os.urandom(65536)
        while not stop.is_set():
            try:
                sent[0] += s.send(block)
            except BlockingIOError:
                time.sleep(0.01)  # the server pushed back: TCP's window is shut
        s.close()
    except OSError:
        pass


def round_trip(host, port, payload):
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got == payload


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--flooders", type=int, default=32)
    p.add_argument("--seconds", type=float, default=5)
    a = p.parse_args()
    stop = threading.Event()
    sent = [0]
    threads = [threading.Thread(target=flood, args=(a.host, a.port, stop, sent)) for _ in range(a.flooders)]
    for t in threads:
        t.start()
    end = time.time() + a.seconds
    trips = 0
    ok = True
    while time.time() < end:
        if not round_trip(a.host, a.port, os.urandom(1000)):
            ok = False
            break
        trips += 1
    stop.set()
    for t in threads:
        t.join()
    after = round_trip(a.host, a.port, b"still there?")
    print(f"flood_check: {a.flooders} flooders sent {sent[0]} bytes unread; {trips} round trips "
          f"{'all intact' if ok else 'FAILED'} meanwhile; afterwards {'served' if after else 'NOT SERVED'}")
    return 0 if ok and after and trips > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
