/*
 * xdp_lpm_acl: longest-prefix-match source address ACL for IPv4 and IPv6.
 *
 * What it does
 *   Looks up the source address of every IPv4 and IPv6 packet in a prefix
 *   table (one per family). A match gives a rule: the XDP action to return and
 *   a rule id whose hit counter (an array) is bumped atomically. No match gives
 *   the .rodata default action. A rule action above XDP_REDIRECT is treated as
 *   XDP_ABORTED. Non-IP frames pass; truncated IP headers are dropped. The most
 *   specific prefix wins, so a /25 inside a /24 inside a /16 each give
 *   different answers.
 *
 * Features exercised
 *   - BPF_MAP_TYPE_LPM_TRIE with IPv4 keys (prefixlen + 4 bytes) and IPv6 keys
 *     (prefixlen + 16 bytes), both created with BPF_F_NO_PREALLOC as the
 *     kernel requires; lookups with a full-length (/32, /128) key
 *   - BPF_MAP_TYPE_ARRAY hit counters indexed by a value read from another map
 *     (bounds-checked by the map itself: out-of-range ids get NULL)
 *   - __sync_fetch_and_add on an array value
 *   - .rodata `volatile const` default action
 *
 * Maps: acl_v4 (LPM_TRIE, key struct lpm_v4_key, value struct acl_rule),
 *       acl_v6 (LPM_TRIE, key struct lpm_v6_key, value struct acl_rule),
 *       rule_hits (ARRAY, key __u32 rule id, value __u64).
 * Key layout as the kernel sees it: __u32 prefixlen (host order), then the
 * address bytes in network order. Value: __u32 action, __u32 rule id.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct acl_rule {
	__u32 action;
	__u32 rule_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, struct acl_rule);
} acl_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, struct acl_rule);
} acl_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} rule_hits SEC(".maps");

volatile const __u32 default_action = XDP_PASS;

static __always_inline int apply(struct acl_rule *rule)
{
	__u64 *hits;
	__u32 id;

	if (!rule)
		return default_action;
	id = rule->rule_id;
	hits = bpf_map_lookup_elem(&rule_hits, &id);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	if (rule->action > XDP_REDIRECT)
		return XDP_ABORTED;
	return rule->action;
}

SEC("xdp")
int xdp_lpm_acl(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct lpm_v4_key key;

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		key.prefixlen = 32;
		__builtin_memcpy(key.addr, &ip->saddr, 4);
		return apply(bpf_map_lookup_elem(&acl_v4, &key));
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct lpm_v6_key key;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		key.prefixlen = 128;
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
		return apply(bpf_map_lookup_elem(&acl_v6, &key));
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
