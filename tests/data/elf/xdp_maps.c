// SPDX-License-Identifier: GPL-2.0
// BTF-defined maps (hash, per-CPU array, program array with initial slots) and several programs in one section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
	__uint(max_entries, 4);
} counters SEC(".maps");

int tail_pass(struct xdp_md *ctx);
int tail_drop(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_pass,
		[2] = (void *)&tail_drop,
	},
};

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &slot);
	if (value)
		*value += 1;
}

SEC("xdp")
int tail_pass(struct xdp_md *ctx)
{
	count(0);
	return XDP_PASS;
}

SEC("xdp")
int tail_drop(struct xdp_md *ctx)
{
	count(2);
	return XDP_DROP;
}

/* Jumps through slot packet[0]; an empty slot falls through to XDP_TX. Remembers each first byte in 'seen'. */
SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *first = data;

	if ((void *)(first + 1) > data_end)
		return XDP_ABORTED;
	__u32 key = *first;
	__u64 one = 1;
	bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
	bpf_tail_call(ctx, &jumps, key);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
