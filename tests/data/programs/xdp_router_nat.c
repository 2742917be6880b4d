/*
 * xdp_router_nat: IPv4 fast-path forwarding with destination NAT.
 *
 * What it does
 *   For untagged IPv4 frames:
 *   1. DNAT: if (protocol, destination address, destination port) is in the
 *      `dnat` hash (TCP or UDP, first fragments only), the destination address
 *      and port are rewritten. The IPv4 header checksum is updated with
 *      bpf_csum_diff over the old and new address (4 bytes each), and the L4
 *      checksum over address + port (8 bytes each, the pseudo-header part
 *      included). A UDP checksum of 0 (none) stays 0.
 *   2. TTL: a TTL <= 1 goes to the stack (XDP_PASS: it sends the ICMP time
 *      exceeded). Otherwise the TTL is decremented and the checksum updated
 *      incrementally with bpf_csum_diff over the 4-byte word holding TTL and
 *      protocol (the checksum half of that word is taken as zero on both
 *      sides).
 *   3. Next hop: the (possibly rewritten) destination is looked up in the
 *      `next_hop` hash; a hit gives the MACs to put in the Ethernet header and
 *      the frame goes out the way it came (XDP_TX). A miss passes the frame
 *      to the stack, unchanged except for the NAT and TTL rewrites.
 *   IPv4 options are allowed (variable IHL). Truncated headers are dropped.
 *   Per-CPU counters record what happened.
 *
 * Features exercised
 *   - bpf_csum_diff for incremental checksum updates (seed = ~old checksum),
 *     then a fold: IPv4 header checksum after TTL decrement and address
 *     rewrite; TCP/UDP checksum after address and port rewrite
 *   - BPF_MAP_TYPE_HASH with struct keys and values, filled from user space
 *   - BPF_MAP_TYPE_PERCPU_ARRAY statistics
 *   - MAC rewrite and XDP_TX
 *
 * Maps: dnat (HASH, key struct dnat_key, value struct dnat_val),
 *       next_hop (HASH, key __be32 daddr, value struct next_hop),
 *       rt_stats (PERCPU_ARRAY, key __u32, value __u64).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum {
	RT_FORWARDED,
	RT_TTL_EXCEEDED,
	RT_NO_ROUTE,
	RT_DNAT,
	RT_MAX,
};

struct dnat_key {
	__be32 daddr;
	__be16 dport;
	__u8 proto;
	__u8 pad;
};

struct dnat_val {
	__be32 daddr;
	__be16 dport;
	__u16 pad;
};

struct next_hop {
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct dnat_key);
	__type(value, struct dnat_val);
} dnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __be32);
	__type(value, struct next_hop);
} next_hop SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rt_stats SEC(".maps");

static __always_inline void stat(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&rt_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

/* New checksum from the old one and the diff of the changed bytes. */
static __always_inline __u16 csum_replace(__u16 old_check, __be32 *from, __be32 *to, __u32 size)
{
	return csum_fold(bpf_csum_diff(from, size, to, size, ~((__u32)old_check) & 0xffff));
}

static __always_inline int do_dnat(struct iphdr *ip, void *l4, void *data_end)
{
	struct dnat_key key = {};
	struct dnat_val *nv;
	__be16 *l4_check;
	__be16 *dport_p;
	__be32 from[2], to[2];

	key.daddr = ip->daddr;
	key.proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		dport_p = &th->dest;
		l4_check = &th->check;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		dport_p = &uh->dest;
		l4_check = &uh->check;
	} else {
		return 0;
	}
	key.dport = *dport_p;
	nv = bpf_map_lookup_elem(&dnat, &key);
	if (!nv)
		return 0;

	/* Port in the first half of a zero-padded word: any 16-bit aligned
	 * position gives the same one's complement sum. */
	from[0] = ip->daddr;
	from[1] = 0;
	__builtin_memcpy(&from[1], dport_p, 2);
	to[0] = nv->daddr;
	to[1] = 0;
	__builtin_memcpy(&to[1], &nv->dport, 2);

	if (!(ip->protocol == IPPROTO_UDP && *l4_check == 0))
		*l4_check = csum_replace(*l4_check, from, to, 8);
	ip->check = csum_replace(ip->check, &from[0], &to[0], 4);
	ip->daddr = nv->daddr;
	*dport_p = nv->dport;
	stat(RT_DNAT);
	return 0;
}

SEC("xdp")
int xdp_router_nat(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct next_hop *nh;
	struct iphdr *ip;
	__be32 from, to;
	__be32 daddr;
	__u8 *w;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5 ||
	    (void *)ip + ip->ihl * 4 > data_end)
		return XDP_DROP;

	if (!(ip->frag_off & bpf_htons(0x1fff)) &&
	    do_dnat(ip, (void *)ip + ip->ihl * 4, data_end) < 0)
		return XDP_DROP;

	if (ip->ttl <= 1) {
		stat(RT_TTL_EXCEEDED);
		return XDP_PASS;
	}
	w = &ip->ttl;
	from = 0;
	__builtin_memcpy(&from, w, 2); /* TTL, protocol */
	ip->ttl--;
	to = 0;
	__builtin_memcpy(&to, w, 2);
	ip->check = csum_replace(ip->check, &from, &to, 4);

	daddr = ip->daddr;
	nh = bpf_map_lookup_elem(&next_hop, &daddr);
	if (!nh) {
		stat(RT_NO_ROUTE);
		return XDP_PASS;
	}
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	stat(RT_FORWARDED);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
