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


class Flooder:
    """One connection that sends without reading until told to stop."""

    def __init__(self, host, port, stop):
        self.sent = 0
        self.pushed_back = False  # saw the send buffer fill: the server stopped taking
        self.error = None
        self.thread = threading.Thread(target=self.run, args=(host, port, stop), daemon=True)

    def run(self, host, port, stop):
        try:
            s = socket.create_connection((host, port), timeout=10)
            s.setblocking(False)
            block = os.urandom(65536)
            while not stop.is_set():
                try:
                    self.sent += s.send(block)
                except BlockingIOError:
                    self.pushed_back = True  # TCP's window is shut
                    time.sleep(0.01)
            s.close()
        except OSError as e:
            self.error = e


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
    flooders = [Flooder(a.host, a.port, stop) for _ in range(a.flooders)]
    for f in flooders:
        f.thread.start()
    trips = 0
    ok = True
    try:
        end = time.time() + a.seconds
        while time.time() < end:
            if not round_trip(a.host, a.port, os.urandom(1000)):
                ok = False
                break
            trips += 1
    except OSError as e:
        print(f"flood_check: a round trip failed: {e}")
        ok = False
    finally:
        stop.set()
    for f in flooders:
        f.thread.join(timeout=30)
    try:
        after = round_trip(a.host, a.port, b"still there?")
    except OSError as e:
        print(f"flood_check: afterwards: {e}")
        after = False
    failed = [f for f in flooders if f.error is not None or f.thread.is_alive()]
    pushed_back = sum(f.pushed_back for f in flooders)
    sent = sum(f.sent for f in flooders)
    print(f"flood_check: {a.flooders} flooders sent {sent} bytes unread ({pushed_back} pushed back, "
          f"{len(failed)} failed); {trips} round trips {'all intact' if ok else 'FAILED'} meanwhile; "
          f"afterwards {'served' if after else 'NOT SERVED'}")
    for f in failed:
        print(f"flood_check: a flooder failed: {f.error or 'still running'}")
    # Every flooder connected and was pushed back (the server stopped taking
    # what it could not echo instead of buffering it all).
    return 0 if ok and after and trips > 0 and not failed and pushed_back == a.flooders else 1


if __name__ == "__main__":
    sys.exit(main())
