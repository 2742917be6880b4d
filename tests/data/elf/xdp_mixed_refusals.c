// SPDX-License-Identifier: GPL-2.0
// Programs refused one by one while their siblings load: a helper XDP programs do not have (an skb helper), a map
// type the engine lacks (a perf event array, which a tp_btf sibling also uses), and a kfunc extern. pass_counted
// loads; trace_event stays unloaded (tracing).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} passes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

extern int bpf_kernel_only(struct xdp_md *ctx) __ksym;

SEC("xdp")
int pass_counted(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&passes, &zero);

	if (count)
		*count += 1;
	return XDP_PASS;
}

/* An skb helper: the kernel refuses it for XDP ("program of this type cannot use helper bpf_skb_load_bytes#26"). */
SEC("xdp")
int reads_skb(struct xdp_md *ctx)
{
	char first;

	return bpf_skb_load_bytes(ctx, 0, &first, 1) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int samples(struct xdp_md *ctx)
{
	__u64 mark = 1;

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &mark, sizeof(mark));
	return XDP_PASS;
}

SEC("xdp")
int calls_kfunc(struct xdp_md *ctx)
{
	return bpf_kernel_only(ctx);
}

SEC("tp_btf/xdp_exception")
int trace_event(__u64 *ctx)
{
	__u64 act = ctx[2];

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &act, sizeof(act));
	return 0;
}

char _license[] SEC("license") = "GPL";
