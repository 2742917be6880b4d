// SPDX-License-Identifier: GPL-2.0
// A CO-RE field access (preserve_access_index) of a struct no kernel has: the read is poisoned and refused where reached.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct packet_header {
	__u8 first;
	__u8 second;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_read(struct xdp_md *ctx)
{
	struct packet_header *header = (void *)(long)ctx->data;
	if ((void *)(header + 1) > (void *)(long)ctx->data_end)
		return XDP_PASS;
	return header->second;
}

char _license[] SEC("license") = "GPL";
