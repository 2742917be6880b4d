/*
 * firewall: XdpGate's built-in firewall. Ordered rules, first match wins;
 * actions pass, drop and count (count and continue); a default verdict.
 *
 * Classification is per field with bit vectors (see firewall.h): one lookup per
 * constrained field, an AND of the classes' block summaries, then an AND of
 * bitmaps in the candidate blocks only, so a packet's cost grows with the blocks
 * of 512 rules that could match it, not with the rule count.
 *
 * Shaped for the verifier, whose cost must not follow the rules or the paths the
 * parse takes: the parse of layers 2 and 3 ends in a call of fw_match, a global
 * function, which the kernel verifies once from its prototype; fw_match walks the
 * rules with bpf_loop, one matching rule (or one block load) per step, on a state
 * whose shape does not depend on which fields the rules constrain.
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

_Static_assert(FW_SUMMARY_WORDS == 2, "fw_load_block takes candidates from two summary words");
_Static_assert(FW_DIMS == 8 && FW_BLOCK_WORDS == 8, "indexes are masked with 7");

static __always_inline __u32 fw_bit_index(__u64 low)
{
	return fw_debruijn[(low * 0x03f79d71b4cb0a89ULL) >> 58];
}

/*
 * 1 when x is not zero, without a branch: left to itself clang makes a compare and a jump of it, and then the
 * verifier would walk every combination of zero and non-zero words.
 */
static __always_inline __u64 fw_nonzero(__u64 x)
{
	x |= -x;
	barrier_var(x);
	return x >> 63;
}

static __always_inline __u64 fw_popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* What the parse of layers 2 and 3 found, for fw_match. */
struct fw_packet {
	__u8 src[16], dst[16]; /* IPv4: the first 4 bytes */
	__u32 v6;
	__u32 proto;
	__u32 vlan;
	__u32 l4; /* offset of the layer-4 header */
};

/* One constrained dimension's class, as the block scan needs it: its summary and where its blocks are stored. */
struct fw_class {
	__u64 sum0, sum1;
	__u32 base;
	__u32 pad;
};

struct fw_scan {
	__u64 acc[FW_BLOCK_WORDS]; /* the current block's matching rules not taken yet */
	__u64 cand0, cand1;        /* blocks still to scan: the AND of the classes' summaries */
	struct fw_class cls[FW_DIMS]; /* the constrained dimensions' classes, packed in dimension order */
	__u32 ndims;
	__u32 nz;         /* bit w: acc[w] is not zero */
	__u32 first_rule; /* of the current block */
	__u32 verdict;
	__u32 bytes;
};

/* The fw_bitmaps key of block `block` of a class: its base plus the non-empty blocks before it. */
static __always_inline __u32 fw_block_key(const struct fw_class *c, __u32 block)
{
	if (block < 64)
		return c->base + fw_popcount(c->sum0 & ((1ULL << block) - 1));
	return c->base + fw_popcount(c->sum0) + fw_popcount(c->sum1 & ((1ULL << (block - 64)) - 1));
}

/* The lowest candidate block left (there is one), its classes' bitmaps ANDed into s->acc; 1 when the maps are broken. */
static __always_inline int fw_load_block(struct fw_scan *s)
{
	struct fw_block *b;
	__u32 block, key;
	__u64 low;
	__u32 nz = 0;
	int i, k;

	if (s->cand0) {
		low = s->cand0 & -s->cand0;
		s->cand0 ^= low;
		block = fw_bit_index(low);
	} else {
		low = s->cand1 & -s->cand1;
		s->cand1 ^= low;
		block = 64 + fw_bit_index(low);
	}
	/* FW_DIM_PROTO is always constrained, so there is a first class. */
	key = fw_block_key(&s->cls[0], block);
	b = bpf_map_lookup_elem(&fw_bitmaps, &key);
	if (!b)
		goto broken;
#pragma unroll
	for (i = 0; i < FW_BLOCK_WORDS; i++)
		s->acc[i] = b->w[i];
#pragma unroll
	for (k = 1; k < FW_DIMS; k++) {
		if (k >= s->ndims)
			break;
		key = fw_block_key(&s->cls[k], block);
		b = bpf_map_lookup_elem(&fw_bitmaps, &key);
		if (!b)
			goto broken;
#pragma unroll
		for (i = 0; i < FW_BLOCK_WORDS; i++)
			s->acc[i] &= b->w[i];
	}
#pragma unroll
	for (i = 0; i < FW_BLOCK_WORDS; i++)
		nz |= fw_nonzero(s->acc[i]) << i;
	s->nz = nz;
	s->first_rule = block * FW_BLOCK_RULES;
	return 0;
broken:
	/* A class outside fw_bitmaps: the maps were written wrong; refuse rather than guess. */
	s->verdict = XDP_ABORTED;
	return 1;
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

/*
 * Takes the lowest match left in the block and counts it; 1 when it decides (or the maps are broken). The word is
 * found from s->nz without a branch, so the verifier walks this once, not once per word.
 */
static __always_inline long fw_take(struct fw_scan *s)
{
	__u32 w = fw_bit_index(s->nz & -s->nz) & (FW_BLOCK_WORDS - 1);
	__u64 word = s->acc[w];
	__u64 low = word & -word;
	__u32 rule = s->first_rule + w * 64 + fw_bit_index(low);
	struct fw_counter *c = bpf_map_lookup_elem(&fw_rule_counts, &rule);
	__u32 *action = bpf_map_lookup_elem(&fw_actions, &rule);

	word ^= low;
	s->acc[w] = word;
	s->nz ^= (fw_nonzero(word) ^ 1) << w;
	if (!c || !action) {
		s->verdict = XDP_ABORTED;
		return 1;
	}
	c->packets++;
	c->bytes += s->bytes;
	if (*action != FW_ACTION_COUNT) {
		s->verdict = *action;
		return 1;
	}
	return 0;
}

/*
 * One bpf_loop step: the next match in rule order. When the current block has none left, the next candidate block
 * is loaded first (a step that finds it empty ends there). Each step does the same work on the same state shape,
 * so the verifier's walk of the callback converges in a few passes whatever the rules and the packet.
 */
static long fw_step(__u32 index, void *ctx)
{
	struct fw_scan *s = ctx;

	if (!s->nz) {
		if (!(s->cand0 | s->cand1)) {
			/* No rule decided. */
			fw_count(FW_STAT_DEFAULT, s->bytes, 0);
			return 1;
		}
		if (fw_load_block(s))
			return 1;
		/* An empty block: the next step takes the next one. */
		if (!s->nz)
			return 0;
	}
	return fw_take(s);
}

/*
 * A constrained dimension's class: its summary ANDed into the candidates and kept at its place among the
 * constrained dimensions. The place is counted from the active set, unknown to the verifier, so it sees the same
 * state for every set of dimensions. -1 when the class has no summary (the maps were written wrong).
 */
static __always_inline int fw_use_class(struct fw_scan *s, __u32 active, __u32 dim, const __u32 *cls)
{
	struct fw_summary *sum = bpf_map_lookup_elem(&fw_summaries, cls);
	__u32 at;

	if (!sum)
		return -1;
	at = fw_popcount(active & ((1u << dim) - 1)) & (FW_DIMS - 1);
	s->cand0 &= sum->w[0];
	s->cand1 &= sum->w[1];
	s->cls[at].sum0 = sum->w[0];
	s->cls[at].sum1 = sum->w[1];
	s->cls[at].base = sum->base;
	return 0;
}

/* The class of a field value; a field no rule constrains is not looked up. -1 when the value has none. */
static __always_inline int fw_classify(struct fw_scan *s, __u32 active, __u32 dim, void *map, const void *key)
{
	__u32 *cls;

	if (!(active & (1u << dim)))
		return 0;
	cls = bpf_map_lookup_elem(map, key);
	if (!cls)
		return -1;
	return fw_use_class(s, active, dim, cls);
}

/*
 * The layer-4 header, classification and the rule walk: a global function, which the kernel verifies once on its
 * own from its prototype (the offset is any number to it), whatever path the parse took to the call.
 */
__noinline int fw_match(struct xdp_md *ctx, struct fw_packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct fw_config *cfg = bpf_map_lookup_elem(&fw_config, &zero);
	struct fw_scan s = {};
	__u32 sport = FW_PORT_NONE, dport = FW_PORT_NONE, flags = FW_FLAGS_NONE, ifindex = ctx->ingress_ifindex;
	__u32 active, *cls;

	if (!pkt || !cfg)
		return XDP_ABORTED;
	s.bytes = data_end - data;
	if (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP) {
		__u32 need = pkt->proto == IPPROTO_TCP ? 20 : 8;
		__u8 *p = data;

		/* Bounded for the verifier: no frame reaches 64 KiB (and the parse ends below 12.5 KiB). */
		if (pkt->l4 > 0xffff - 20)
			return fw_count(FW_STAT_TRUNCATED, s.bytes, cfg->unparseable_action);
		p += pkt->l4;
		if (p + need > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, s.bytes, cfg->unparseable_action);
		if (pkt->proto == IPPROTO_TCP)
			flags = p[13];
		sport = bpf_ntohs(*(__u16 *)p);
		dport = bpf_ntohs(*(__u16 *)(p + 2));
	}

	active = cfg->active_dims | (1u << FW_DIM_PROTO);
	s.cand0 = ~0ULL;
	s.cand1 = ~0ULL;
	if (pkt->v6) {
		struct fw_lpm6_key key = { .prefixlen = 128 };

		__builtin_memcpy(key.addr, pkt->src, 16);
		if (fw_classify(&s, active, FW_DIM_SRC, &fw_src6, &key))
			return XDP_ABORTED;
		__builtin_memcpy(key.addr, pkt->dst, 16);
		if (fw_classify(&s, active, FW_DIM_DST, &fw_dst6, &key))
			return XDP_ABORTED;
	} else {
		struct fw_lpm4_key key = { .prefixlen = 32 };

		__builtin_memcpy(key.addr, pkt->src, 4);
		if (fw_classify(&s, active, FW_DIM_SRC, &fw_src4, &key))
			return XDP_ABORTED;
		__builtin_memcpy(key.addr, pkt->dst, 4);
		if (fw_classify(&s, active, FW_DIM_DST, &fw_dst4, &key))
			return XDP_ABORTED;
	}
	if (fw_classify(&s, active, FW_DIM_PROTO, &fw_proto, &pkt->proto) ||
	    fw_classify(&s, active, FW_DIM_SPORT, &fw_sport, &sport) ||
	    fw_classify(&s, active, FW_DIM_DPORT, &fw_dport, &dport) ||
	    fw_classify(&s, active, FW_DIM_FLAGS, &fw_flags, &flags))
		return XDP_ABORTED;
	if (active & (1u << FW_DIM_INGRESS)) {
		/* An ifindex no rule names has the class of the rules that name none. */
		cls = bpf_map_lookup_elem(&fw_ingress, &ifindex);
		if (fw_use_class(&s, active, FW_DIM_INGRESS, cls ? cls : &cfg->ingress_other_class))
			return XDP_ABORTED;
	}
	if (fw_classify(&s, active, FW_DIM_VLAN, &fw_vlan, &pkt->vlan))
		return XDP_ABORTED;

	s.ndims = fw_popcount(active);
	s.verdict = cfg->default_action;
	if (!(s.cand0 | s.cand1))
		return fw_count(FW_STAT_DEFAULT, s.bytes, s.verdict);
	/* Each step loads a block or takes a rule, so this many always reach the end. */
	bpf_loop(FW_MAX_BLOCKS + FW_MAX_RULES, fw_step, &s, 0);
	return s.verdict;
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
	struct fw_packet pkt = {};
	__u8 *p = data;
	__u16 proto;
	__u32 vlan = FW_VLAN_NONE;
	__u8 l4;
	int i;

	if (!cfg)
		return XDP_ABORTED;
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
		__builtin_memcpy(pkt.src, p + 12, 4);
		__builtin_memcpy(pkt.dst, p + 16, 4);
		p += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		__u32 len;

		if (p + 40 > (__u8 *)data_end)
			return fw_count(FW_STAT_TRUNCATED, bytes, cfg->unparseable_action);
		if ((p[0] >> 4) != 6)
			return fw_count(FW_STAT_BAD_HEADER, bytes, cfg->unparseable_action);
		l4 = p[6];
		pkt.v6 = 1;
		__builtin_memcpy(pkt.src, p + 8, 16);
		__builtin_memcpy(pkt.dst, p + 24, 16);
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

	pkt.proto = l4;
	pkt.vlan = vlan;
	pkt.l4 = p - (__u8 *)data;
	return fw_match(ctx, &pkt);
}

/*
 * Never called: its prototype names the enums FirewallLayout.cs mirrors, so that clang, which emits only the types
 * something uses, puts them into the object's BTF, where the tests compare the two. Loaders (ours, libbpf) leave out
 * the .text functions no program calls.
 */
__u32 fw_layout(enum fw_dim dim, enum fw_stat stat)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
