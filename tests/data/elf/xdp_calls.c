// SPDX-License-Identifier: GPL-2.0
// Subprograms in .text (static and global, nested), a bpf_loop callback, a legacy xdp/NAME section and a
// socket filter in one object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
	__u64 sum;
	__u32 limit;
};

static __noinline __u64 square(__u64 x)
{
	return x * x;
}

static __noinline __u64 sum_of_squares(__u64 a, __u64 b)
{
	return square(a) + square(b);
}

__noinline int classify(__u32 length)
{
	if (length < 60)
		return XDP_DROP;
	return sum_of_squares(length, 1) > 10000 ? XDP_TX : XDP_PASS;
}

static int add_index(__u32 index, struct loop_ctx *lc)
{
	if (index >= lc->limit)
		return 1;
	lc->sum += square(index);
	return 0;
}

SEC("xdp")
int by_length(struct xdp_md *ctx)
{
	return classify(ctx->data_end - ctx->data);
}

/* Returns sum of i*i for i < packet length (at most 16) as the verdict's low bits: a test reads r0. */
SEC("xdp/loop")
int looped(struct xdp_md *ctx)
{
	struct loop_ctx lc = { .sum = 0, .limit = ctx->data_end - ctx->data };
	bpf_loop(16, add_index, &lc, 0);
	return (int)lc.sum;
}

/* Reads past a short packet without the bounds check the verifier would demand: a run-time fault to report. */
SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	return data[40];
}

SEC("socket")
int keep_short(struct __sk_buff *skb)
{
	return skb->len < 100 ? (int)square(skb->len) : 0;
}

/* A .text function with its own map and global: its relocations are applied in every program that links it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} calls SEC(".maps");

__u64 last_bumped;

__noinline __u64 bump(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&calls, &slot);
	if (!value)
		return 0;
	last_bumped = slot;
	return ++*value;
}

/* A static map: clang refers to it through the .maps section symbol, with its offset in the lddw. */
static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} limits SEC(".maps");

SEC("xdp")
int counted(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *limit = bpf_map_lookup_elem(&limits, &zero);
	__u64 threshold = limit && *limit ? *limit : 4;
	return bump(0) + bump(1) >= threshold ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
