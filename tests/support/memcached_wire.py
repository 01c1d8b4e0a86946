"""What the Python checks share to talk to a memcached server."""


def request(sock, data, until):
    """Sends `data`, then reads until the answer ends with `until`."""
    sock.sendall(data)
    got = b""
    while not got.endswith(until):
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("the server closed the connection")
        got += chunk
    return got
