#!/usr/bin/env python3
"""Writes the test frames (NAME.packets) and initial map contents (NAME.maps.json)
for the XDP programs in this directory.

    python3 make_packets.py          # (re)write every file
    python3 make_packets.py --check  # exit 1 if a written file would change

Frames are built by hand with struct (no scapy), with correct IPv4 header and
TCP/UDP/ICMP checksums unless a frame is meant to be broken. Addresses come only
from 198.18.0.0/15 and 2001:2::/48, MACs from 02:00:00:00:00:xx.

NAME.packets format (UTF-8 text):
    # comment                  (the line before a frame says what it is)
    #! prog PROGNAME            selects the program of the object that runs the
                                frames below it; without one, the object's only
                                program runs them
    0200000000010200...        one frame per line, lowercase hex
Frames run in file order against one loaded instance of the object: map
contents carry over from one frame to the next.

NAME.maps.json: {"MAP": [{"key": HEX, "value": HEX} | {"key": HEX, "prog": NAME}]},
the exact key and value bytes as the kernel sees them (host order is little-endian
x86-64), applied in order before the first frame.
"""
import ipaddress
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = 0, 1, 2, 3, 4

ETH_IP, ETH_IP6, ETH_ARP, ETH_8021Q, ETH_8021AD, ETH_PROBE = 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x88B5
TCP, UDP, ICMP, ICMP6, IPIP = 6, 17, 1, 58, 4
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


# ---------------------------------------------------------------- builders

def mac(n):
    return bytes([0x02, 0, 0, 0, 0, n])


BCAST = b"\xff" * 6
HOST_A, HOST_B = mac(0x01), mac(0x02)


def ip4(s):
    assert ipaddress.ip_address(s) in ipaddress.ip_network("198.18.0.0/15"), s
    return ipaddress.IPv4Address(s).packed


def ip6(s):
    assert ipaddress.ip_address(s) in ipaddress.ip_network("2001:2::/48"), s
    return ipaddress.IPv6Address(s).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, etype=ETH_IP, dst=HOST_B, src=HOST_A):
    return dst + src + struct.pack("!H", etype) + payload


def vlan(tci, etype):
    return struct.pack("!HH", tci, etype)


def ipv4(src, dst, proto, payload, ttl=64, tos=0, ident=0x1234, frag=0x4000, options=b"",
         ihl=None, tot_len=None, version=4, check=None):
    assert len(options) % 4 == 0
    if ihl is None:
        ihl = 5 + len(options) // 4
    if tot_len is None:
        tot_len = 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, tos, tot_len, ident, frag, ttl, proto, 0,
                      ip4(src), ip4(dst)) + options
    if check is None:
        check = csum(hdr)
    hdr = hdr[:10] + struct.pack("!H", check) + hdr[12:]
    return hdr + payload


def pseudo4(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, proto, length):
    return ip6(src) + ip6(dst) + struct.pack("!IxxxB", length, proto)


def tcp(sport, dport, flags, payload=b"", seq=1000, ack=0, doff=None, window=65535, options=b"",
        pseudo=None):
    if doff is None:
        doff = 5 + len(options) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0) + options + payload
    if pseudo is not None:
        c = csum(pseudo(len(seg)) + seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return seg


def udp(sport, dport, payload=b"", length=None, pseudo=None, zero_csum=False):
    if length is None:
        length = 8 + len(payload)
    dgram = struct.pack("!HHHH", sport, dport, length, 0) + payload
    if pseudo is not None and not zero_csum:
        c = csum(pseudo(len(dgram)) + dgram) or 0xFFFF
        dgram = dgram[:6] + struct.pack("!H", c) + dgram[8:]
    return dgram


def icmp4(typ, code=0, ident=1, seq=1, payload=b"ping"):
    msg = struct.pack("!BBHHH", typ, code, 0, ident, seq) + payload
    c = csum(msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def icmp6(src, dst, typ, code=0, payload=b"\x00\x01\x00\x01ping"):
    msg = struct.pack("!BBH", typ, code, 0) + payload
    c = csum(pseudo6(src, dst, ICMP6, len(msg)) + msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def ipv6(src, dst, nexthdr, payload, hlim=64, plen=None, version=6):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB", version << 28, plen, nexthdr, hlim) + ip6(src) + ip6(dst) + payload


# Whole frames for the common cases.

def v4_tcp(src, dst, sport, dport, flags, payload=b"", options=b"", **kw):
    seg = tcp(sport, dport, flags, payload, pseudo=lambda n: pseudo4(src, dst, TCP, n))
    return ipv4(src, dst, TCP, seg, options=options, **kw)


def v4_udp(src, dst, sport, dport, payload=b"", options=b"", zero_csum=False, **kw):
    dg = udp(sport, dport, payload, pseudo=lambda n: pseudo4(src, dst, UDP, n), zero_csum=zero_csum)
    return ipv4(src, dst, UDP, dg, options=options, **kw)


def v6_tcp(src, dst, sport, dport, flags, payload=b"", **kw):
    seg = tcp(sport, dport, flags, payload, pseudo=lambda n: pseudo6(src, dst, TCP, n))
    return ipv6(src, dst, TCP, seg, **kw)


def v6_udp(src, dst, sport, dport, payload=b"", **kw):
    dg = udp(sport, dport, payload, pseudo=lambda n: pseudo6(src, dst, UDP, n))
    return ipv6(src, dst, UDP, dg, **kw)


def arp_request(sip="198.18.0.1", tip="198.18.0.2"):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + HOST_A + ip4(sip) + b"\0" * 6 + ip4(tip)
    return eth(body, ETH_ARP, dst=BCAST)


def pad_to(frame, n):
    return frame + b"\0" * (n - len(frame)) if len(frame) < n else frame


# IPv6 extension headers: (nexthdr, body) -> bytes with the right length field.

def ext_opts(nexthdr, opts=b""):
    """Hop-by-Hop or Destination options header: options padded to 8n - 2 with PadN/Pad1."""
    body = opts
    rem = (-(len(body) + 2)) % 8
    if rem == 1:
        body += b"\x00"
    elif rem > 1:
        body += bytes([1, rem - 2]) + b"\0" * (rem - 2)
    return bytes([nexthdr, (len(body) + 2) // 8 - 1]) + body


def ext_routing(nexthdr, rtype, segleft, addrs):
    body = bytes([rtype, segleft]) + b"\0" * 4 + b"".join(ip6(a) for a in addrs)
    return bytes([nexthdr, (len(body) + 2) // 8 - 1]) + body


def ext_fragment(nexthdr, offset, more, ident=0x01020304):
    return struct.pack("!BBHI", nexthdr, 0, offset << 3 | (1 if more else 0), ident)


def ext_ah(nexthdr, icv_words=3):
    # payload length = total length in 4-byte words minus 2; 12 fixed bytes + ICV
    total = 12 + 4 * icv_words
    return struct.pack("!BBHII", nexthdr, total // 4 - 2, 0, 0x100, 1) + b"\xaa" * (4 * icv_words)


# ---------------------------------------------------------------- map encoders

def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def lpm4(prefix):
    n = ipaddress.ip_network(prefix)
    assert n.subnet_of(ipaddress.ip_network("198.18.0.0/15")), prefix
    return u32(n.prefixlen) + n.network_address.packed


def lpm6(prefix):
    n = ipaddress.ip_network(prefix)
    assert n.subnet_of(ipaddress.ip_network("2001:2::/48")), prefix
    return u32(n.prefixlen) + n.network_address.packed


def kv(key, value):
    return {"key": key.hex(), "value": value.hex()}


# ---------------------------------------------------------------- corpus
# Each program: a list of ("prog", NAME) directives and (description, frame)
# pairs, plus an optional maps dict.

A4, B4 = "198.18.0.10", "198.18.0.20"
A6, B6 = "2001:2::10", "2001:2::20"


def xdp_vlan_count():
    inner = v4_udp(A4, B4, 1234, 53, b"query")
    def tagged(*tags, payload=inner, last=ETH_IP):
        # tags: (tpid, tci) outermost first
        tpids = [t[0] for t in tags]
        b = b""
        for i, (tpid, tci) in enumerate(tags):
            nxt = tpids[i + 1] if i + 1 < len(tags) else last
            b += vlan(tci, nxt)
        return eth(b + payload, tpids[0])
    frames = [
        ("untagged IPv4/UDP: untagged_action XDP_PASS, counted under key ffff:ffff", eth(inner)),
        ("802.1Q VID 10: policy XDP_PASS", tagged((ETH_8021Q, 10))),
        ("802.1Q VID 10 with PCP 5 and DEI set (TCI 0xb00a): the VID mask ignores them, XDP_PASS",
         tagged((ETH_8021Q, 0xB00A))),
        ("802.1Q VID 20: policy XDP_DROP, not counted", tagged((ETH_8021Q, 20))),
        ("802.1Q VID 30: policy value 7 is invalid, XDP_ABORTED", tagged((ETH_8021Q, 30))),
        ("802.1Q VID 40: no policy, unknown_vlan_action XDP_DROP", tagged((ETH_8021Q, 40))),
        ("802.1Q VID 200: policy XDP_REDIRECT returned as is (4)", tagged((ETH_8021Q, 200))),
        ("priority tag (VID 0): policy for 0:0 is XDP_PASS", tagged((ETH_8021Q, 0x6000))),
        ("QinQ 802.1ad VID 100 / 802.1Q VID 10: policy XDP_TX", tagged((ETH_8021AD, 100), (ETH_8021Q, 10))),
        ("QinQ 802.1ad VID 100 / 802.1Q VID 20: policy XDP_PASS", tagged((ETH_8021AD, 100), (ETH_8021Q, 20))),
        ("double 802.1Q 100 / 10 (old-style QinQ): same key as 802.1ad, XDP_TX",
         tagged((ETH_8021Q, 100), (ETH_8021Q, 10))),
        ("QinQ 100 / 30: no policy for this stack, XDP_DROP", tagged((ETH_8021AD, 100), (ETH_8021Q, 30))),
        ("three tags 100 / 10 / 5: XDP_DROP", tagged((ETH_8021AD, 100), (ETH_8021Q, 10), (ETH_8021Q, 5))),
        ("802.1Q VID 10 carrying ARP: XDP_PASS", tagged((ETH_8021Q, 10), payload=arp_request()[14:], last=ETH_ARP)),
        ("802.1Q VID 10 again, a 1000-byte frame: stats add up", tagged((ETH_8021Q, 10),
                                                                     payload=v4_udp(A4, B4, 1, 2, b"x" * 958))),
        ("malformed: EtherType 0x8100 and only 2 bytes of tag: XDP_DROP", eth(b"\x00\x0a", ETH_8021Q)),
        ("malformed: a complete 802.1Q tag with nothing after it (18 bytes): XDP_DROP",
         eth(vlan(10, ETH_IP), ETH_8021Q)),
        ("malformed: QinQ tags with nothing after them (22 bytes): XDP_DROP",
         eth(vlan(100, ETH_8021Q) + vlan(10, ETH_IP), ETH_8021AD)),
        ("malformed: outer tag complete, inner tag cut to 3 bytes: XDP_DROP",
         eth(vlan(100, ETH_8021Q) + b"\x00\x0a\x08", ETH_8021AD)),
        ("minimal untagged frame, 14 bytes of Ethernet only: untagged_action XDP_PASS", eth(b"", ETH_IP)),
        ("untagged ARP request: XDP_PASS", arp_request()),
    ]
    def key(outer, inner):
        return u16(outer) + u16(inner)
    maps = {"vlan_policy": [
        kv(key(10, 0), u32(XDP_PASS)),
        kv(key(20, 0), u32(XDP_DROP)),
        kv(key(30, 0), u32(7)),
        kv(key(200, 0), u32(XDP_REDIRECT)),
        kv(key(0, 0), u32(XDP_PASS)),
        kv(key(100, 10), u32(XDP_TX)),
        kv(key(100, 20), u32(XDP_PASS)),
    ]}
    return frames, maps


def xdp_ipv4_options():
    pl = udp(1000, 2000, b"payload!")
    def opt(options, **kw):
        return eth(ipv4(A4, B4, UDP, pl, options=options, **kw))
    rr = bytes([0x07, 11, 4]) + b"\0" * 8 + b"\x01"              # record route + NOP
    ts = bytes([0x44, 12, 5, 0]) + b"\0" * 8                       # timestamp
    ra = bytes([0x94, 4, 0, 0])                                    # router alert
    lsrr = bytes([0x83, 7, 4]) + ip4("198.18.9.9") + b"\x00"       # LSRR + EOL
    ssrr = bytes([0x89, 7, 4]) + ip4("198.18.9.9") + b"\x00"
    frames = [
        ("IPv4/UDP, IHL 5, no options: XDP_PASS", opt(b"")),
        ("IHL 6: NOP NOP NOP EOL: XDP_PASS, three NOPs counted", opt(b"\x01\x01\x01\x00")),
        ("IHL 6: router alert (0x94, len 4): XDP_PASS", opt(ra)),
        ("IHL 8: record route (len 11) + NOP: XDP_PASS", opt(rr)),
        ("IHL 8: timestamp (0x44, len 12): XDP_PASS", opt(ts)),
        ("IHL 11: router alert + timestamp + record route + NOP: XDP_PASS", opt(ra + ts + rr)),
        ("IHL 15: 40 NOPs, the longest walk (40 steps): XDP_PASS", opt(b"\x01" * 40)),
        ("IHL 15: record route of 39 bytes + NOP: XDP_PASS",
         opt(bytes([0x07, 39, 4]) + b"\0" * 36 + b"\x01")),
        ("IHL 8: LSRR (0x83): source routed, XDP_DROP", opt(lsrr + b"\0" * 4)),
        ("IHL 8: NOP then SSRR (0x89): source routed, XDP_DROP", opt(b"\x01" + ssrr + b"\0" * 3)),
        ("IHL 7: EOL first, LSRR after it is never read: XDP_PASS", opt(b"\x00" + lsrr + b"\0" * 3)),
        ("malformed option: length 1: XDP_DROP", opt(b"\x07\x01\x00\x00")),
        ("malformed option: length 0: XDP_DROP", opt(b"\x44\x00\x00\x00")),
        ("malformed option: length 12 runs past a 4-byte option area: XDP_DROP", opt(b"\x44\x0c\x05\x00")),
        ("malformed option: type in the last option byte, length byte is outside the header: XDP_DROP",
         opt(b"\x01\x01\x01\x07")),
        ("IHL 4: XDP_DROP", opt(b"", ihl=4)),
        ("IHL 0: XDP_DROP", opt(b"", ihl=0)),
        ("version 6 in an IPv4 frame: XDP_DROP", opt(b"", version=6)),
        ("IHL 15 but only 28 bytes of IP in the frame: XDP_DROP",
         eth(ipv4(A4, B4, UDP, b"", ihl=15, tot_len=60)[:20] + b"\x01" * 8)),
        ("total length 20 below the 24-byte header (IHL 6): XDP_DROP", opt(b"\x01\x01\x01\x00", tot_len=20)),
        ("truncated IPv4 header (10 bytes): XDP_DROP", eth(ipv4(A4, B4, UDP, pl)[:10])),
        ("IPv6 frame: not IPv4, XDP_PASS", eth(v6_udp(A6, B6, 1, 2, b"x"), ETH_IP6)),
        ("ARP: XDP_PASS", arp_request()),
    ]
    return frames, None


def xdp_ipv6_exthdr():
    def frame(nexthdr, chain, plen=None):
        return eth(ipv6(A6, B6, nexthdr, chain, plen=plen), ETH_IP6)
    u = udp(5000, 53, b"dns?", pseudo=lambda n: pseudo6(A6, B6, UDP, n))
    t = tcp(40000, 443, SYN, pseudo=lambda n: pseudo6(A6, B6, TCP, n))
    ra = bytes([5, 2, 0, 0])  # router alert option
    frames = [
        ("IPv6/TCP SYN, no extension headers: XDP_PASS", frame(TCP, t)),
        ("IPv6/UDP: XDP_PASS", frame(UDP, u)),
        ("ICMPv6 echo request: XDP_PASS", eth(ipv6(A6, B6, ICMP6, icmp6(A6, B6, 128)), ETH_IP6)),
        ("Hop-by-Hop (router alert) then UDP: XDP_PASS", frame(0, ext_opts(UDP, ra) + u)),
        ("HBH, DestOpts, Routing type 4 (segments left 0), Fragment (offset 0, M) then UDP: XDP_PASS",
         frame(0, ext_opts(60) + ext_opts(43) + ext_routing(44, 4, 0, [B6]) + ext_fragment(UDP, 0, True) + u)),
        ("Routing type 2 with one address, segments left 1, then TCP: XDP_PASS",
         frame(43, ext_routing(TCP, 2, 1, ["2001:2::99"]) + t)),
        ("Routing type 0 with segments left 1 (RFC 5095): XDP_DROP",
         frame(43, ext_routing(UDP, 0, 1, ["2001:2::99"]) + u)),
        ("Routing type 0 with segments left 0: allowed, XDP_PASS",
         frame(43, ext_routing(UDP, 0, 0, ["2001:2::99"]) + u)),
        ("Fragment with offset 185 (not first): XDP_PASS without looking further",
         frame(44, ext_fragment(UDP, 185, False) + b"\xee" * 16)),
        ("Fragment header alone, offset 0 and no more fragments (atomic), then TCP: XDP_PASS",
         frame(44, ext_fragment(TCP, 0, False) + t)),
        ("DestOpts then Hop-by-Hop (HBH not first): XDP_DROP", frame(60, ext_opts(0) + ext_opts(UDP) + u)),
        ("AH (24 bytes, length field 4) then TCP: XDP_PASS", frame(51, ext_ah(TCP) + t)),
        ("No Next Header (59) right after the fixed header: XDP_PASS", frame(59, b"")),
        ("DestOpts then No Next Header: XDP_PASS", frame(60, ext_opts(59))),
        ("six DestOpts headers then UDP (the most the walker takes): XDP_PASS",
         frame(60, b"".join(ext_opts(60) for _ in range(5)) + ext_opts(UDP) + u)),
        ("six DestOpts headers then No Next Header: XDP_PASS",
         frame(60, b"".join(ext_opts(60) for _ in range(5)) + ext_opts(59))),
        ("seven DestOpts headers then UDP: chain too long, XDP_DROP",
         frame(60, b"".join(ext_opts(60) for _ in range(6)) + ext_opts(UDP) + u)),
        ("DestOpts of 64 bytes (length field 7) with a PadN: XDP_PASS",
         frame(60, ext_opts(UDP, bytes([1, 60]) + b"\0" * 60) + u)),
        ("SCTP (132) as the upper layer: other L4, XDP_PASS", frame(132, b"\0" * 12)),
        ("malformed: DestOpts length field 200 (1608 bytes) past the end: XDP_DROP",
         frame(60, bytes([UDP, 200]) + b"\0" * 6 + u)),
        ("malformed: only 1 byte of a Hop-by-Hop header: XDP_DROP", frame(0, b"\x11", plen=8)),
        ("malformed: Fragment header cut to 4 bytes: XDP_DROP", frame(44, ext_fragment(UDP, 0, True)[:4])),
        ("malformed: Routing header cut to 3 bytes: XDP_DROP", frame(43, b"\x11\x02\x00")),
        ("malformed: TCP header cut to 10 bytes after a DestOpts: XDP_DROP", frame(60, ext_opts(TCP) + t[:10])),
        ("malformed: TCP data offset 4: XDP_DROP",
         frame(TCP, tcp(40000, 443, SYN, doff=4))),
        ("malformed: UDP header cut to 6 bytes: XDP_DROP", frame(UDP, u[:6])),
        ("malformed: IPv6 header cut to 30 bytes: XDP_DROP", eth(ipv6(A6, B6, UDP, u)[:30], ETH_IP6)),
        ("malformed: version 4 in the IPv6 header: XDP_DROP", eth(ipv6(A6, B6, UDP, u, version=4), ETH_IP6)),
        ("IPv4 frame: XDP_PASS, not counted", eth(v4_udp(A4, B4, 1, 2, b"x"))),
    ]
    return frames, None


def xdp_l4_filter():
    S, D = "198.18.1.1", "198.18.1.2"
    def t4(flags, sport=40000, dport=80, **kw):
        return eth(v4_tcp(S, D, sport, dport, flags, **kw))
    def u4(dport, payload=b"data", **kw):
        return eth(v4_udp(S, D, 5353, dport, payload, **kw))
    frames = [
        ("TCP SYN to 80: XDP_PASS, port_stats[tcp/80] created with 1 SYN", t4(SYN)),
        ("TCP SYN to 80 again: XDP_PASS, 2 SYNs", t4(SYN, sport=40001)),
        ("TCP ACK to 80: XDP_PASS, not a SYN", t4(ACK)),
        ("TCP SYN+ACK from 80: XDP_PASS, counted under dport 40000, not a SYN",
         t4(SYN | ACK, sport=80, dport=40000)),
        ("TCP SYN with ECE+CWR (ECN setup): flags masked to 0x3f, XDP_PASS", t4(SYN | ECE | CWR, dport=443)),
        ("TCP NULL scan (no flags): XDP_DROP", t4(0)),
        ("TCP Xmas scan (FIN+PSH+URG): XDP_DROP", t4(FIN | PSH | URG)),
        ("TCP Xmas scan with every flag set: XDP_DROP", t4(0xFF)),
        ("TCP SYN+FIN: XDP_DROP", t4(SYN | FIN)),
        ("TCP SYN+RST: XDP_DROP", t4(SYN | RST)),
        ("TCP FIN+ACK: XDP_PASS", t4(FIN | ACK)),
        ("TCP RST alone: XDP_PASS", t4(RST)),
        ("TCP to port 0: XDP_DROP", t4(SYN, dport=0)),
        ("TCP from port 0: XDP_DROP", t4(SYN, sport=0)),
        ("TCP SYN over IPv4 with options (IHL 7, NOPs): XDP_PASS", t4(SYN, options=b"\x01" * 8)),
        ("TCP SYN over IPv6 to 443: XDP_PASS", eth(v6_tcp(A6, B6, 50000, 443, SYN), ETH_IP6)),
        ("UDP to 53: XDP_PASS", u4(53)),
        ("UDP to 53 over IPv6: XDP_PASS", eth(v6_udp(A6, B6, 5353, 53, b"q"), ETH_IP6)),
        ("UDP to 19 (chargen, in .data block list): XDP_DROP", u4(19)),
        ("UDP to 1900 (SSDP): XDP_DROP", u4(1900)),
        ("UDP to 11211 (memcached): XDP_DROP", u4(11211)),
        ("UDP to 1900 over IPv6: XDP_DROP", eth(v6_udp(A6, B6, 5353, 1900, b"q"), ETH_IP6)),
        ("UDP to port 0: no port rule for UDP, XDP_PASS", u4(0)),
        ("IPv4 non-first fragment (offset 100) of UDP to 19: no L4 header, XDP_PASS",
         eth(ipv4(S, D, UDP, b"\x00\x13" * 8, frag=100))),
        ("malformed: UDP length field 4: XDP_DROP", eth(ipv4(S, D, UDP, udp(5353, 53, b"data", length=4)))),
        ("malformed: UDP header cut to 6 bytes: XDP_DROP", eth(ipv4(S, D, UDP, udp(5353, 53)[:6]))),
        ("malformed: TCP header cut to 12 bytes: XDP_DROP", eth(ipv4(S, D, TCP, tcp(1, 80, SYN)[:12]))),
        ("malformed: TCP data offset 4: XDP_DROP", eth(ipv4(S, D, TCP, tcp(1, 80, SYN, doff=4)))),
        ("malformed: IPv4 IHL 3: XDP_DROP", eth(ipv4(S, D, TCP, tcp(1, 80, SYN), ihl=3))),
        ("malformed: IPv4 header cut to 16 bytes: XDP_DROP", eth(ipv4(S, D, TCP, b"")[:16])),
        ("malformed: IPv6 header cut to 39 bytes: XDP_DROP", eth(ipv6(A6, B6, TCP, b"")[:39], ETH_IP6)),
        ("ICMP echo: XDP_PASS", eth(ipv4(S, D, ICMP, icmp4(8)))),
        ("ARP: XDP_PASS", arp_request()),
    ]
    return frames, None


def xdp_lpm_acl():
    def f4(src):
        return eth(v4_udp(src, "198.18.200.1", 1, 2, b"acl"))
    def f6(src):
        return eth(v6_udp(src, "2001:2::1", 1, 2, b"acl"), ETH_IP6)
    frames = [
        ("v4 198.18.4.255: matches 198.18.0.0/16 only, rule 1 XDP_PASS", f4("198.18.4.255")),
        ("v4 198.18.5.0: 198.18.5.0/24, rule 2 XDP_DROP", f4("198.18.5.0")),
        ("v4 198.18.5.127: still the /24, XDP_DROP", f4("198.18.5.127")),
        ("v4 198.18.5.128: 198.18.5.128/25, rule 3 XDP_PASS", f4("198.18.5.128")),
        ("v4 198.18.5.200: host route /32, rule 4 XDP_TX", f4("198.18.5.200")),
        ("v4 198.18.5.201: back to the /25, XDP_PASS", f4("198.18.5.201")),
        ("v4 198.18.255.255: the /16, XDP_PASS", f4("198.18.255.255")),
        ("v4 198.19.0.1: no prefix matches, default_action XDP_PASS", f4("198.19.0.1")),
        ("v4 198.19.64.1: 198.19.64.0/18, rule 5 XDP_DROP", f4("198.19.64.1")),
        ("v4 198.19.127.255: last address of the /18, XDP_DROP", f4("198.19.127.255")),
        ("v4 198.19.128.0: between the two /18s, default XDP_PASS", f4("198.19.128.0")),
        ("v4 198.19.192.7: 198.19.192.0/18 whose action 9 is invalid, XDP_ABORTED", f4("198.19.192.7")),
        ("v4 source 198.18.5.200 but as destination only: only sources are checked, XDP_PASS",
         eth(v4_udp("198.18.4.1", "198.18.5.200", 1, 2, b"acl"))),
        ("v6 2001:2::1: 2001:2::/52, rule 10 XDP_PASS", f6("2001:2::1")),
        ("v6 2001:2:0:1::1: 2001:2:0:1::/64, rule 11 XDP_DROP", f6("2001:2:0:1::1")),
        ("v6 2001:2:0:1:7fff:ffff:ffff:ffff: still the /64, XDP_DROP", f6("2001:2:0:1:7fff:ffff:ffff:ffff")),
        ("v6 2001:2:0:1:8000::1: 2001:2:0:1:8000::/65, rule 12 XDP_PASS", f6("2001:2:0:1:8000::1")),
        ("v6 2001:2:0:1::dead: /128, rule 13 XDP_TX", f6("2001:2:0:1::dead")),
        ("v6 2001:2:0:2::5: 2001:2:0:2::/64, rule 40 (no such counter) XDP_PASS", f6("2001:2:0:2::5")),
        ("v6 2001:2:0:ff12::1: 2001:2:0:ff00::/56, rule 14 XDP_DROP", f6("2001:2:0:ff12::1")),
        ("v6 2001:2:0:8000::1: no prefix matches, default XDP_PASS", f6("2001:2:0:8000::1")),
        ("v6 2001:2:0:fff::1: last /64 of the /52, XDP_PASS", f6("2001:2:0:fff::1")),
        ("malformed: IPv4 header cut to 19 bytes: XDP_DROP", eth(v4_udp("198.18.5.1", B4, 1, 2)[:19])),
        ("malformed: IPv6 header cut to 24 bytes: XDP_DROP", eth(v6_udp(A6, B6, 1, 2)[:24], ETH_IP6)),
        ("ARP: XDP_PASS", arp_request()),
    ]
    def rule(action, rid):
        return u32(action) + u32(rid)
    maps = {
        "acl_v4": [
            kv(lpm4("198.18.0.0/16"), rule(XDP_PASS, 1)),
            kv(lpm4("198.18.5.0/24"), rule(XDP_DROP, 2)),
            kv(lpm4("198.18.5.128/25"), rule(XDP_PASS, 3)),
            kv(lpm4("198.18.5.200/32"), rule(XDP_TX, 4)),
            kv(lpm4("198.19.64.0/18"), rule(XDP_DROP, 5)),
            kv(lpm4("198.19.192.0/18"), rule(9, 6)),
        ],
        "acl_v6": [
            kv(lpm6("2001:2::/52"), rule(XDP_PASS, 10)),
            kv(lpm6("2001:2:0:1::/64"), rule(XDP_DROP, 11)),
            kv(lpm6("2001:2:0:1:8000::/65"), rule(XDP_PASS, 12)),
            kv(lpm6("2001:2:0:1::dead/128"), rule(XDP_TX, 13)),
            kv(lpm6("2001:2:0:2::/64"), rule(XDP_PASS, 40)),
            kv(lpm6("2001:2:0:ff00::/56"), rule(XDP_DROP, 14)),
        ],
    }
    return frames, maps


def xdp_flow_lru():
    A, B, C, D, E, S = "198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4", "198.18.1.5", "198.18.2.2"
    def t(src, flags, sport=40000, dport=80, payload=b"", **kw):
        return eth(v4_tcp(src, S, sport, dport, flags, payload, **kw))
    frames = [
        ("A: TCP SYN 40000->80: flow created (SYN_SEEN), XDP_PASS", t(A, SYN)),
        ("A: ACK: flow ESTABLISHED, XDP_PASS", t(A, ACK)),
        ("A: PSH+ACK with 100 bytes: XDP_PASS", t(A, PSH | ACK, payload=b"d" * 100)),
        ("A: FIN+ACK: flow CLOSING, XDP_PASS", t(A, FIN | ACK)),
        ("A: RST: flow deleted, XDP_PASS", t(A, RST)),
        ("A: ACK after the RST: no flow, XDP_DROP (6th packet from A: budget still fine)", t(A, ACK)),
        ("A: 7th packet, a new SYN: over the per-source budget of 6, XDP_DROP", t(A, SYN, sport=40001)),
        ("B: ACK without a flow: XDP_DROP", t(B, ACK)),
        ("B: SYN+ACK without a flow: XDP_DROP", t(B, SYN | ACK)),
        ("B: SYN+RST without a flow: XDP_DROP", t(B, SYN | RST)),
        ("B: UDP 5000->53: flow created, XDP_PASS", eth(v4_udp(B, S, 5000, 53, b"q1"))),
        ("B: UDP 5000->53 again: flow refreshed (2 packets), XDP_PASS", eth(v4_udp(B, S, 5000, 53, b"q2"))),
    ] + [
        ("C: UDP packet %d of 8 to port 9: %s" % (i + 1, "XDP_PASS" if i < 6 else "over budget, XDP_DROP"),
         eth(v4_udp(C, S, 6000, 9, bytes([i]) * 10)))
        for i in range(8)
    ] + [
        ("D: ICMP echo: untracked, XDP_PASS", eth(ipv4(D, S, ICMP, icmp4(8)))),
        ("D: TCP header cut to 8 bytes: XDP_DROP (the budget counts it first)",
         eth(ipv4(D, S, TCP, tcp(1, 80, SYN)[:8]))),
        ("D: IHL 4: XDP_DROP before the budget", eth(ipv4(D, S, TCP, tcp(1, 80, SYN), ihl=4))),
        ("E: TCP SYN over IPv4 with options (IHL 6): XDP_PASS", t(E, SYN, options=b"\x01\x01\x01\x00")),
        ("E: ACK over IPv4 with options: same flow, XDP_PASS", t(E, ACK, options=b"\x01\x01\x01\x00")),
        ("IPv6 frame: XDP_PASS", eth(v6_tcp(A6, B6, 1, 2, SYN), ETH_IP6)),
        ("malformed: IPv4 header cut to 12 bytes: XDP_DROP", eth(ipv4(A, S, TCP, b"")[:12])),
    ]
    return frames, None


def xdp_tailcall():
    S, D = "198.18.3.1", "198.18.3.2"
    frames = [
        ("prog", "xdp_dispatch"),
        ("IPv4 TCP SYN to 80: dispatch -> xdp_ipv4 -> xdp_tcp (slot 2 from maps.json), XDP_PASS",
         eth(v4_tcp(S, D, 40000, 80, SYN))),
        ("IPv4 TCP SYN to 23: ... -> xdp_tcp drops telnet, XDP_DROP", eth(v4_tcp(S, D, 40000, 23, SYN))),
        ("IPv4 TCP to 23 with IHL 6: L4 offset 38 carried in scratch, XDP_DROP",
         eth(v4_tcp(S, D, 40000, 23, SYN, options=b"\x01\x01\x01\x00"))),
        ("IPv4 UDP: xdp_ipv4 passes non-TCP, XDP_PASS", eth(v4_udp(S, D, 1, 23, b"x"))),
        ("IPv4 header cut to 16 bytes: xdp_ipv4 drops, XDP_DROP", eth(v4_udp(S, D, 1, 2)[:16])),
        ("IPv4 TCP header cut to 10 bytes: xdp_tcp drops, XDP_DROP", eth(ipv4(S, D, TCP, tcp(1, 80, SYN)[:10]))),
        ("IPv6: dispatch -> xdp_ipv6, XDP_PASS", eth(v6_udp(A6, B6, 1, 2, b"x"), ETH_IP6)),
        ("IPv6 header cut to 20 bytes: xdp_ipv6 drops, XDP_DROP", eth(v6_udp(A6, B6, 1, 2)[:20], ETH_IP6)),
        ("ARP: slot 3 is empty, the tail call falls through: XDP_PASS, one miss", arp_request()),
        ("EtherType 0x88b5: xdp_chain calls itself until the kernel's limit; byte 14 counts its runs: "
         "33, as the dispatcher's own tail call counts towards the limit of 33",
         eth(b"\0" * 16, ETH_PROBE)),
        ("LLDP (0x88cc): unknown EtherType, XDP_DROP", eth(b"\0" * 32, 0x88CC, dst=bytes.fromhex("0180c200000e"))),
        ("14-byte IPv4 frame: xdp_ipv4 finds no header, XDP_DROP", eth(b"", ETH_IP)),
        ("prog", "xdp_ipv4"),
        ("run xdp_ipv4 directly: TCP to 23 tail-calls xdp_tcp, XDP_DROP", eth(v4_tcp(S, D, 1, 23, ACK))),
        ("run xdp_ipv4 directly: ICMP, XDP_PASS", eth(ipv4(S, D, ICMP, icmp4(8)))),
        ("prog", "xdp_chain"),
        ("run xdp_chain directly: hop counter from 0 (the last dispatcher run zeroed it); "
         "34 runs, the entry program plus 33 tail calls",
         eth(b"\0" * 16, ETH_PROBE)),
        ("prog", "xdp_tcp"),
        ("run xdp_tcp directly: per-CPU scratch.l4_off is still 34 from frame 13: TCP to 80, XDP_PASS",
         eth(v4_tcp(S, D, 1, 80, ACK))),
    ]
    maps = {"jmp_table": [{"key": u32(2).hex(), "prog": "xdp_tcp"}]}
    return frames, maps


def xdp_devmap_fwd():
    payload = v4_udp(A4, B4, 1, 2, b"fabric")
    def to(dst):
        return eth(payload, dst=dst, src=mac(0x33))
    frames = [
        ("broadcast: BPF_F_BROADCAST|BPF_F_EXCLUDE_INGRESS, XDP_REDIRECT", to(BCAST)),
        ("to port 1 (ifindex 1 in the devmap): source MAC rewritten, XDP_REDIRECT", to(mac(0x01))),
        ("to port 2 (present): XDP_REDIRECT", to(mac(0x02))),
        ("to port 3 (empty slot): fallback XDP_PASS, MAC still rewritten", to(mac(0x03))),
        ("to port 0 (empty slot): fallback XDP_PASS", to(mac(0x00))),
        ("to port 5 (empty): fallback XDP_DROP", to(mac(0x05))),
        ("to port 7 (empty, last slot): fallback XDP_DROP", to(mac(0x07))),
        ("to port 9: key past max_entries 8, fallback XDP_DROP", to(mac(0x09))),
        ("to port 0x30: key past max_entries, fallback XDP_DROP", to(mac(0x30))),
        ("to 02:..:0e: port 1 with fallback XDP_TX, present: XDP_REDIRECT", to(mac(0x0E))),
        ("to 02:..:0d: port 3 (empty) with flags BPF_F_EXCLUDE_INGRESS|XDP_PASS: fallback XDP_PASS",
         to(mac(0x0D))),
        ("to 02:..:0f: flags 0x20 are invalid, XDP_ABORTED without a lookup", to(mac(0x0F))),
        ("to 02:00:00:00:01:01 (not a fabric host): XDP_PASS untouched", to(bytes.fromhex("020000000101"))),
        ("to IPv4 multicast 01:00:5e:00:00:01: XDP_PASS", to(bytes.fromhex("01005e000001"))),
        ("minimal 14-byte frame to port 1: XDP_REDIRECT", eth(b"", ETH_IP, dst=mac(0x01), src=mac(0x33))),
    ]
    maps = {"tx_ports": [kv(u32(1), u32(1)), kv(u32(2), u32(1))]}
    return frames, maps


def xdp_ringbuf_events():
    S, D = "198.18.4.1", "198.18.4.2"
    frames = [
        ("TCP SYN, 54-byte frame: event kind 1, snap_len 54, seq 0", eth(v4_tcp(S, D, 40000, 80, SYN))),
        ("TCP SYN with 100 bytes of data: snap_len 64", eth(v4_tcp(S, D, 40001, 80, SYN, b"s" * 100))),
        ("TCP SYN+ACK: no event", eth(v4_tcp(D, S, 80, 40000, SYN | ACK))),
        ("TCP ACK: no event", eth(v4_tcp(S, D, 40000, 80, ACK))),
        ("UDP: flow_event kind 2 via bpf_ringbuf_output, seq 2", eth(v4_udp(S, D, 5000, 53, b"query"))),
        ("ICMP echo request: event kind 3 (zeroed snap), seq 3", eth(ipv4(S, D, ICMP, icmp4(8)))),
        ("ICMP echo reply: reserved then discarded, no seq used", eth(ipv4(D, S, ICMP, icmp4(0)))),
        ("TCP SYN over IPv4 with options (IHL 6): event with ports from the right offset",
         eth(v4_tcp(S, D, 40002, 443, SYN, options=b"\x01\x01\x01\x00"))),
        ("TCP header cut to 12 bytes: no event", eth(ipv4(S, D, TCP, tcp(1, 80, SYN)[:12]))),
        ("ARP: no event", arp_request()),
        ("IPv6 TCP SYN: not IPv4, no event", eth(v6_tcp(A6, B6, 1, 80, SYN), ETH_IP6)),
    ] + [
        ("burst SYN %d of 40: nothing reads the 4096-byte ring, so once the records (104 bytes with "
         "their header, 32 for the UDP one, the discarded one included) fill it, reserves fail" % (i + 1),
         eth(v4_tcp(S, D, 41000 + i, 80, SYN)))
        for i in range(40)
    ]
    return frames, None


def xdp_atomics():
    S, D = "198.18.6.1", "198.18.6.2"
    def req(op, cell, arg=0, arg2=0, dport=9000, **kw):
        body = struct.pack("<BB6xQQQQ", op, cell, arg & (2**64 - 1), arg2 & (2**64 - 1), 0, 0)
        return eth(v4_udp(S, D, 5555, dport, body, zero_csum=True, **kw))
    M = 2**64 - 1
    frames = [
        ("fetch_add cell 0 (initially 0) + 5: old 0, new 5, XDP_TX", req(0, 0, 5)),
        ("fetch_add cell 0 + (2^64 - 1): wraps, old 5, new 4", req(0, 0, M)),
        ("fetch_or cell 1 (0xff00ff00ff00ff00) | 0x0f: old ff00..00, new ff00ff00ff00ff0f", req(1, 1, 0x0F)),
        ("fetch_and cell 1 & 0xffff0000ffff0000: new ff000000ff000000", req(2, 1, 0xFFFF0000FFFF0000)),
        ("fetch_xor cell 2 (5) ^ 0xff: old 5, new 0xfa", req(3, 2, 0xFF)),
        ("cmpxchg cell 2 expecting 5 (it is 0xfa): fails, returns 0xfa, unchanged", req(4, 2, 5, 0x77)),
        ("cmpxchg cell 2 expecting 0xfa: succeeds, returns 0xfa, new 0x77", req(4, 2, 0xFA, 0x77)),
        ("xchg cell 3 (0x8000000000000000) with 0xdeadbeef: old 0x8000..., new 0xdeadbeef",
         req(5, 3, 0xDEADBEEF)),
        ("add without fetch cell 3 + 1: out_old 0, new 0xdeadbef0", req(6, 3, 1)),
        ("fetch_add cell 7 (0xffffffffffffffff) + 1: old all ones, new 0", req(0, 7, 1)),
        ("fetch_add on the .data cell (0x1111111111111111) + 0x1111: old 0x1111..., new 0x1111111111112222",
         req(0, 8, 0x1111)),
        ("xchg on the .bss cell (0) with 0x0123456789abcdef", req(5, 9, 0x0123456789ABCDEF)),
        ("cmpxchg on the .bss cell expecting its value: swaps to 42", req(4, 9, 0x0123456789ABCDEF, 42)),
        ("fetch_or on the .data cell | 1 << 63", req(1, 8, 1 << 63)),
        ("32-bit add without fetch on the .bss u32 + 0xffffffff: new 0xffffffff", req(7, 0, 0xFFFFFFFF)),
        ("32-bit add + 2: wraps at 32 bits, new 1 (the upper half of arg is ignored)", req(7, 0, 0x1_0000_0002)),
        ("unknown op 8: XDP_DROP", req(8, 0, 1)),
        ("cell 10 does not exist: XDP_DROP", req(0, 10, 1)),
        ("UDP to another port: XDP_PASS untouched", req(0, 0, 1, dport=9001)),
        ("request cut to 39 bytes: XDP_PASS", eth(v4_udp(S, D, 5555, 9000, b"\0" * 39, zero_csum=True))),
        ("IHL 6 request: only IHL 5 is served, XDP_PASS", req(0, 0, 1, options=b"\x01\x01\x01\x00")),
        ("IPv6 frame: XDP_PASS", eth(v6_udp(A6, B6, 1, 9000, b"\0" * 40), ETH_IP6)),
    ]
    maps = {"cells": [
        kv(u32(0), u64(0)),
        kv(u32(1), u64(0xFF00FF00FF00FF00)),
        kv(u32(2), u64(5)),
        kv(u32(3), u64(0x8000000000000000)),
        kv(u32(7), u64(M)),
    ]}
    return frames, maps


def xdp_ipip_tunnel():
    US, PEER, OTHER = "198.18.0.1", "198.18.0.2", "198.18.0.9"
    IS, ID = "198.18.20.1", "198.18.30.1"
    inner_udp = v4_udp(IS, ID, 4000, 53, b"inner-udp")
    inner_tcp = v4_tcp(IS, ID, 40000, 80, SYN)
    frames = [
        ("IPIP to 198.18.0.1 carrying UDP: outer header popped, XDP_PASS", eth(ipv4(PEER, US, IPIP, inner_udp))),
        ("IPIP to us carrying TCP: decapsulated, XDP_PASS", eth(ipv4(PEER, US, IPIP, inner_tcp))),
        ("IPIP to 198.18.0.9 (not us): XDP_PASS untouched", eth(ipv4(PEER, OTHER, IPIP, inner_udp))),
        ("IPIP to us with outer options (IHL 6): XDP_DROP", eth(ipv4(PEER, US, IPIP, inner_udp,
                                                                    options=b"\x01\x01\x01\x00"))),
        ("IPIP to us, a first fragment (MF): XDP_DROP", eth(ipv4(PEER, US, IPIP, inner_udp, frag=0x2000))),
        ("IPIP to us, inner header cut to 10 bytes: XDP_DROP", eth(ipv4(PEER, US, IPIP, inner_udp[:10]))),
        ("IPIP to us, inner version 6: XDP_DROP", eth(ipv4(PEER, US, IPIP, v4_udp(IS, ID, 1, 2, version=6)))),
        ("IPIP to us, inner header exactly 20 bytes and nothing else: XDP_PASS",
         eth(ipv4(PEER, US, IPIP, ipv4(IS, ID, 59, b"")))),
        ("UDP to 198.18.100.7 (in the encap prefix): pushed into IPIP to 198.18.0.2, XDP_TX",
         eth(v4_udp(IS, "198.18.100.7", 4000, 53, b"to-vip"))),
        ("TCP to 198.18.100.200 with TOS 0x10: encapsulated, TOS copied, XDP_TX",
         eth(v4_tcp(IS, "198.18.100.200", 40000, 443, SYN, tos=0x10))),
        ("1400-byte UDP to 198.18.100.1: encapsulated, XDP_TX",
         eth(v4_udp(IS, "198.18.100.1", 4000, 9, b"z" * 1372))),
        ("bare 20-byte IPv4 header to 198.18.100.2 (34-byte frame): encapsulated, XDP_TX",
         eth(ipv4(IS, "198.18.100.2", 59, b""))),
        ("UDP to 198.18.101.1 (outside the prefix): XDP_PASS", eth(v4_udp(IS, "198.18.101.1", 1, 2, b"x"))),
        ("IPv6: XDP_PASS", eth(v6_udp(A6, B6, 1, 2, b"x"), ETH_IP6)),
        ("malformed: IPv4 header cut to 18 bytes: XDP_DROP", eth(inner_udp[:18])),
    ]
    return frames, None


def xdp_meta_mark():
    S, D = "198.18.7.1", "198.18.7.2"
    frames = [
        ("IPv4 TCP to 443: metadata class 1 port 443, XDP_PASS", eth(v4_tcp(S, D, 40000, 443, SYN))),
        ("IPv4 UDP to 53: class 2 port 53", eth(v4_udp(S, D, 4000, 53, b"q"))),
        ("IPv4 UDP to 7: adjust_meta(-6) and (-256) fail first (see .bss), then the normal 12 bytes",
         eth(v4_udp(S, D, 4000, 7, b"echo"))),
        ("IPv4 ICMP: class 3", eth(ipv4(S, D, ICMP, icmp4(8)))),
        ("IPv4 protocol 47 (GRE): class 4", eth(ipv4(S, D, 47, b"\0" * 8))),
        ("IPv4 TOS 0xff, TCP: metadata written then given back, empty metadata",
         eth(v4_tcp(S, D, 40000, 80, SYN, tos=0xFF))),
        ("IPv4 TCP with options (IHL 6) to 22: class 1 port 22",
         eth(v4_tcp(S, D, 40000, 22, SYN, options=b"\x01\x01\x01\x00"))),
        ("IPv6 UDP to 123: class 2 port 123", eth(v6_udp(A6, B6, 123, 123, b"ntp"), ETH_IP6)),
        ("IPv6 TCP to 80: class 1 port 80", eth(v6_tcp(A6, B6, 40000, 80, SYN), ETH_IP6)),
        ("ICMPv6: class 3", eth(ipv6(A6, B6, ICMP6, icmp6(A6, B6, 128)), ETH_IP6)),
        ("ARP: class 5 (non-IP)", arp_request()),
        ("TCP header cut to 10 bytes: class 4, port 0", eth(ipv4(S, D, TCP, tcp(1, 80, SYN)[:10]))),
        ("IPv4 header cut to 12 bytes: class 4", eth(v4_udp(S, D, 1, 2)[:12])),
        ("minimal 14-byte frame, EtherType 0x88b5: class 5", eth(b"", ETH_PROBE)),
    ]
    return frames, None


def xdp_trim_pad():
    S, D = "198.18.8.1", "198.18.8.2"
    small = v4_udp(S, D, 4000, 53, b"hi")  # 30 bytes of IP
    frames = [
        ("60-byte minimum frame: 30 bytes of IP + 16 of Ethernet padding: trimmed to 44, XDP_PASS",
         pad_to(eth(small), 60)),
        ("IPv4 UDP of exact length: XDP_PASS unchanged", eth(v4_udp(S, D, 4000, 53, b"exact"))),
        ("100 bytes of trailing garbage after a TCP SYN: trimmed, XDP_PASS",
         eth(v4_tcp(S, D, 40000, 80, SYN)) + b"\xee" * 100),
        ("total length 200 larger than the frame: truncated, XDP_DROP",
         eth(ipv4(S, D, UDP, udp(1, 2, b"x" * 20), tot_len=200))),
        ("total length 16 below the header length: XDP_DROP", eth(ipv4(S, D, UDP, udp(1, 2), tot_len=16))),
        ("IHL 4: XDP_DROP", eth(ipv4(S, D, UDP, udp(1, 2), ihl=4))),
        ("UDP to 6343, 300-byte frame: snapped to 96 bytes, XDP_PASS",
         eth(v4_udp(S, D, 6343, 6343, b"s" * 258))),
        ("UDP to 6343, 80-byte frame: shorter than the snap length, unchanged",
         eth(v4_udp(S, D, 6343, 6343, b"s" * 38))),
        ("UDP to 6343, 150-byte frame with 30 bytes of padding: trimmed to 120, then snapped to 96",
         eth(v4_udp(S, D, 6343, 6343, b"s" * 78)) + b"\0" * 30),
        ("UDP to 9999: 8-byte trailer 'XG', sequence 0, old frame length 47 appended; "
         "lengths and IP checksum fixed, XDP_TX",
         eth(v4_udp(S, D, 4000, 9999, b"stamp"))),
        ("UDP to 9999 again: trailer sequence 1", eth(v4_udp(S, D, 4000, 9999, b"stamp-2"))),
        ("UDP to 9999 inside a 64-byte padded frame: padding trimmed, then the trailer",
         pad_to(eth(v4_udp(S, D, 4000, 9999, b"p")), 64)),
        ("UDP to 9999 with IHL 6: no trailer for options, XDP_PASS",
         eth(v4_udp(S, D, 4000, 9999, b"opt", options=b"\x01\x01\x01\x00"))),
        ("UDP to 9999, 3000-byte frame: room to grow (a test run frame reaches 3520 bytes), XDP_TX",
         eth(v4_udp(S, D, 4000, 9999, b"L" * 2958))),
        ("UDP to 9999, 3520-byte frame (the largest the kernel's test run takes): "
         "growing fails, XDP_PASS unchanged", eth(v4_udp(S, D, 4000, 9999, b"M" * 3478))),
        ("IPv6: XDP_PASS", eth(v6_udp(A6, B6, 1, 9999, b"x"), ETH_IP6)),
        ("malformed: IPv4 header cut to 19 bytes: XDP_DROP", eth(small[:19])),
    ]
    return frames, None


def xdp_router_nat():
    C = "198.18.40.1"   # client
    VIP, VIP2 = "198.18.50.1", "198.18.50.2"
    frames = [
        ("TCP SYN to 198.18.50.1:80: DNAT to 198.18.60.10:8080, TTL 64->63, MACs from next_hop, XDP_TX",
         eth(v4_tcp(C, VIP, 40000, 80, SYN))),
        ("UDP to 198.18.50.1:53 with a checksum: DNAT to 198.18.60.11:5353, XDP_TX",
         eth(v4_udp(C, VIP, 4000, 53, b"query"))),
        ("UDP to 198.18.50.1:53 with checksum 0: DNAT, checksum stays 0, XDP_TX",
         eth(v4_udp(C, VIP, 4001, 53, b"query", zero_csum=True))),
        ("TCP to 198.18.50.2:443: address-only DNAT to 198.18.60.12, XDP_TX",
         eth(v4_tcp(C, VIP2, 40000, 443, ACK, b"tls"))),
        ("TCP to 198.18.50.1:22: no DNAT rule for port 22, no route for 50.1: TTL 64->63, XDP_PASS",
         eth(v4_tcp(C, VIP, 40000, 22, SYN))),
        ("TCP to 198.18.70.1:22: routed without NAT, XDP_TX", eth(v4_tcp(C, "198.18.70.1", 40000, 22, SYN))),
        ("ICMP echo to 198.18.70.1: routed, XDP_TX", eth(ipv4(C, "198.18.70.1", ICMP, icmp4(8)))),
        ("UDP to 198.18.99.1: no route, TTL decremented, XDP_PASS", eth(v4_udp(C, "198.18.99.1", 1, 2, b"x"))),
        ("TTL 1: to the stack for ICMP time exceeded, unchanged, XDP_PASS",
         eth(v4_udp(C, "198.18.70.1", 1, 2, b"x", ttl=1))),
        ("TTL 0: XDP_PASS unchanged", eth(v4_udp(C, "198.18.70.1", 1, 2, b"x", ttl=0))),
        ("TTL 2: forwarded with TTL 1, XDP_TX", eth(v4_udp(C, "198.18.70.1", 1, 2, b"x", ttl=2))),
        ("TTL 255 with TOS 0xb8: XDP_TX, TTL 254",
         eth(v4_udp(C, "198.18.70.1", 1, 2, b"x", ttl=255, tos=0xB8))),
        ("TCP to 198.18.50.1:80 over IPv4 with options (IHL 7): DNAT finds the TCP header, XDP_TX",
         eth(v4_tcp(C, VIP, 40001, 80, SYN, options=b"\x01" * 7 + b"\x00"))),
        ("TTL 1 to the NAT address: DNAT is applied before the TTL check, then XDP_PASS",
         eth(v4_tcp(C, VIP, 40002, 80, SYN, ttl=1))),
        ("non-first fragment to 198.18.50.1 (offset 100): no DNAT, no route, XDP_PASS",
         eth(ipv4(C, VIP, TCP, b"\x9c\x40\x00\x50" + b"\0" * 12, frag=100))),
        ("checksum edge: all-ones header words (ID 0xffff): XDP_TX",
         eth(v4_udp(C, "198.18.70.1", 65535, 65535, b"\xff\xff", ident=0xFFFF, tos=0xFF))),
        ("malformed: TCP header cut to 12 bytes to a NAT address: XDP_DROP",
         eth(ipv4(C, VIP, TCP, tcp(40000, 80, SYN)[:12]))),
        ("malformed: IHL 15 with only 24 bytes of IP: XDP_DROP",
         eth(ipv4(C, VIP, TCP, b"", ihl=15, tot_len=60) + b"\x01" * 4)),
        ("malformed: IHL 2: XDP_DROP", eth(ipv4(C, VIP, TCP, tcp(1, 80, SYN), ihl=2))),
        ("IPv6: XDP_PASS", eth(v6_tcp(A6, B6, 1, 80, SYN), ETH_IP6)),
    ]
    def dk(daddr, dport, proto):
        return ip4(daddr) + struct.pack("!H", dport) + bytes([proto, 0])
    def dv(daddr, dport):
        return ip4(daddr) + struct.pack("!H", dport) + b"\0\0"
    maps = {
        "dnat": [
            kv(dk(VIP, 80, TCP), dv("198.18.60.10", 8080)),
            kv(dk(VIP, 53, UDP), dv("198.18.60.11", 5353)),
            kv(dk(VIP2, 443, TCP), dv("198.18.60.12", 443)),
        ],
        "next_hop": [
            kv(ip4("198.18.60.10"), mac(0x10) + mac(0x01)),
            kv(ip4("198.18.60.11"), mac(0x11) + mac(0x01)),
            kv(ip4("198.18.60.12"), mac(0x12) + mac(0x01)),
            kv(ip4("198.18.70.1"), mac(0x20) + mac(0x02)),
        ],
    }
    return frames, maps


def xdp_payload_hash():
    S, D = "198.18.9.1", "198.18.9.2"
    def u(payload, **kw):
        return eth(v4_udp(S, D, 4000, 5000, payload, zero_csum=True, **kw))
    frames = [
        ("16-byte payload: both hashes stamped over the first 8 bytes, XDP_TX", u(b"hello world, xdp")),
        ("payload 'blocked!' hashes to blocked_hash: stamped, then XDP_DROP", u(b"blocked!")),
        ("100-byte payload: only the first 64 bytes are hashed, XDP_TX", u(bytes(range(100)))),
        ("exactly 64 bytes of payload", u(bytes(range(64, 128)))),
        ("exactly 8 bytes of payload (the minimum)", u(b"8bytes!!")),
        ("7 bytes of payload: too short, XDP_PASS untouched", u(b"7bytes!")),
        ("IHL 6, 20-byte payload: payload found after the options, XDP_TX",
         u(b"options before this.", options=b"\x01\x01\x01\x00")),
        ("payload of 0xff bytes (hash arithmetic on high bytes)", u(b"\xff" * 33)),
        ("TCP: XDP_PASS", eth(v4_tcp(S, D, 1, 2, ACK, b"not udp at all"))),
        ("IPv6 UDP: XDP_PASS", eth(v6_udp(A6, B6, 1, 2, b"not ipv4 payload"), ETH_IP6)),
        ("UDP header cut to 4 bytes: XDP_PASS", eth(ipv4(S, D, UDP, udp(1, 2)[:4]))),
        ("14-byte frame, EtherType IPv4: XDP_PASS", eth(b"", ETH_IP)),
    ]
    return frames, None


def xdp_core_parse():
    S, D = "198.18.9.1", "198.18.9.2"
    frames = [
        ("IPv4 TCP SYN to port 80: facts recorded, XDP_PASS", eth(v4_tcp(S, D, 40000, 80, SYN))),
        ("IPv4 TCP to port 23: XDP_DROP", eth(v4_tcp(S, D, 40001, 23, SYN | ACK))),
        ("IPv4 UDP 5000 -> 53 with TTL 7: ports through the reordered udphdr, XDP_PASS",
         eth(v4_udp(S, D, 5000, 53, b"query", ttl=7))),
        ("IPv4 with options (IHL 6), UDP: ports after the options, XDP_PASS",
         eth(v4_udp(S, D, 6000, 54, b"opt", options=b"\x01\x01\x01\x00"))),
        ("IPv4 with IHL 4 (the bitfield read by CO-RE): XDP_DROP",
         eth(ipv4(S, D, UDP, udp(1, 2, b"x"))[:0] + bytes([0x44]) + ipv4(S, D, UDP, udp(1, 2, b"x"))[1:])),
        ("802.1Q VLAN 42, IPv4 ICMP echo: TCI through the reordered vlan_hdr, XDP_PASS",
         eth(vlan(42, ETH_IP) + ipv4(S, D, ICMP, icmp4(8)), ETH_8021Q)),
        ("IPv6 UDP: address word from the in6_addr union's arrays, XDP_PASS",
         eth(v6_udp(A6, B6, 7000, 8000, b"v6"), ETH_IP6)),
        ("IPv6 TCP to port 23: XDP_DROP", eth(v6_tcp(A6, B6, 7001, 23, SYN), ETH_IP6)),
        ("IPv4 TCP cut 10 bytes into the TCP header: the ports are there, XDP_PASS", eth(v4_tcp(S, D, 1, 80, SYN))[:44]),
        ("IPv4 TCP cut 2 bytes into the TCP header: XDP_ABORTED", eth(v4_tcp(S, D, 1, 80, SYN))[:36]),
        ("ARP: other, XDP_PASS", arp_request()),
        ("802.1Q frame cut inside its tag (16 bytes): XDP_ABORTED",
         eth(vlan(7, ETH_IP), ETH_8021Q)[:16]),
    ]
    return frames, None


def xdp_helper_probe():
    def probe(params):
        return eth(params, ETH_PROBE)
    def cs(from_size, to_size, seed, frm=b"", to=b""):
        return probe(struct.pack("<IIII", from_size, to_size, seed, 0) +
                     frm.ljust(64, b"\0")[:64] + to.ljust(64, b"\0")[:64])
    iphdr = ipv4("198.18.0.1", "198.18.0.2", UDP, b"", check=0, ident=0)
    ff = b"\xff" * 64
    seq = bytes(range(1, 65))
    frames = [
        ("prog", "probe_csum_diff"),
        ("to = de ad be ef (4 bytes), seed 0", cs(0, 4, 0, to=bytes.fromhex("deadbeef"))),
        ("to = a 20-byte IPv4 header with checksum 0, seed 0: folds to the header checksum",
         cs(0, 20, 0, to=iphdr)),
        ("from = 00 00 00 01, to = 00 00 00 02, seed 0", cs(4, 4, 0, frm=b"\0\0\0\x01", to=b"\0\0\0\x02")),
        ("from = to = 12 34 56 78, seed 0", cs(4, 4, 0, frm=bytes.fromhex("12345678"), to=bytes.fromhex("12345678"))),
        ("from = 8 bytes, no to, seed 0x1234", cs(8, 0, 0x1234, frm=bytes.fromhex("0102030405060708"))),
        ("no from, no to, seed 0xabcd: nothing to sum", cs(0, 0, 0xABCD)),
        ("no from, no to, seed 0xffffffff", cs(0, 0, 0xFFFFFFFF)),
        ("to = ff ff ff ff, seed 0xffffffff: carries", cs(0, 4, 0xFFFFFFFF, to=ff)),
        ("to = 60 bytes of ff, seed 0xfffffff0", cs(0, 60, 0xFFFFFFF0, to=ff)),
        ("from = 60 bytes of ff, to = 60 bytes of ff (120 bytes total), seed 0", cs(60, 60, 0, frm=ff, to=ff)),
        ("from = 01..3c, to = 60 bytes of 0, seed 0", cs(60, 60, 0, frm=seq)),
        ("from = 0, to = 01..3c (60 bytes), seed 0x80000000", cs(0, 60, 0x80000000, to=seq)),
        ("to = 01..30 (48 bytes), seed 0x12345678", cs(0, 48, 0x12345678, to=seq)),
        ("from size 6 (not a multiple of 4): -EINVAL", cs(6, 4, 0, frm=seq, to=seq)),
        ("to size 2: -EINVAL", cs(0, 2, 0, to=seq)),
        ("from size 63 (masked from 63): -EINVAL", cs(63, 0, 0, frm=seq)),
        ("from size 64 is masked to 0 by the program: to 4 bytes only", cs(64, 4, 0, frm=seq, to=seq)),
        ("to = 4 zero bytes, seed 0: a zero sum", cs(0, 4, 0, to=b"\0" * 4)),
        ("from = 4 zero bytes, seed 0", cs(4, 0, 0, frm=b"\0" * 4)),
        ("from = 00 00 00 01, seed 0x100 (the same sum): cancels out", cs(4, 0, 0x100, frm=b"\0\0\0\x01")),
        ("from = ff ff ff ff, seed 0", cs(4, 0, 0, frm=ff)),
        ("from = 01 02 03 (3 bytes), to = 01 (1 byte), seed 0x10000", cs(3, 1, 0x10000, frm=seq, to=seq)),
        ("to = 01 02 03 04 05 (5 bytes), seed 0", cs(0, 5, 0, to=seq)),
        ("not a probe frame (IPv4): XDP_PASS untouched", eth(v4_udp(A4, B4, 1, 2, b"x"))),
        ("probe frame too short for the parameters (100 bytes): XDP_PASS untouched", probe(b"\0" * 86)),

        ("prog", "probe_adjust_head"),
    ] + [
        ("adjust_head(%d) on a 60-byte frame" % d, pad_to(probe(struct.pack("<i", d)), 60))
        for d in (0, -4, -14, -100, -200, -216, -217, -220, -224, -232, -240, -256, -257, -4096,
                  4, 3, 46, 47, 60, 100)
    ] + [
        ("adjust_head(-1) on a 60-byte frame: odd deltas are allowed", pad_to(probe(struct.pack("<i", -1)), 60)),
        ("adjust_head(2147483647)", pad_to(probe(struct.pack("<i", 2**31 - 1)), 60)),
        ("adjust_head(-2147483648)", pad_to(probe(struct.pack("<i", -2**31)), 60)),
        ("prog", "probe_adjust_tail"),
    ] + [
        ("adjust_tail(%d) on a 60-byte frame" % d, pad_to(probe(struct.pack("<i", d)), 60))
        for d in (0, -10, -46, -47, -60, 1, 10, 100, 1000, 3000, 3460, 3461, 3500, 3520, 3600, 4096, -4096)
    ] + [
        ("adjust_tail(%d) on a 1500-byte frame" % d, pad_to(probe(struct.pack("<i", d)), 1500))
        for d in (0, 1980, 1981, 2020, 2021, -1486, -1487)
    ] + [
        ("adjust_tail(%d) on a 3520-byte frame (the largest test run input)" % d,
         pad_to(probe(struct.pack("<i", d)), 3520))
        for d in (1, 0, -1)
    ] + [
        ("prog", "probe_adjust_meta"),
    ] + [
        ("adjust_meta(%d), then adjust_head(%d), on a 60-byte frame" % (m, h), pad_to(probe(struct.pack("<ii", m, h)), 60))
        for (m, h) in ((0, 0), (-4, 0), (-8, 0), (-12, 0), (-32, 0), (-36, 0), (-6, 0), (-2, 0), (4, 0),
                       (-8, -8), (-8, 8), (-32, -16), (-8, -192), (-8, -208), (-8, -209), (-32, -184),
                       (-32, -185), (-32, -200), (-8, 46), (-8, 47), (-4096, 0), (-216, 0), (-40, -1))
    ]
    return frames, None


def xdp_mixed_sections():
    S, D = "198.18.9.1", "198.18.9.2"
    frames = [
        ("prog", "xdp_classify"),
        ("IPv4 UDP: slot 0, XDP_PASS", eth(v4_udp(S, D, 1000, 53, b"q"))),
        ("IPv6 UDP: slot 1, XDP_PASS", eth(v6_udp(A6, B6, 1000, 53, b"q"), ETH_IP6)),
        ("ARP request: slot 2, XDP_DROP", arp_request()),
        ("EtherType 0x88b5: slot 3, XDP_DROP", eth(b"local experimental", 0x88B5)),
        ("second IPv4 frame (TCP): slot 0 counts 2, XDP_PASS", eth(v4_tcp(S, D, 40000, 80, SYN))),
        ("14-byte frame with EtherType IPv4: slot 0, XDP_PASS", eth(b"", ETH_IP)),
    ]
    return frames, {}


def xdp_legacy_sections():
    S, D = "198.18.10.1", "198.18.10.2"
    frames = [
        ("prog", "xdp_swap_macs"),
        ("IPv4 UDP: MACs swapped, XDP_TX", eth(v4_udp(S, D, 1, 2, b"echo"))),
        ("ARP: MACs swapped, XDP_TX", arp_request()),
        ("prog", "xdp_prog_count"),
        ("IPv4 UDP: protocols[17] = 1, XDP_PASS", eth(v4_udp(S, D, 1, 2))),
        ("IPv4 TCP: protocols[6] = 1, XDP_PASS", eth(v4_tcp(S, D, 40000, 80, SYN))),
        ("IPv4 ICMP: protocols[1] = 1, XDP_PASS", eth(ipv4(S, D, 1, icmp4(8)))),
        ("second IPv4 UDP: protocols[17] = 2, XDP_PASS", eth(v4_udp(S, D, 3, 4))),
        ("IPv6: not counted, XDP_PASS", eth(v6_udp(A6, B6, 1, 2), ETH_IP6)),
        ("IPv4 header cut to 12 bytes: not counted, XDP_PASS", eth(v4_udp(S, D, 1, 2)[:12])),
        ("prog", "xdp_sock_filter"),
        ("IPv4 UDP to 4242: sock_drops 1, XDP_DROP", eth(v4_udp(S, D, 5000, 4242, b"to the socket"))),
        ("IPv4 UDP to 4243: XDP_PASS", eth(v4_udp(S, D, 5000, 4243, b"x"))),
        ("IPv4 TCP to 4242: XDP_PASS", eth(v4_tcp(S, D, 5000, 4242, SYN))),
        ("IPv4 UDP to 4242 with IP options: XDP_PASS", eth(v4_udp(S, D, 5000, 4242, b"x", options=b"\x01\x01\x01\x00"))),
        ("IPv4 UDP to 4242 cut inside the UDP header: XDP_PASS", eth(v4_udp(S, D, 5000, 4242)[:24])),
        ("second IPv4 UDP to 4242: sock_drops 2, XDP_DROP", eth(v4_udp(S, D, 5001, 4242, b"again"))),
    ]
    return frames, {}


CORPUS = [xdp_vlan_count, xdp_ipv4_options, xdp_ipv6_exthdr, xdp_l4_filter, xdp_lpm_acl, xdp_flow_lru,
          xdp_tailcall, xdp_devmap_fwd, xdp_ringbuf_events, xdp_atomics, xdp_ipip_tunnel, xdp_meta_mark,
          xdp_trim_pad, xdp_router_nat, xdp_payload_hash, xdp_helper_probe, xdp_mixed_sections, xdp_legacy_sections,
          xdp_core_parse]

HEADER = """\
# Test frames for {name}.o, written by make_packets.py: edit that, not this.
# One frame per line as hex; '#' starts a comment; '#! prog NAME' selects the
# program that runs the frames after it. Frames run in file order against one
# loaded object, so map state carries over.{maps}
"""


def render_maps(maps):
    """JSON with one map entry per line."""
    blocks = []
    for mname, entries in maps.items():
        lines = ",\n".join("  " + json.dumps(e) for e in entries)
        blocks.append(" %s: [\n%s\n ]" % (json.dumps(mname), lines))
    text = "{\n" + ",\n".join(blocks) + "\n}\n"
    assert json.loads(text) == maps
    return text


def render(fn):
    frames, maps = fn()
    name = fn.__name__
    out = [HEADER.format(name=name, maps="\n# Initial map contents: %s.maps.json." % name if maps else "")]
    n = 0
    for desc, frame in frames:
        if desc == "prog":
            out.append("\n#! prog %s\n" % frame)
            continue
        assert isinstance(frame, bytes) and len(frame) >= 14, (name, desc)
        assert len(frame) <= 3520, (name, desc, len(frame))
        n += 1
        out.append("# [%d] %s (%d bytes)\n%s\n" % (n, desc, len(frame), frame.hex()))
    files = {name + ".packets": "".join(out)}
    if maps:
        files[name + ".maps.json"] = render_maps(maps)
    return files


def main():
    check = "--check" in sys.argv[1:]
    changed = []
    for fn in CORPUS:
        for fname, text in render(fn).items():
            path = os.path.join(HERE, fname)
            old = open(path).read() if os.path.exists(path) else None
            if old != text:
                changed.append(fname)
                if not check:
                    with open(path, "w") as f:
                        f.write(text)
    if check:
        for c in changed:
            print("out of date:", c)
        sys.exit(1 if changed else 0)
    for c in changed:
        print("wrote", c)


if __name__ == "__main__":
    main()
