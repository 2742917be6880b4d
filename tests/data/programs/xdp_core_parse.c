/* xdp_core_parse: a header parser written as programs built against vmlinux.h are, every type access a CO-RE
 * relocation, to show that XdpGate relocates them as libbpf does.
 *
 * No vmlinux.h (it is megabytes): the few types the program reads are declared here with preserve_access_index,
 * on purpose unlike the kernel's: xdp_md, vlan_hdr and iphdr have their fields in another order, iphdr's flavor
 * (___local) is dropped when it is matched, udphdr is declared with only the fields it reads, and the enums have
 * wrong values. Loaded by libbpf (bpftool) or XdpGate, each access is moved to the kernel's layout.
 *
 * Per frame it parses Ethernet, one optional 802.1Q tag, IPv4 (IHL from the bitfield read with
 * BPF_CORE_READ_BITFIELD: byte offset, byte size, left and right shifts, signedness) or IPv6 (an address word
 * through the in6_addr union's array), then TCP or UDP ports, or ICMP; it records what it read in `last` and
 * counts per class in `counts`. Verdicts come from enum xdp_action relocations (64-bit immediates): TCP to port 23
 * and IPv4 with IHL < 5 are dropped, frames shorter than their headers aborted, everything else passed.
 * Guarded relocations a kernel cannot resolve (a field, a type and an enumerator it lacks) are poisoned and
 * pruned as dead code, and their existence answers (0) are recorded.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum bpf_map_type___local { BPF_MAP_TYPE_ARRAY___local = 2 };

enum xdp_action___local {
	XDP_ABORTED___local = 10,
	XDP_DROP___local = 11,
	XDP_PASS___local = 12,
	XDP_XDPGATE_NO_SUCH_ACTION = 13,
};

struct xdp_md___local {
	__u32 data_end;
	__u32 ingress_ifindex;
	__u32 data;
} __attribute__((preserve_access_index));

struct ethhdr {
	unsigned char h_dest[6];
	unsigned char h_source[6];
	__be16 h_proto;
} __attribute__((preserve_access_index));

struct vlan_hdr___local {
	__be16 h_vlan_encapsulated_proto;
	__be16 h_vlan_TCI;
} __attribute__((preserve_access_index));

struct iphdr___local {
	__be32 daddr;
	__be32 saddr;
	__u8 protocol;
	__u8 ttl;
	__be16 tot_len;
	__u8 version:4, ihl:4;
	__u32 xdpgate_no_such_field;
} __attribute__((preserve_access_index));

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

struct ipv6hdr {
	__u8 nexthdr;
	__u8 hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
} __attribute__((preserve_access_index));

struct tcphdr {
	__be16 source;
	__be16 dest;
} __attribute__((preserve_access_index));

struct udphdr {
	__be16 dest;
	__be16 source;
} __attribute__((preserve_access_index));

struct xdpgate_no_such_type {
	int x;
} __attribute__((preserve_access_index));

struct facts {
	__u64 version;
	__u64 ihl;
	__u64 ihl_signed;
	__u64 ttl;
	__u64 protocol;
	__u64 tot_len;
	__u64 addr_word;
	__u64 sport;
	__u64 dport;
	__u64 vlan_tci;
	__u64 sizes;       /* sizeof the kernel's iphdr, ipv6hdr, udphdr, ethhdr: one byte each */
	__u64 exists;      /* bit per existence answer, see below */
	__u64 missing;     /* what guarded reads of missing things gave: never written */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY___local);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct facts);
} last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY___local);
	__uint(max_entries, 6);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

enum { C_OTHER, C_VLAN, C_IPV4, C_IPV6, C_TCP, C_UDP };

static __always_inline void count(__u32 class)
{
	__u64 *n = bpf_map_lookup_elem(&counts, &class);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline int action(int which)
{
	if (which == 0)
		return bpf_core_enum_value(enum xdp_action___local, XDP_ABORTED___local);
	if (which == 1)
		return bpf_core_enum_value(enum xdp_action___local, XDP_DROP___local);
	return bpf_core_enum_value(enum xdp_action___local, XDP_PASS___local);
}

SEC("xdp")
int xdp_core_parse(struct xdp_md___local *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	struct facts *f = bpf_map_lookup_elem(&last, &zero);
	void *l4;
	__u16 proto;
	__u8 l4proto;

	if (!f)
		return action(0);
	f->sizes = bpf_core_type_size(struct iphdr___local) | bpf_core_type_size(struct ipv6hdr) << 8 |
		   bpf_core_type_size(struct udphdr) << 16 | bpf_core_field_size(eth->h_proto) << 24 |
		   (__u64)bpf_core_field_size(eth->h_dest) << 32;
	f->exists = bpf_core_type_exists(struct ipv6hdr) | bpf_core_type_exists(struct xdpgate_no_such_type) << 1 |
		    bpf_core_enum_value_exists(enum xdp_action___local, XDP_XDPGATE_NO_SUCH_ACTION) << 2 |
		    bpf_core_enum_value_exists(enum xdp_action___local, XDP_PASS___local) << 3 |
		    (bpf_core_type_id_kernel(struct ethhdr) != 0) << 4 | (bpf_core_type_id_local(struct ethhdr) != 0) << 5;
	if (bpf_core_type_exists(struct xdpgate_no_such_type))
		f->missing = bpf_core_type_size(struct xdpgate_no_such_type);
	if (bpf_core_enum_value_exists(enum xdp_action___local, XDP_XDPGATE_NO_SUCH_ACTION))
		f->missing = bpf_core_enum_value(enum xdp_action___local, XDP_XDPGATE_NO_SUCH_ACTION);

	if ((void *)(eth + 1) > data_end)
		return action(0);
	proto = eth->h_proto;
	l4 = eth + 1;
	if (proto == __builtin_bswap16(0x8100)) {
		struct vlan_hdr___local *vlan = l4;

		if ((void *)(vlan + 1) > data_end)
			return action(0);
		count(C_VLAN);
		f->vlan_tci = __builtin_bswap16(vlan->h_vlan_TCI);
		proto = vlan->h_vlan_encapsulated_proto;
		l4 = vlan + 1;
	}

	if (proto == __builtin_bswap16(0x0800)) {
		struct iphdr___local *iph = l4;

		if (l4 + 20 > data_end)
			return action(0);
		count(C_IPV4);
		f->version = BPF_CORE_READ_BITFIELD(iph, version);
		f->ihl = BPF_CORE_READ_BITFIELD(iph, ihl);
		f->ihl_signed = __builtin_preserve_field_info(iph->ihl, BPF_FIELD_SIGNED) |
				__builtin_preserve_field_info(iph->ttl, BPF_FIELD_SIGNED) << 1;
		f->ttl = iph->ttl;
		f->protocol = iph->protocol;
		f->tot_len = __builtin_bswap16(iph->tot_len);
		f->addr_word = __builtin_bswap32(iph->saddr) ^ __builtin_bswap32(iph->daddr);
		f->exists |= bpf_core_field_exists(iph->xdpgate_no_such_field) << 6 | bpf_core_field_exists(iph->ttl) << 7;
		if (bpf_core_field_exists(iph->xdpgate_no_such_field))
			f->missing = iph->xdpgate_no_such_field;
		if (f->ihl < 5)
			return action(1);
		l4proto = iph->protocol;
		l4 += f->ihl * 4;
	} else if (proto == __builtin_bswap16(0x86dd)) {
		struct ipv6hdr *ip6h = l4;

		if (l4 + bpf_core_type_size(struct ipv6hdr) > data_end)
			return action(0);
		count(C_IPV6);
		f->ttl = ip6h->hop_limit;
		f->protocol = ip6h->nexthdr;
		f->addr_word = __builtin_bswap32(ip6h->saddr.in6_u.u6_addr32[3]) ^ ip6h->daddr.in6_u.u6_addr8[15];
		l4proto = ip6h->nexthdr;
		l4 += bpf_core_type_size(struct ipv6hdr);
	} else {
		count(C_OTHER);
		return action(2);
	}

	if (l4proto == 6) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return action(0);
		count(C_TCP);
		f->sport = __builtin_bswap16(tcp->source);
		f->dport = __builtin_bswap16(tcp->dest);
		if (f->dport == 23)
			return action(1);
	} else if (l4proto == 17) {
		struct udphdr *udp = l4;

		if (l4 + bpf_core_type_size(struct udphdr) > data_end)
			return action(0);
		count(C_UDP);
		f->sport = __builtin_bswap16(udp->source);
		f->dport = __builtin_bswap16(udp->dest);
	}
	return action(2);
}

char LICENSE[] SEC("license") = "GPL";
