#!/usr/bin/env python3
"""Writes demo.pcap: a few IPv4/IPv6 TCP and UDP frames in the test ranges (198.18.0.0/15, 2001:2::/48)
that configs/demo.yaml's firewall passes, drops and counts. Run from any directory; output beside this script."""
import os
import struct


def ipv4(src, dst, proto, l4):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, bytes(src), bytes(dst))
    return b"\x08\x00" + header + l4


def ipv6(src, dst, proto, l4):
    header = struct.pack("!IHBB16s16s", 0x60000000, len(l4), proto, 64, bytes(src), bytes(dst))
    return b"\x86\xdd" + header + l4


def tcp(sport, dport, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def udp(sport, dport, payload=b"demo"):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def v6(last):
    return [0x20, 0x01, 0, 2] + [0] * 11 + [last]


SYN, ACK = 0x02, 0x10
frames = [
    ipv4([198, 18, 0, 1], [198, 19, 0, 1], 6, tcp(40000, 22, SYN)),      # ssh from the admin net: pass
    ipv4([198, 18, 7, 9], [198, 19, 0, 1], 6, tcp(40001, 22, SYN)),      # ssh from elsewhere: drop
    ipv4([198, 18, 7, 9], [198, 19, 0, 1], 6, tcp(40002, 443, SYN)),     # https: pass
    ipv4([198, 18, 7, 9], [198, 19, 0, 1], 17, udp(5353, 53)),           # dns: counted, then pass
    ipv4([198, 18, 66, 6], [198, 19, 0, 1], 6, tcp(40003, 443, ACK)),    # blocked set: drop
    ipv6(v6(1), v6(2), 6, tcp(40004, 443, SYN)),                         # https over IPv6: pass
    ipv6(v6(1), v6(2), 17, udp(40005, 11211)),                           # memcached: drop
]
mac = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo.pcap")
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, body in enumerate(frames):
        frame = mac + body
        f.write(struct.pack("<IIII", 1_700_000_000, i, len(frame), len(frame)))
        f.write(frame)
