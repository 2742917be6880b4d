/*
 * xdp_ipv6_exthdr: IPv6 extension header chain walker and L4 classifier.
 *
 * What it does
 *   For IPv6 frames it checks the fixed header (version 6, 40 bytes present)
 *   and follows the Next Header chain through at most MAX_EXT_HDRS extension
 *   headers: Hop-by-Hop options (only valid right after the fixed header),
 *   Routing, Fragment, Destination options, and AH. Each header must fit in the
 *   packet. The walk stops at the first upper-layer protocol, at No Next
 *   Header (59), or at a non-first fragment (offset != 0, the L4 header is not
 *   there). Policy:
 *     - Hop-by-Hop anywhere but first, a cut-short header, or a chain longer
 *       than MAX_EXT_HDRS:                       XDP_DROP
 *     - Routing header type 0 (deprecated by RFC 5095) with segments left:
 *                                                XDP_DROP
 *     - TCP or UDP whose header does not fit:    XDP_DROP
 *     - anything else:                           XDP_PASS
 *   Per-CPU counters record what was seen (see enum stat_idx).
 *
 * Features exercised
 *   - IPv6 fixed header and extension headers (HBH 0, Routing 43, Fragment 44,
 *     AH 51, No Next Header 59, Destination options 60)
 *   - a bounded `for` loop (MAX_EXT_HDRS iterations) advancing a packet
 *     pointer by a variable length ((hdrlen + 1) * 8, or (hdrlen + 2) * 4 for AH)
 *   - TCP and UDP header bounds checks after the chain
 *   - BPF_MAP_TYPE_PERCPU_ARRAY counters (non-atomic increments)
 *
 * Maps: ext_stats (PERCPU_ARRAY, key __u32 stat_idx, value __u64).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_EXT_HDRS 6

#define NH_HOPOPTS 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_AH 51
#define NH_ICMPV6 58
#define NH_NONE 59
#define NH_DSTOPTS 60

enum stat_idx {
	ST_IPV6,
	ST_HOPOPTS,
	ST_ROUTING,
	ST_FRAGMENT,
	ST_AH,
	ST_DSTOPTS,
	ST_TCP,
	ST_UDP,
	ST_ICMPV6,
	ST_OTHER_L4,
	ST_NO_NEXT,
	ST_LATER_FRAGMENT,
	ST_BAD_CHAIN,
	ST_TOO_LONG,
	ST_RH0,
	ST_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ext_stats SEC(".maps");

struct frag_hdr_ {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

static __always_inline void stat(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&ext_stats, &idx);

	if (v)
		*v += 1;
}

SEC("xdp")
int xdp_ipv6_exthdr(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	__u8 nexthdr;
	void *cur;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end || ip6->version != 6) {
		stat(ST_BAD_CHAIN);
		return XDP_DROP;
	}
	stat(ST_IPV6);
	nexthdr = ip6->nexthdr;
	cur = ip6 + 1;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_EXT_HDRS; i++) {
		struct ipv6_opt_hdr *oh = cur;
		__u32 len;

		switch (nexthdr) {
		case NH_HOPOPTS:
			if (i != 0) {
				stat(ST_BAD_CHAIN);
				return XDP_DROP;
			}
			stat(ST_HOPOPTS);
			break;
		case NH_ROUTING:
			stat(ST_ROUTING);
			break;
		case NH_DSTOPTS:
			stat(ST_DSTOPTS);
			break;
		case NH_AH:
			stat(ST_AH);
			break;
		case NH_FRAGMENT: {
			struct frag_hdr_ *fh = cur;

			if ((void *)(fh + 1) > data_end) {
				stat(ST_BAD_CHAIN);
				return XDP_DROP;
			}
			stat(ST_FRAGMENT);
			if (fh->frag_off & bpf_htons(0xfff8)) {
				stat(ST_LATER_FRAGMENT);
				return XDP_PASS;
			}
			nexthdr = fh->nexthdr;
			cur = fh + 1;
			continue;
		}
		case NH_NONE:
			stat(ST_NO_NEXT);
			return XDP_PASS;
		default:
			goto upper_layer;
		}

		/* Generic (next header, length) extension header. */
		if ((void *)(oh + 1) > data_end) {
			stat(ST_BAD_CHAIN);
			return XDP_DROP;
		}
		if (nexthdr == NH_ROUTING) {
			struct ipv6_rt_hdr *rh = cur;

			if ((void *)(rh + 1) > data_end) {
				stat(ST_BAD_CHAIN);
				return XDP_DROP;
			}
			if (rh->type == 0 && rh->segments_left != 0) {
				stat(ST_RH0);
				return XDP_DROP;
			}
		}
		if (nexthdr == NH_AH)
			len = ((__u32)oh->hdrlen + 2) * 4;
		else
			len = ((__u32)oh->hdrlen + 1) * 8;
		nexthdr = oh->nexthdr;
		cur += len;
		if (cur > data_end) {
			stat(ST_BAD_CHAIN);
			return XDP_DROP;
		}
	}
	/* Still on an extension header after MAX_EXT_HDRS of them. */
	switch (nexthdr) {
	case NH_HOPOPTS:
	case NH_ROUTING:
	case NH_FRAGMENT:
	case NH_AH:
	case NH_DSTOPTS:
		stat(ST_TOO_LONG);
		return XDP_DROP;
	case NH_NONE:
		stat(ST_NO_NEXT);
		return XDP_PASS;
	}

upper_layer:
	switch (nexthdr) {
	case NH_TCP: {
		struct tcphdr *th = cur;

		if ((void *)(th + 1) > data_end || th->doff < 5) {
			stat(ST_BAD_CHAIN);
			return XDP_DROP;
		}
		stat(ST_TCP);
		return XDP_PASS;
	}
	case NH_UDP: {
		struct udphdr *uh = cur;

		if ((void *)(uh + 1) > data_end) {
			stat(ST_BAD_CHAIN);
			return XDP_DROP;
		}
		stat(ST_UDP);
		return XDP_PASS;
	}
	case NH_ICMPV6:
		stat(ST_ICMPV6);
		return XDP_PASS;
	default:
		stat(ST_OTHER_L4);
		return XDP_PASS;
	}
}

char LICENSE[] SEC("license") = "GPL";
