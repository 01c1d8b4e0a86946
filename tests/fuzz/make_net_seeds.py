#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/corpus/net_frame_fuzz/: short
conversations of a peer (198.18.0.2, 02:00:00:00:00:02) with the stack
(198.18.0.1, 02:00:00:00:00:01) in the input format that
tests/fuzz/net_frame_fuzz.cc reads (a setup byte, then frame, time and app
records). Run it from anywhere; it rewrites the seeds (files named seed-*) and
leaves any other file alone.

The TCP seeds number their segments relative to what the harness learnt of
the flow (fix-ups 0x02 and 0x04), so they reach the states they aim at
whatever initial sequence number the stack picks."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])
OTHER_MAC = bytes([2, 0, 0, 0, 0, 3])
BROADCAST_MAC = b"\xff" * 6
OUR_IP = 0xC6120001     # 198.18.0.1
PEER_IP = 0xC6120002    # 198.18.0.2
OTHER_IP = 0xC6120003   # 198.18.0.3
SUBNET_BROADCAST = 0xC61200FF
TCP_PORT, UDP_PORT, PEER_PORT, ACTIVE_PORT = 7000, 7, 9000, 40000

# Setup byte.
ARP, KEEPALIVE, SILENT_CONNECT, SMALL_MTU, ON_END, WATERMARKS = 0x01, 0x02, 0x10, 0x20, 0x40, 0x80
ECHO, ECHO_CLOSE, ABORT, PAUSED = 0x00, 0x04, 0x08, 0x0C
# Frame fix-ups.
CSUM, REL_SEQ, REL_ACK, RETARGET, LENGTHS, CHAIN, SHARED = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
PLAIN = CSUM | LENGTHS              # a frame as written, lengths and checksums made right
REL = PLAIN | REL_SEQ | REL_ACK     # the next TCP segment in order (plus the offsets written)
# App actions.
SEND, SEND_BIG, CLOSE, ABORT_CONN, SHUTDOWN, PAUSE, RESUME, CONNECT, PING, UDP_SEND, \
    TOGGLE_LISTEN, TOGGLE_UDP, PING_BROADCAST = range(13)
# TCP flags.
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src, dst, proto, length):
    return struct.pack(">IIBBH", src, dst, 0, proto, length)


def ethernet(payload, dst=OUR_MAC, src=PEER_MAC, ethertype=0x0800):
    return dst + src + struct.pack(">H", ethertype) + payload


def arp(op, sender_mac=PEER_MAC, sender_ip=PEER_IP, target_mac=b"\0" * 6, target_ip=OUR_IP,
        dst=BROADCAST_MAC):
    """An Ethernet frame with an ARP packet (a request, broadcast, unless told)."""
    return ethernet(struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + sender_mac
                    + struct.pack(">I", sender_ip) + target_mac + struct.pack(">I", target_ip),
                    dst=dst, src=sender_mac, ethertype=0x0806)


def ipv4(proto, payload, src=PEER_IP, dst=OUR_IP, ident=1, frag=0, ttl=64, options=b""):
    ihl = 5 + len(options) // 4
    h = struct.pack(">BBHHHBBHII", 0x40 | ihl, 0, 4 * ihl + len(payload), ident, frag, ttl, proto,
                    0, src, dst) + options
    return h[:10] + struct.pack(">H", checksum(h)) + h[12:] + payload


def tcp(sport, dport, seq, ack, flags, payload=b"", options=b"", window=65535, src=PEER_IP,
        dst=OUR_IP):
    options += b"\0" * (-len(options) % 4)
    h = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    (5 + len(options) // 4) << 4, flags, window, 0, 0) + options
    s = h + payload
    c = checksum(pseudo(src, dst, 6, len(s)) + s)
    return s[:16] + struct.pack(">H", c) + s[18:]


def udp(sport, dport, payload, src=PEER_IP, dst=OUR_IP, zero_checksum=False):
    d = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = 0 if zero_checksum else (checksum(pseudo(src, dst, 17, len(d)) + d) or 0xFFFF)
    return d[:6] + struct.pack(">H", c) + d[8:]


def icmp_echo(ident, seq, payload, kind=8):
    m = struct.pack(">BBHHH", kind, 0, 0, ident, seq) + payload
    return m[:2] + struct.pack(">H", checksum(m)) + m[4:]


MSS = lambda v: struct.pack(">BBH", 2, 4, v)  # noqa: E731
WSCALE = lambda v: bytes([1, 3, 3, v])  # noqa: E731 (with a NOP in front)
SACK_OK = bytes([1, 1, 4, 2])
TIMESTAMPS = bytes([1, 1, 8, 10]) + struct.pack(">II", 12345, 0)
SYN_OPTIONS = MSS(1460) + WSCALE(7) + SACK_OK + TIMESTAMPS

# ---- records ----


def frame(f, fix=PLAIN):
    return bytes([fix]) + struct.pack(">H", len(f)) + f


def segment(flags, payload=b"", seq=0, ack=0, fix=REL, sport=5555, dport=TCP_PORT, **kw):
    return frame(ethernet(ipv4(6, tcp(sport, dport, seq, ack, flags, payload, **kw))), fix)


def time(v=0):
    """0: to the next deadline; else (v odd ? 1.5 : 1) * 2^(v/2) us."""
    assert 0 <= v < 64
    return bytes([0x80 | v])


NEXT = time(0)
# Past the delayed ACK (40 ms), ~1 s, past keepalive idle (10 s), reassembly (30 s), 2 MSL (60 s).
T_49MS, T_1S, T_17S, T_34S, T_67S = time(31), time(40), time(48), time(50), time(52)


def act(action, arg=0, conn=0):
    return bytes([0xC0 | conn << 4 | action, arg])


def handshake(sport=5555, options=SYN_OPTIONS, isn=1000, window=65535):
    """A passive open: SYN (absolute seq), then the ACK of the SYN-ACK."""
    return segment(SYN, seq=isn, fix=PLAIN, sport=sport, options=options, window=window) \
        + segment(ACK, sport=sport, window=window)


def active_handshake(isn=5000, options=MSS(1460) + WSCALE(2)):
    """The start's connect(): the peer's SYN-ACK to port 40000."""
    return segment(SYN | ACK, seq=isn, fix=PLAIN | REL_ACK, sport=PEER_PORT, dport=ACTIVE_PORT,
                   options=options)


def fragments(proto, payload, pieces, ident, order=None, src=PEER_IP):
    """A datagram cut at the byte offsets in pieces (multiples of 8)."""
    cuts = [0] + list(pieces) + [len(payload)]
    frames = []
    for i in range(len(cuts) - 1):
        more = 0x2000 if i < len(cuts) - 2 else 0
        frames.append(frame(ethernet(ipv4(proto, payload[cuts[i]:cuts[i + 1]], src=src, ident=ident,
                                          frag=more | cuts[i] // 8)), CSUM))
    return b"".join(frames[i] for i in (order or range(len(frames))))


def seeds():
    s = {}
    hello = b"hello, stack\n"
    # ---- ARP ----
    s["arp-request"] = bytes([0]) + frame(arp(1)) + NEXT \
        + frame(arp(1, sender_ip=0)) \
        + frame(arp(2, OTHER_MAC, OTHER_IP, BROADCAST_MAC, OTHER_IP)) \
        + frame(arp(1, target_ip=OTHER_IP)) \
        + frame(arp(1, sender_mac=b"\x01\0\x5e\0\0\1")) \
        + frame(arp(3)) + NEXT + NEXT
    s["arp-table-full"] = bytes([ARP]) + b"".join(  # 20 hosts ask (the table holds 16)
        frame(arp(1, bytes([2, 0, 0, 0, 1, i]), 0xC6120010 + i)) for i in range(20)) \
        + b"".join(act(CONNECT, 0x40 | i) for i in range(3)) + time(52) \
        + frame(arp(1, bytes([2, 0, 0, 0, 1, 99]), 0xC6120070)) + NEXT
    s["arp-reply"] = bytes([0]) + frame(arp(2, target_mac=OUR_MAC, dst=OUR_MAC)) \
        + NEXT + NEXT + NEXT + NEXT + NEXT
    s["arp-unanswered"] = bytes([SILENT_CONNECT]) + NEXT + NEXT + act(CONNECT, 0x40 | 1) \
        + act(CONNECT, 0x80 | 2) + act(CONNECT, 0xC0 | 3) + NEXT + NEXT + NEXT + NEXT
    # ---- ICMP ----
    payload = bytes(range(56))
    bad = bytearray(ethernet(ipv4(1, icmp_echo(1, 3, payload))))
    bad[-1] ^= 0xFF
    s["icmp-echo"] = bytes([ARP]) + frame(ethernet(ipv4(1, icmp_echo(1, 1, payload)))) \
        + frame(ethernet(ipv4(1, icmp_echo(1, 2, payload), dst=SUBNET_BROADCAST),
                         dst=BROADCAST_MAC)) \
        + frame(bytes(bad), fix=0) + frame(ethernet(ipv4(1, icmp_echo(1, 4, b"", kind=0)))) \
        + frame(ethernet(ipv4(1, icmp_echo(2, 1, payload), src=OTHER_IP), src=OTHER_MAC)) \
        + act(PING, 7) + act(PING, 250) + act(PING_BROADCAST, 1) + act(PING_BROADCAST, 2) \
        + frame(ethernet(ipv4(1, icmp_echo(1, 5, payload)) + b"\0" * 20), fix=0) + NEXT + NEXT
    # ---- UDP ----
    s["udp"] = bytes([ARP]) + frame(ethernet(ipv4(17, udp(1234, UDP_PORT, b"ping")))) \
        + frame(ethernet(ipv4(17, udp(1234, UDP_PORT, b"no checksum", zero_checksum=True))), 0) \
        + frame(ethernet(ipv4(17, udp(1234, 99, b"nobody")))) \
        + frame(ethernet(ipv4(17, udp(1234, UDP_PORT, b"padded"))) + b"\0" * 16, fix=0) \
        + act(UDP_SEND, 3) + act(UDP_SEND, 40) + act(TOGGLE_UDP) \
        + frame(ethernet(ipv4(17, udp(1234, UDP_PORT, b"closed")))) + act(TOGGLE_UDP) \
        + frame(ethernet(ipv4(17, udp(1235, UDP_PORT, b"again"), src=OTHER_IP), src=OTHER_MAC)) \
        + frame(ethernet(ipv4(17, udp(1234, UDP_PORT, b"bcast"), dst=SUBNET_BROADCAST),
                         dst=BROADCAST_MAC)) \
        + NEXT + NEXT + NEXT + NEXT
    # ---- IPv4 fragments ----
    data = bytes((i * 7) & 0xFF for i in range(600))
    dgram = udp(4321, UDP_PORT, data)
    echo = icmp_echo(9, 9, data)
    s["ip-fragments"] = bytes([ARP]) + fragments(17, dgram, [240, 480], 100) \
        + fragments(17, dgram, [240, 480], 101, order=[2, 0, 1]) \
        + fragments(1, echo, [304], 102, order=[1, 0]) \
        + fragments(17, dgram, [240, 480], 103, order=[0, 0, 2, 1]) + NEXT
    s["ip-fragments-bad"] = bytes([ARP]) + fragments(17, dgram, [240, 480], 200, order=[0, 1]) \
        + fragments(17, dgram, [240, 480], 201, order=[0]) \
        + fragments(17, dgram[:248], [240], 201, order=[0]) \
        + frame(ethernet(ipv4(17, dgram[240:300], ident=202, frag=0x2000 | 30)), CSUM) \
        + frame(ethernet(ipv4(17, dgram[0:16], ident=203, frag=0x2000 | 8190)), CSUM) \
        + frame(ethernet(ipv4(17, dgram[0:16], ident=204, frag=0x2000)), CSUM) \
        + frame(ethernet(ipv4(17, dgram[0:24], ident=204, frag=0x2000 | 1)), CSUM) \
        + T_34S + fragments(17, dgram, [240, 480], 200, order=[2]) + NEXT + NEXT
    s["ip-fragments-datagram-limit"] = bytes([0]) + b"".join(  # 65 in progress (limit 64)
        frame(ethernet(ipv4(17, b"f" * 8, ident=1000 + i, frag=0x2000)), CSUM) for i in range(65)) \
        + T_34S + frame(ethernet(ipv4(17, b"f" * 8, ident=999, frag=0x2000)), CSUM)
    s["ip-fragments-fragment-limit"] = bytes([0]) + b"".join(  # 65 of one datagram (limit 64)
        frame(ethernet(ipv4(17, b"g" * 8, ident=7, frag=0x2000 | i)), CSUM) for i in range(1, 66)) \
        + T_34S
    # ---- TCP, passive ----
    s["tcp-handshake"] = bytes([ARP]) + handshake() + segment(PSH | ACK, hello) + T_49MS \
        + segment(ACK) + segment(FIN | ACK) + NEXT + segment(ACK) + T_67S
    s["tcp-handshake-plain"] = bytes([0]) + frame(arp(1)) \
        + segment(SYN, seq=77, fix=PLAIN, options=MSS(1460)) \
        + segment(ACK, fix=PLAIN | REL_SEQ | REL_ACK | CHAIN) \
        + segment(PSH | ACK, hello, fix=REL | SHARED) \
        + segment(PSH | ACK, hello * 3, fix=REL | CHAIN) \
        + NEXT + segment(ACK) + act(CLOSE) + segment(ACK) + segment(FIN | ACK) + NEXT + NEXT
    s["tcp-active-close"] = bytes([ARP]) + handshake() + act(SEND, 99) + segment(ACK) + act(CLOSE) \
        + segment(ACK) + segment(FIN | ACK) + segment(FIN | ACK, seq=-1) + T_67S + NEXT
    s["tcp-rst"] = bytes([ARP]) + handshake() + segment(RST, seq=100000) + segment(RST, seq=1) \
        + segment(SYN, seq=5) + segment(ACK, ack=1000) + segment(ACK, seq=-70000) + segment(RST) \
        + segment(ACK) + segment(RST, fix=PLAIN, sport=5556) + segment(FIN, fix=PLAIN, sport=5557) \
        + NEXT
    s["tcp-rst-syn-received"] = bytes([ARP]) + segment(SYN, seq=1, fix=PLAIN) \
        + segment(RST, fix=PLAIN | REL_SEQ) + segment(SYN, seq=9, fix=PLAIN, sport=5556) \
        + segment(ACK, ack=5, sport=5556) + segment(SYN, seq=20, fix=PLAIN, sport=5557) \
        + segment(SYN, seq=20, fix=PLAIN, sport=5557) + NEXT + NEXT
    opts = [MSS(0), MSS(1), MSS(65535), WSCALE(14), WSCALE(15), bytes([2, 0]), bytes([2, 8, 5, 0]),
            bytes([30, 10]) + b"\0" * 8, bytes([0, 2, 4, 1, 1]), bytes([1] * 8), bytes([3, 3]),
            bytes([2, 4, 5]) + b"\0" * 37]
    s["tcp-options"] = bytes([ARP]) + b"".join(
        segment(SYN, seq=i * 1000, fix=PLAIN, sport=6000 + i, options=o)
        + segment(ACK, sport=6000 + i)
        for i, o in enumerate(opts)) \
        + segment(SYN, seq=1, fix=PLAIN, sport=6100, options=MSS(1)) + segment(ACK, sport=6100) \
        + act(SEND_BIG, 0) + segment(ACK, b"x" * 30, fix=REL | RETARGET) + NEXT
    s["tcp-syn-flood"] = bytes([ARP]) + b"".join(
        segment(SYN, seq=i, fix=PLAIN, sport=7000 + i, options=MSS(1460)) for i in range(11)) \
        + NEXT + NEXT + NEXT + NEXT + NEXT + segment(SYN, seq=50, fix=PLAIN, sport=7100)
    s["tcp-out-of-order"] = bytes([ARP]) + handshake() + segment(ACK, b"b" * 100, seq=100) \
        + segment(ACK, b"d" * 100, seq=200) + segment(ACK, b"a" * 100, seq=-200) \
        + segment(ACK, b"c" * 100, seq=-100) + segment(FIN | ACK, seq=300) \
        + segment(ACK, b"x" * 50, seq=100) + segment(ACK, b"e" * 300, seq=0) + NEXT + segment(ACK) \
        + segment(ACK, b"f" * 10, seq=-5) + segment(ACK, b"g" * 20, seq=60000) + NEXT
    # 4096 bytes go out as 1460 + 1460 + 1176: the first acknowledged, three
    # duplicates (fast retransmit), a partial ACK (NewReno), a full one; then
    # more data that nobody acknowledges, until the retransmissions give up.
    s["tcp-retransmit"] = bytes([ARP]) + handshake() + act(SEND_BIG, 7) + segment(ACK, ack=-2636) \
        + segment(ACK, ack=-2636) * 3 + segment(ACK, ack=-1176) + segment(ACK) \
        + act(SEND_BIG, 3) + segment(ACK, ack=-588) + segment(ACK) + act(SEND_BIG, 3) + NEXT * 8
    s["tcp-zero-window"] = bytes([ARP]) + handshake(options=MSS(1000)) + segment(ACK, window=0) \
        + act(SEND, 200) + NEXT + NEXT + NEXT + segment(ACK, window=100) + NEXT \
        + segment(ACK, window=65535) + NEXT
    s["tcp-paused"] = bytes([ARP | PAUSED | SMALL_MTU]) + handshake() + b"".join(
        segment(ACK, bytes([65 + i]) * 512) for i in range(5)) + NEXT + NEXT + act(RESUME) \
        + segment(ACK) + act(PAUSE) + segment(ACK, b"z" * 900) + T_1S + act(RESUME) + NEXT
    # The app pauses and 2 KiB fill the window; then a 1-byte zero-window
    # probe at RCV.NXT (RFC 9293 3.8.6.1), and an old-sequence one (Linux's).
    s["tcp-zero-window-probe"] = bytes([ARP | PAUSED | SMALL_MTU]) + handshake() + b"".join(
        segment(ACK, bytes([65 + i]) * 512) for i in range(4)) + segment(ACK, b"P") \
        + segment(ACK, seq=-2) + NEXT + act(RESUME) + segment(ACK, b"Q") + NEXT
    s["tcp-keepalive"] = bytes([ARP | KEEPALIVE]) + handshake() + T_17S + segment(ACK, seq=-1) \
        + T_17S + NEXT + NEXT + NEXT + NEXT
    s["tcp-echo-close"] = bytes([ARP | ECHO_CLOSE]) + handshake() + segment(PSH | ACK, hello) \
        + segment(ACK) + segment(PSH | ACK, hello) + segment(FIN | ACK) + NEXT
    s["tcp-abort"] = bytes([ARP | ABORT]) + handshake() + segment(PSH | ACK, hello) + NEXT
    s["tcp-half-close"] = bytes([ARP | ON_END]) + handshake() + segment(FIN | ACK) + act(SEND, 9) \
        + act(SHUTDOWN) + NEXT + segment(ACK) + NEXT
    s["tcp-watermarks"] = bytes([ARP | WATERMARKS]) + handshake() + act(SEND_BIG, 15) \
        + segment(PSH | ACK, hello) + segment(ACK) + NEXT + segment(ACK) + segment(ACK, ack=-1) \
        + NEXT
    s["tcp-small-mtu"] = bytes([ARP | SMALL_MTU]) + handshake() + act(SEND_BIG, 2) \
        + act(PING, 200) + act(UDP_SEND, 20) + segment(ACK) + NEXT
    s["tcp-listener-toggle"] = bytes([ARP]) + act(TOGGLE_LISTEN) + segment(SYN, seq=3, fix=PLAIN) \
        + act(TOGGLE_LISTEN) + segment(SYN, seq=3, fix=PLAIN, sport=5556) + act(TOGGLE_LISTEN) \
        + segment(ACK, sport=5556) + act(TOGGLE_LISTEN) + NEXT
    s["tcp-time-wait-recycle"] = bytes([ARP]) + b"".join(
        handshake(sport=8000 + i) + act(CLOSE) + segment(ACK, sport=8000 + i)
        + segment(FIN | ACK, sport=8000 + i) for i in range(6)) + NEXT
    s["tcp-simultaneous-close"] = bytes([ARP]) + handshake() + act(CLOSE) \
        + segment(FIN | ACK, ack=-1) \
        + segment(ACK) + NEXT + segment(RST) + NEXT
    s["tcp-fin-wait2-orphan"] = bytes([ARP | ON_END]) + handshake() + act(SHUTDOWN) + segment(ACK) \
        + act(CLOSE) + segment(ACK, b"late") + T_67S + NEXT
    s["tcp-persist-keepalive"] = bytes([ARP | KEEPALIVE]) + handshake() + segment(ACK, window=0) \
        + act(SEND, 100) + NEXT + segment(ACK, window=1000, seq=0) + NEXT + time(46) \
        + segment(ACK) \
        + NEXT + NEXT
    # ---- TCP, active ----
    s["tcp-active"] = bytes([ARP]) + active_handshake() + segment(PSH | ACK, hello, sport=PEER_PORT,
                                                                 dport=ACTIVE_PORT) \
        + segment(ACK, sport=PEER_PORT, dport=ACTIVE_PORT) + segment(RST, fix=REL | RETARGET) + NEXT
    s["tcp-active-retarget"] = bytes([ARP]) \
        + segment(SYN | ACK, seq=5000, fix=PLAIN | REL_ACK | RETARGET) \
        + segment(PSH | ACK, hello, fix=REL | RETARGET) + NEXT \
        + segment(FIN | ACK, fix=REL | RETARGET) \
        + segment(ACK, fix=REL | RETARGET) + NEXT
    s["tcp-active-fail"] = bytes([ARP]) + segment(ACK | SYN, seq=5000, ack=7, fix=PLAIN | REL_ACK,
                                                  sport=PEER_PORT, dport=ACTIVE_PORT) \
        + segment(RST | ACK, fix=PLAIN | REL_ACK, sport=PEER_PORT, dport=ACTIVE_PORT) \
        + act(CONNECT, 1) + NEXT + NEXT + NEXT + NEXT
    s["tcp-simultaneous-open"] = bytes([ARP]) + segment(SYN, seq=300, fix=PLAIN, sport=PEER_PORT,
                                                        dport=ACTIVE_PORT, options=MSS(1400)) \
        + segment(SYN | ACK, seq=-1, fix=REL, sport=PEER_PORT, dport=ACTIVE_PORT) \
        + segment(PSH | ACK, hello, sport=PEER_PORT, dport=ACTIVE_PORT) + NEXT
    s["tcp-simultaneous-open-rst"] = bytes([ARP]) \
        + segment(SYN, seq=300, fix=PLAIN, sport=PEER_PORT, dport=ACTIVE_PORT) \
        + segment(RST, fix=PLAIN | REL_SEQ, sport=PEER_PORT, dport=ACTIVE_PORT) + NEXT
    s["tcp-syn-sent-timeout"] = bytes([ARP]) + NEXT + NEXT + NEXT + NEXT + NEXT
    s["connect-many"] = bytes([ARP]) + b"".join(act(CONNECT, i & 0x3F) for i in range(70)) \
        + NEXT + segment(SYN, seq=1, fix=PLAIN) + NEXT + NEXT + NEXT + NEXT
    # ---- junk ----
    syn = tcp(1, TCP_PORT, 0, 0, SYN)
    s["junk"] = bytes([ARP]) + frame(b"\x02\0\0\0\0\1\x02", 0) \
        + frame(ethernet(ipv4(17, udp(1, UDP_PORT, b"x")), dst=OTHER_MAC)) \
        + frame(ethernet(b"\0" * 40, ethertype=0x86DD), 0) \
        + frame(ethernet(b"\x65" + ipv4(17, udp(1, UDP_PORT, b"x"))[1:]), CSUM) \
        + frame(ethernet(ipv4(17, udp(1, UDP_PORT, b"opt"), options=b"\x01\x01\x01\x00"))) \
        + frame(ethernet(ipv4(99, b"proto 99"))) \
        + frame(ethernet(ipv4(6, b"\0" * 12)), PLAIN) \
        + frame(ethernet(ipv4(6, syn[:12] + b"\xf0" + syn[13:]))) \
        + frame(ethernet(ipv4(6, tcp(0, TCP_PORT, 0, 0, SYN)))) \
        + frame(ethernet(ipv4(6, tcp(1, TCP_PORT, 0, 0, SYN, dst=SUBNET_BROADCAST),
                              dst=SUBNET_BROADCAST), dst=BROADCAST_MAC)) \
        + frame(ethernet(ipv4(17, udp(1, UDP_PORT, b"x"), dst=0x0A000001))) \
        + frame(ethernet(ipv4(17, b"\0\1\0\7\0\3\0\0"))) + frame(ethernet(ipv4(1, b"\x08\0"))) \
        + NEXT
    return s


def write(harness, seeds):
    folder = os.path.join(HERE, "corpus", harness)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("seed-"):
            os.remove(os.path.join(folder, name))
    for name, data in seeds.items():
        assert len(data) <= 4096, (name, len(data))  # libFuzzer's default -max_len
        with open(os.path.join(folder, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("net_frame_fuzz", seeds())
