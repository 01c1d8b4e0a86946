#!/usr/bin/env python3
"""pipeline_check.py HOST:PORT...: replies come back in the requests' order
when one connection pipelines requests for keys on every node (the ones
away at other nodes and the ones served here interleaved), for the ASCII
and the binary protocol. Exits 1 on any reply out of place.
"""

import socket
import struct
import sys


def recv_until(sock, count, done):
    data = b""
    while not done(data, count):
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed after %d bytes" % len(data))
        data += chunk
    return data


def ascii_check(host, port, n=600):
    s = socket.create_connection((host, port), timeout=20)
    batch = b"".join(b"set p%d 0 0 %d\r\nv%d\r\n" % (i, len(b"v%d" % i), i) for i in range(n))
    batch += b"".join(b"get p%d\r\n" % i for i in range(n))
    batch += b"get " + b" ".join(b"p%d" % i for i in range(0, n, 7)) + b"\r\n"
    s.sendall(batch)
    data = recv_until(s, n, lambda d, c: d.count(b"END\r\n") >= c + 1)
    lines = data.split(b"\r\n")
    assert lines[:n] == [b"STORED"] * n, "the sets' replies are not all STORED in order"
    pos = n
    for i in range(n):  # VALUE p<i> 0 len / v<i> / END
        want = [b"VALUE p%d 0 %d" % (i, len(b"v%d" % i)), b"v%d" % i, b"END"]
        assert lines[pos:pos + 3] == want, "get p%d answered %r" % (i, lines[pos:pos + 3])
        pos += 3
    for i in range(0, n, 7):  # the multi-get: in the request's order
        want = [b"VALUE p%d 0 %d" % (i, len(b"v%d" % i)), b"v%d" % i]
        assert lines[pos:pos + 2] == want, "multi-get p%d answered %r" % (i, lines[pos:pos + 2])
        pos += 2
    assert lines[pos] == b"END"
    s.close()


def binary_check(host, port, n=400):
    s = socket.create_connection((host, port), timeout=20)
    reqs = b""
    for i in range(n):  # set (0x01) with opaque i, then get (0x00) with opaque n + i
        key, value = b"b%d" % i, b"w%d" % i
        extras = struct.pack(">II", 0, 0)
        body = len(extras) + len(key) + len(value)
        reqs += struct.pack(">BBHBBHIIQ", 0x80, 0x01, len(key), len(extras), 0, 0, body, i, 0) + extras + key + value
    for i in range(n):
        key = b"b%d" % i
        reqs += struct.pack(">BBHBBHIIQ", 0x80, 0x00, len(key), 0, 0, 0, len(key), n + i, 0) + key
    s.sendall(reqs)
    data = b""
    replies = []
    while len(replies) < 2 * n:
        while len(data) < 24 or len(data) < 24 + struct.unpack(">I", data[8:12])[0]:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        body = struct.unpack(">I", data[8:12])[0]
        replies.append(data[:24 + body])
        data = data[24 + body:]
    for i, r in enumerate(replies):
        opaque = struct.unpack(">I", r[12:16])[0]
        status = struct.unpack(">H", r[6:8])[0]
        assert opaque == i, "reply %d carries opaque %d" % (i, opaque)
        assert status == 0, "reply %d has status %d" % (i, status)
        if i >= n:
            assert r.endswith(b"w%d" % (i - n)), "get b%d answered %r" % (i - n, r[24:])
    s.close()


def main():
    for address in sys.argv[1:]:
        host, port = address.rsplit(":", 1)
        ascii_check(host, int(port))
        binary_check(host, int(port))
    print("pipeline_check: replies in order on", " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
