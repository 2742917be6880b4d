/*
 * firewall: XdpGate's built-in firewall. Ordered rules, first match wins;
 * actions pass, drop and count (count and continue); a default verdict.
 *
 * Classification is per field with bit vectors (see firewall.h): one lookup per
 * constrained field, an AND of the classes' block summaries, then an AND of
 * bitmaps in the candidate blocks only, so a packet's cost grows with the blocks
 * of 512 rules that could match it, not with the rule count.
 *
 * Packets that do not reach the rules (the rule is documented in configs/README.md
 * and tested): frames shorter than their headers (Ethernet, VLAN tags, IPv4/IPv6,
 * extension headers, the fixed TCP or UDP header) are "truncated"; an IPv4 header
 * with version != 4 or IHL < 5, or an IPv6 header with version != 6, is a "bad
 * header"; an IPv6 chain with more than FW_MAX_EXT_HEADERS extension headers or a
 * hop-by-hop header anywhere but first is a "bad ext chain"; any IPv4 fragment (MF
 * or offset) and any IPv6 fragment header is a "fragment". All of these get
 * fw_config.unparseable_action. Frames that are neither IPv4 nor IPv6 (after up to
 * two VLAN tags) get fw_config.non_ip_action. Each case is counted in fw_stats.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "firewall.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_config);
} fw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_lpm4_key);
	__type(value, __u32);
} fw_src4 SEC(".maps"), fw_dst4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_lpm6_key);
	__type(value, __u32);
} fw_src6 SEC(".maps"), fw_dst6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} fw_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_PORT_NONE + 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_sport SEC(".maps"), fw_dport SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_FLAGS_NONE + 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_flags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_VLAN_NONE + 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_vlan SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FW_MAX_INGRESS);
	__type(key, __u32);
	__type(value, __u32);
} fw_ingress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_MAX_BITMAP_BLOCKS);
	__type(key, __u32);
	__type(value, struct fw_block);
} fw_bitmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_MAX_BITMAP_BLOCKS);
	__type(key, __u32);
	__type(value, struct fw_summary);
} fw_summaries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_MAX_RULES);
	__type(key, __u32);
	__type(value, __u32);
} fw_actions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_rule_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_STATS);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_stats SEC(".maps");

/* Index of the single set bit of x (x & -x): de Bruijn multiply, branch free, so the verifier sees one path. */
static const __u8 fw_debruijn[64] = {
	0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
};

_Static_assert(FW_SUMMARY_WORDS == 2, "fw_next_block takes candidates from two summary words");

static __always_inline __u32 fw_bit_index(__u64 low)
{
	return fw_debruijn[(low * 0x03f79d71b4cb0a89ULL) >> 58];
}

struct fw_scan {
	__u64 cand0, cand1; /* blocks still to scan: the AND of the classes' summaries */
	__u64 sum0[FW_DIMS], sum1[FW_DIMS]; /* each class's summary, to rank a block among its non-empty ones */
	__u32 base[FW_DIMS];
	__u32 cls[FW_DIMS];
	__u32 nblocks;
	__u32 active;
	__u32 verdict;
	__u32 bytes;
	__u32 hit; /* a terminal rule decided */
};

static __always_inline __u64 fw_popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* The fw_bitmaps key of block `block` of this dimension's class: its base plus the non-empty blocks before it. */
static __always_inline __u32 fw_block_key(struct fw_scan *s, __u32 dim, __u32 block)
{
	if (block < 64)
		return s->base[dim] + fw_popcount(s->sum0[dim] & ((1ULL << block) - 1));
	return s->base[dim] + fw_popcount(s->sum0[dim]) + fw_popcount(s->sum1[dim] & ((1ULL << (block - 64)) - 1));
}

static __always_inline int fw_and_dim(struct fw_scan *s, __u32 dim, __u32 block, struct fw_block *acc)
{
	struct fw_block *b;
	__u32 key;
	int i;

	if (!(s->active & (1u << dim)))
		return 0;
	key = fw_block_key(s, dim, block);
	b = bpf_map_lookup_elem(&fw_bitmaps, &key);
	if (!b)
		return -1;
#pragma unroll
	for (i = 0; i < FW_BLOCK_WORDS; i++)
		acc->w[i] &= b->w[i];
	return 0;
}

/* Rules matched in this block, lowest first; stops the scan (returns 1) at the first terminal one. */
static __always_inline long fw_take_matches(struct fw_scan *s, __u32 block, struct fw_block *acc)
{
	int w, j;

#pragma unroll
	for (w = 0; w < FW_BLOCK_WORDS; w++) {
		__u64 word = acc->w[w];

		for (j = 0; j < 64 && word; j++) {
			__u64 low = word & -word;
			__u32 rule = block * FW_BLOCK_RULES + w * 64 + fw_bit_index(low);
			struct fw_counter *c = bpf_map_lookup_elem(&fw_rule_counts, &rule);
			__u32 *action = bpf_map_lookup_elem(&fw_actions, &rule);

			word ^= low;
			if (!c || !action) {
				s->verdict = XDP_ABORTED;
				return 1;
			}
			c->packets++;
			c->bytes += s->bytes;
			if (*action != FW_ACTION_COUNT) {
				s->verdict = *action;
				s->hit = 1;
				return 1;
			}
		}
	}
	return 0;
}

static __always_inline long fw_scan_block(struct fw_scan *s, __u32 block)
{
	struct fw_block acc;
	struct fw_block *first;
	__u32 key = fw_block_key(s, FW_DIM_PROTO, block);
	__u64 any = 0;
	int i;

	first = bpf_map_lookup_elem(&fw_bitmaps, &key);
	if (!first)
		goto broken;
	acc = *first;
	if (fw_and_dim(s, FW_DIM_SRC, block, &acc) || fw_and_dim(s, FW_DIM_DST, block, &acc) ||
	    fw_and_dim(s, FW_DIM_SPORT, block, &acc) || fw_and_dim(s, FW_DIM_DPORT, block, &acc) ||
	    fw_and_dim(s, FW_DIM_FLAGS, block, &acc) || fw_and_dim(s, FW_DIM_INGRESS, block, &acc) ||
	    fw_and_dim(s, FW_DIM_VLAN, block, &acc))
		goto broken;
#pragma unroll
	for (i = 0; i < FW_BLOCK_WORDS; i++)
		any |= acc.w[i];
	if (!any)
		return 0;
	return fw_take_matches(s, block, &acc);
broken:
	/* A class outside fw_bitmaps: the maps were written wrong; refuse rather than guess. */
	s->verdict = XDP_ABORTED;
	return 1;
}

/* One bpf_loop step: the lowest candidate block left, scanned; stops when none is left or a rule decided. */
static long fw_next_block(__u32 index, void *ctx)
{
	struct fw_scan *s = ctx;
	__u64 low;

	if (s->cand0) {
		low = s->cand0 & -s->cand0;
		s->cand0 ^= low;
		return fw_scan_block(s, fw_bit_index(low));
	}
	if (s->cand1) {
		low = s->cand1 & -s->cand1;
		s->cand1 ^= low;
		return fw_scan_block(s, 64 + fw_bit_index(low));
	}
	return 1;
}

/* ANDs the summary of this dimension's class into the candidates and keeps it; -1 when the class has none (maps written wrong). */
static __always_inline int fw_and_summary(struct fw_scan *s, __u32 dim)
{
	struct fw_summary *sum;

	if (!(s->active & (1u << dim)))
		return 0;
	sum = bpf_map_lookup_elem(&fw_summaries, &s->cls[dim]);
	if (!sum)
		return -1;
	s->cand0 &= sum->w[0];
	s->cand1 &= sum->w[1];
	s->sum0[dim] = sum->w[0];
	s->sum1[dim] = sum->w[1];
	s->base[dim] = sum->base;
	return 0;
}

static __always_inline __u32 fw_count(__u32 stat, __u32 bytes, __u32 verdict)
{
	struct fw_counter *c = bpf_map_lookup_elem(&fw_stats, &stat);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	return verdict;
}

/* The class of a field value; a field no rule constrains is not looked up (its class is never used). */
static __always_inline int fw_class(struct fw_scan *s, __u32 dim, void *map, const void *key)
{
	__u32 *v;

	if (!(s->active & (1u << dim)))
		return 0;
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -1;
	s->cls[dim] = *v;
	return 0;
}

static __always_inline int fw_is_ext_header(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS ||
	       nexthdr == IPPROTO_AH || nexthdr == IPPROTO_FRAGMENT;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 bytes = data_end - data;
	__u32 zero = 0;
	struct fw_config *cfg = bpf_map_lookup_elem(&fw_config, &zero);
	struct fw_scan s = {};
	__u8 *p = data;
	__u16 proto;
	__u32 vlan = FW_VLAN_NONE;
	__u8 l4;
	__u32 sport, dport, flags, proto_key, ifindex;
	int i;

	if (!cfg)
		return XDP_ABORTED;
	s.active = cfg->active_dims | (1u << FW_DIM_PROTO);
	if (p + ETH_HLEN > (__u8 *)data_end)
		return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
	proto = *(__u16 *)(p + 12);
	p += ETH_HLEN;
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (p + 4 > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		if (vlan == FW_VLAN_NONE)
			vlan = bpf_ntohs(*(__u16 *)p) & 0x0fff;
		proto = *(__u16 *)(p + 2);
		p += 4;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		__u32 ihl;

		if (p + 20 > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		ihl = (p[0] & 0x0f) * 4;
		if ((p[0] >> 4) != 4 || ihl < 20)
			return fw_count(FW_STAT_BAD_HEADER, bytes, cfg->unparseable_action);
		if (p + ihl > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		if (*(__u16 *)(p + 6) & bpf_htons(0x3fff))
			return fw_count(FW_STAT_FRAGMENT, bytes, cfg->unparseable_action);
		l4 = p[9];
		{
			struct fw_lpm4_key key = { .prefixlen = 32 };

			__builtin_memcpy(key.addr, p + 12, 4);
			if (fw_class(&s, FW_DIM_SRC, &fw_src4, &key))
				return XDP_ABORTED;
			__builtin_memcpy(key.addr, p + 16, 4);
			if (fw_class(&s, FW_DIM_DST, &fw_dst4, &key))
				return XDP_ABORTED;
		}
		p += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (p + 40 > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		if ((p[0] >> 4) != 6)
			return fw_count(FW_STAT_BAD_HEADER, bytes, cfg->unparseable_action);
		l4 = p[6];
		{
			struct fw_lpm6_key key = { .prefixlen = 128 };

			__builtin_memcpy(key.addr, p + 8, 16);
			if (fw_class(&s, FW_DIM_SRC, &fw_src6, &key))
				return XDP_ABORTED;
			__builtin_memcpy(key.addr, p + 24, 16);
			if (fw_class(&s, FW_DIM_DST, &fw_dst6, &key))
				return XDP_ABORTED;
		}
		__u32 len;

		p += 40;
#pragma unroll
		for (i = 0; i < FW_MAX_EXT_HEADERS; i++) {
			if (!fw_is_ext_header(l4))
				break;
			if (l4 == IPPROTO_FRAGMENT)
				return fw_count(FW_STAT_FRAGMENT, bytes, cfg->unparseable_action);
			if (l4 == IPPROTO_HOPOPTS && i > 0)
				return fw_count(FW_STAT_BAD_EXT_CHAIN, bytes, cfg->unparseable_action);
			if (p + 8 > (__u8 *)data_end)
				return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
			len = l4 == IPPROTO_AH ? ((__u32)p[1] + 2) * 4 : ((__u32)p[1] + 1) * 8;
			l4 = p[0];
			p += len;
		}
		if (fw_is_ext_header(l4))
			return fw_count(FW_STAT_BAD_EXT_CHAIN, bytes, cfg->unparseable_action);
	} else {
		return fw_count(FW_STAT_NON_IP, bytes, cfg->non_ip_action);
	}

	sport = dport = FW_PORT_NONE;
	flags = FW_FLAGS_NONE;
	if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) {
		__u32 need = l4 == IPPROTO_TCP ? 20 : 8;

		if (p + need > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		if (l4 == IPPROTO_TCP)
			flags = p[13];
		sport = bpf_ntohs(*(__u16 *)p);
		dport = bpf_ntohs(*(__u16 *)(p + 2));
	}
	proto_key = l4;
	ifindex = ctx->ingress_ifindex;
	if (fw_class(&s, FW_DIM_SPORT, &fw_sport, &sport) || fw_class(&s, FW_DIM_DPORT, &fw_dport, &dport) ||
	    fw_class(&s, FW_DIM_PROTO, &fw_proto, &proto_key) || fw_class(&s, FW_DIM_FLAGS, &fw_flags, &flags) ||
	    fw_class(&s, FW_DIM_VLAN, &fw_vlan, &vlan))
		return XDP_ABORTED;
	if (fw_class(&s, FW_DIM_INGRESS, &fw_ingress, &ifindex))
		s.cls[FW_DIM_INGRESS] = cfg->ingress_other_class;

	s.nblocks = cfg->nblocks;
	s.bytes = bytes;
	s.verdict = cfg->default_action;
	if (s.nblocks > FW_MAX_BLOCKS)
		return XDP_ABORTED;
	s.cand0 = ~0ULL;
	s.cand1 = ~0ULL;
	for (i = 0; i < FW_DIMS; i++) {
		if (fw_and_summary(&s, i))
			return XDP_ABORTED;
	}
	if (s.cand0 | s.cand1)
		bpf_loop(s.nblocks, fw_next_block, &s, 0);
	if (!s.hit && s.verdict != XDP_ABORTED)
		fw_count(FW_STAT_DEFAULT, bytes, 0);
	return s.verdict;
}

char LICENSE[] SEC("license") = "GPL";
