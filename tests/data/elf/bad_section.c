// SPDX-License-Identifier: GPL-2.0
// A program type this engine does not run (a kprobe).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_unlinkat")
int probe(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
