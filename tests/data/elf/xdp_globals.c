// SPDX-License-Identifier: GPL-2.0
// Global data: read-only configuration (.rodata) set before load, initialised (.data) and zeroed (.bss)
// variables, and a custom .data.stats section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 drop_length = 0;     /* 0: pass everything; else drop packets of exactly this length */
const volatile __u8 mark_byte = 0x5a;
volatile __u32 verdict_other = XDP_PASS;  /* .data */
__u64 dropped = 0;                        /* .bss */
__u64 passed;                             /* .bss */
__u64 last_length SEC(".data.stats") = 7;

static const char tag[] = "xdpgate";

SEC("xdp.frags")
int globals(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 length = data_end - data;

	last_length = length;
	if (drop_length != 0 && length == drop_length) {
		dropped++;
		return XDP_DROP;
	}
	if (length >= 2) {
		__u8 *p = data;
		if ((void *)(p + 2) <= data_end) {
			p[0] = mark_byte;
			p[1] = tag[length % 7];
		}
	}
	passed++;
	return verdict_other;
}

char _license[] SEC("license") = "Dual BSD/GPL";
