// SPDX-License-Identifier: GPL-2.0
// CO-RE reads of a field the kernel's iphdr lacks: one guarded by bpf_core_field_exists (poisoned, dead code),
// one not (poisoned, and refused where the verifier reaches it).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct iphdr___x {
	__u8 ttl;
	__u8 xdpgate_no_such_field;
} __attribute__((preserve_access_index));

SEC("xdp")
int guarded(struct xdp_md *ctx)
{
	struct iphdr___x *iph = (void *)(long)ctx->data + 14;
	if ((void *)iph + 20 > (void *)(long)ctx->data_end)
		return XDP_PASS;
	if (bpf_core_field_exists(iph->xdpgate_no_such_field))
		return iph->xdpgate_no_such_field;
	return iph->ttl == 64 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int unguarded(struct xdp_md *ctx)
{
	struct iphdr___x *iph = (void *)(long)ctx->data + 14;
	if ((void *)iph + 20 > (void *)(long)ctx->data_end)
		return XDP_PASS;
	return iph->xdpgate_no_such_field;
}

char _license[] SEC("license") = "GPL";
