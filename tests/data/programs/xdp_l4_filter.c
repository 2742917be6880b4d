/*
 * xdp_l4_filter: stateless TCP/UDP filter with per-port statistics.
 *
 * What it does
 *   Reaches the L4 header over IPv4 (any IHL) or IPv6 (no extension headers;
 *   those pass untouched) and applies stateless rules:
 *     TCP: drop a header that does not fit or has doff < 5; drop port 0 on
 *          either side; drop the classic scan/attack flag combinations: no flag
 *          at all (NULL scan), FIN+PSH+URG (Xmas), SYN+FIN, SYN+RST.
 *     UDP: drop a header that does not fit or a length field below 8; drop
 *          destination ports listed in the .data block list (amplification
 *          reflectors: chargen 19, SSDP 1900, memcached 11211).
 *   Accepted TCP/UDP packets are counted per (protocol, destination port) in a
 *   per-CPU hash (entry created on first sight), with the SYNs counted apart.
 *   Totals go to .bss.
 *
 * Features exercised
 *   - TCP header (ports, data offset, flags byte), UDP header (ports, length)
 *   - IPv4 with a variable IHL and IPv6 as two paths to the same L4 code
 *   - BPF_MAP_TYPE_PERCPU_HASH: lookup, insert with BPF_ANY, in-place update
 *   - .data initialized array read in a constant-bound loop
 *   - .bss counters
 *
 * Maps: port_stats (PERCPU_HASH, key struct port_key, value struct port_stat).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20

#define N_BLOCKED 4

struct port_key {
	__u8 proto;
	__u8 pad;
	__u16 port; /* host order */
};

struct port_stat {
	__u64 packets;
	__u64 syns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct port_key);
	__type(value, struct port_stat);
} port_stats SEC(".maps");

/* .data: a zero entry is unused. */
__u16 blocked_udp_ports[N_BLOCKED] = { 19, 1900, 11211, 0 };

__u64 tcp_packets;
__u64 udp_packets;
__u64 dropped_flags;
__u64 dropped_ports;
__u64 dropped_malformed;

static __always_inline void account(__u8 proto, __u16 port, int syn)
{
	struct port_key key = { .proto = proto, .pad = 0, .port = port };
	struct port_stat *st = bpf_map_lookup_elem(&port_stats, &key);

	if (!st) {
		struct port_stat init = { .packets = 1, .syns = syn ? 1 : 0 };

		bpf_map_update_elem(&port_stats, &key, &init, BPF_ANY);
		return;
	}
	st->packets++;
	if (syn)
		st->syns++;
}

static __always_inline int bad_flags(__u8 f)
{
	f &= 0x3f;
	if (f == 0)
		return 1;
	if ((f & (TCPF_FIN | TCPF_PSH | TCPF_URG)) == (TCPF_FIN | TCPF_PSH | TCPF_URG))
		return 1;
	if ((f & (TCPF_SYN | TCPF_FIN)) == (TCPF_SYN | TCPF_FIN))
		return 1;
	if ((f & (TCPF_SYN | TCPF_RST)) == (TCPF_SYN | TCPF_RST))
		return 1;
	return 0;
}

SEC("xdp")
int xdp_l4_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	void *l4;
	__u8 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 hlen;

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		hlen = ip->ihl * 4;
		if (hlen < sizeof(*ip))
			return XDP_DROP;
		if (ip->frag_off & bpf_htons(0x1fff))
			return XDP_PASS; /* non-first fragment: no L4 header */
		proto = ip->protocol;
		l4 = (void *)ip + hlen;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return XDP_PASS;
	}

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u8 flags;

		if ((void *)(th + 1) > data_end || th->doff < 5) {
			dropped_malformed++;
			return XDP_DROP;
		}
		if (th->source == 0 || th->dest == 0) {
			dropped_ports++;
			return XDP_DROP;
		}
		flags = ((__u8 *)th)[13];
		if (bad_flags(flags)) {
			dropped_flags++;
			return XDP_DROP;
		}
		tcp_packets++;
		account(IPPROTO_TCP, bpf_ntohs(th->dest),
			(flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN);
		return XDP_PASS;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		__u16 dport;

		if ((void *)(uh + 1) > data_end || bpf_ntohs(uh->len) < sizeof(*uh)) {
			dropped_malformed++;
			return XDP_DROP;
		}
		dport = bpf_ntohs(uh->dest);
#pragma clang loop unroll(disable)
		for (i = 0; i < N_BLOCKED; i++) {
			if (blocked_udp_ports[i] && blocked_udp_ports[i] == dport) {
				dropped_ports++;
				return XDP_DROP;
			}
		}
		udp_packets++;
		account(IPPROTO_UDP, dport, 0);
		return XDP_PASS;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
