// SPDX-License-Identifier: GPL-2.0
// Maps declared the pre-BTF way: struct bpf_map_def in the "maps" section (libbpf before 1.0, iproute2).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") packets = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

struct bpf_map_def SEC("maps") verdicts = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u16),
	.value_size = sizeof(__u32),
	.max_entries = 16,
};

/* Counts packets in slot 0 and returns the verdict stored for the packet's length, XDP_PASS if none. */
SEC("xdp/legacy")
int legacy(struct xdp_md *ctx)
{
	__u32 slot = 0;
	__u64 *count = bpf_map_lookup_elem(&packets, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	__u16 length = ctx->data_end - ctx->data;
	__u32 *verdict = bpf_map_lookup_elem(&verdicts, &length);
	return verdict ? *verdict : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
