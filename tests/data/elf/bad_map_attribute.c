// SPDX-License-Identifier: GPL-2.0
// A BTF map with an attribute libbpf does not know, which libbpf refuses.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
	__uint(colour, 3);
} painted SEC(".maps");

SEC("xdp")
int uses_painted(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 *value = bpf_map_lookup_elem(&painted, &key);
	return value ? *value : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
