// SPDX-License-Identifier: GPL-2.0
// A kfunc: an extern resolved against the running kernel's BTF, which a user-space engine does not have.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_kernel_only(struct xdp_md *ctx) __ksym;

SEC("xdp")
int calls_kfunc(struct xdp_md *ctx)
{
	return bpf_kernel_only(ctx);
}

char _license[] SEC("license") = "GPL";
