/*
 * xdp_vlan_count: VLAN-aware L2 policy with per-VLAN accounting.
 *
 * What it does
 *   Parses the Ethernet header and then up to two VLAN tags, 802.1Q (0x8100) or
 *   802.1ad (0x88a8), so plain 802.1Q and QinQ stacks both work. The tag stack
 *   (outer VID, inner VID) is the key of a policy table that user space fills:
 *   the value is the XDP action for that VLAN. Unknown VLANs get the .rodata
 *   default, untagged frames get their own .rodata action. Every accepted frame
 *   is counted (packets, bytes) per tag stack in a second hash map whose entries
 *   the program creates itself.
 *   Frames are dropped when a tag is cut short, when there is nothing after the
 *   last tag, or when there are more than two tags.
 *   A policy value above XDP_REDIRECT is a configuration error: XDP_ABORTED.
 *
 * Features exercised
 *   - Ethernet, 802.1Q, 802.1ad/QinQ parsing with a bounds check per tag
 *   - a `for` loop with a constant bound (2 iterations, not unrolled)
 *   - BPF_MAP_TYPE_HASH: lookup of user-filled entries; insertion from the
 *     program with BPF_NOEXIST followed by a second lookup
 *   - __sync_fetch_and_add on a hash value (result unused: BPF_XADD)
 *   - .rodata `volatile const` configuration values
 *
 * Maps: vlan_policy (HASH, key struct vlan_key, value __u32 action),
 *       vlan_stats  (HASH, key struct vlan_key, value struct vlan_stats).
 * Key layout: outer VID (u16, host order), inner VID (u16, host order; 0 if
 * single tagged). Untagged frames are counted under key ffff:ffff.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88a8)
#define MAX_TAGS 2

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct vlan_key {
	__u16 outer;
	__u16 inner;
};

struct vlan_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vlan_key);
	__type(value, __u32);
} vlan_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vlan_key);
	__type(value, struct vlan_stats);
} vlan_stats SEC(".maps");

volatile const __u32 untagged_action = XDP_PASS;
volatile const __u32 unknown_vlan_action = XDP_DROP;

static __always_inline int is_vlan(__be16 proto)
{
	return proto == ETH_P_8021Q_BE || proto == ETH_P_8021AD_BE;
}

static __always_inline void count(struct vlan_key *key, __u64 bytes)
{
	struct vlan_stats *st = bpf_map_lookup_elem(&vlan_stats, key);

	if (!st) {
		struct vlan_stats zero = {};

		bpf_map_update_elem(&vlan_stats, key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&vlan_stats, key);
		if (!st)
			return;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, bytes);
}

SEC("xdp")
int xdp_vlan_count(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct vlan_key key = { 0, 0 };
	__u32 action;
	__be16 proto;
	void *cur;
	int tags = 0;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	cur = eth + 1;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_TAGS; i++) {
		struct vlan_hdr *vh = cur;

		if (!is_vlan(proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return XDP_DROP; /* tag cut short */
		if (i == 0)
			key.outer = bpf_ntohs(vh->tci) & 0x0fff;
		else
			key.inner = bpf_ntohs(vh->tci) & 0x0fff;
		proto = vh->encap_proto;
		cur = vh + 1;
		tags++;
	}
	if (is_vlan(proto))
		return XDP_DROP; /* a third tag */

	if (tags == 0) {
		key.outer = 0xffff;
		key.inner = 0xffff;
		action = untagged_action;
	} else {
		__u32 *policy;

		if (cur >= data_end)
			return XDP_DROP; /* VLAN tag with nothing after it */
		policy = bpf_map_lookup_elem(&vlan_policy, &key);
		action = policy ? *policy : unknown_vlan_action;
	}
	if (action > XDP_REDIRECT)
		return XDP_ABORTED;
	if (action != XDP_DROP && action != XDP_ABORTED)
		count(&key, data_end - data);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
