// SPDX-License-Identifier: GPL-2.0
// A feature knob in .rodata guarding code the verifier must refuse: with the knob off (the default) libbpf's
// frozen .rodata lets the verifier decide the branch and never explore it; overridden on, the program is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 read_unchecked = 0;  /* 1: read the first packet byte without checking it against data_end */

SEC("xdp")
int rodata_knob(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	if (read_unchecked && data[0] == 0xff)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
