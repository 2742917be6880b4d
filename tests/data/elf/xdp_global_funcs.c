// SPDX-License-Identifier: GPL-2.0
// Global (non-static) subprograms, which the kernel verifies once on their own from their BTF prototypes, next to
// static ones, which it verifies inline at each call. Some programs here are refused by the kernel on purpose: each
// program's comment says which verdict the kernel gives and why.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

__u64 counters[4];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, int);
} values SEC(".maps");

// Checks the packet bounds itself, so it is safe for any context: accepted.
__noinline int parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	return eth->h_proto;
}

SEC("xdp")
int global_parse(struct xdp_md *ctx)
{
	return parse(ctx) == -1 ? XDP_DROP : XDP_PASS;
}

// Returns 0..3, but a caller of a global function knows only that it gets some scalar.
__noinline int pick(__u32 x)
{
	return x & 3;
}

static __noinline int pick_static(__u32 x)
{
	return x & 3;
}

// Refused: the index comes back from a global function, so it is unbounded to the caller.
SEC("xdp")
int global_index(struct xdp_md *ctx)
{
	counters[pick(ctx->rx_queue_index)]++;
	return XDP_PASS;
}

// Accepted: the same with a static function, verified inline, so the caller knows the index is 0..3.
SEC("xdp")
int static_index(struct xdp_md *ctx)
{
	counters[pick_static(ctx->rx_queue_index)]++;
	return XDP_PASS;
}

// A pointer parameter may be NULL: dereferencing it unchecked is refused.
__noinline int load_unchecked(int *p)
{
	return *p;
}

__noinline int load_checked(int *p)
{
	if (!p)
		return 0;
	return *p;
}

SEC("xdp")
int global_deref_unchecked(struct xdp_md *ctx)
{
	int value = ctx->rx_queue_index;

	return load_unchecked(&value) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int global_deref_checked(struct xdp_md *ctx)
{
	int value = ctx->rx_queue_index;

	return load_checked(&value) ? XDP_PASS : XDP_DROP;
}

// Refused: parse() wants the context, and gets a packet pointer.
SEC("xdp")
int global_wrong_ctx(struct xdp_md *ctx)
{
	return parse((struct xdp_md *)(long)ctx->data) == -1 ? XDP_DROP : XDP_PASS;
}

// Refused: load_checked() may read 4 bytes, and the packet is not proven that long.
SEC("xdp")
int global_unchecked_packet_arg(struct xdp_md *ctx)
{
	return load_checked((int *)(long)ctx->data) ? XDP_PASS : XDP_DROP;
}

// Accepted: NULL is a valid argument for a pointer parameter.
SEC("xdp")
int global_null_arg(struct xdp_md *ctx)
{
	return load_checked(0) ? XDP_PASS : XDP_DROP;
}

// Accepted: a lookup result not yet checked for NULL may be passed, since the callee must check it anyway.
SEC("xdp")
int global_maybe_null_arg(struct xdp_md *ctx)
{
	__u32 key = 0;

	return load_checked(bpf_map_lookup_elem(&values, &key)) ? XDP_PASS : XDP_DROP;
}

__noinline int low_bits(__u64 x)
{
	return x & 7;
}

// Refused: a pointer passed where the prototype says an integer.
SEC("xdp")
int global_pointer_as_scalar(struct xdp_md *ctx)
{
	return low_bits((__u64)(long)ctx) ? XDP_PASS : XDP_DROP;
}

// Uses 320 bytes of stack, which count with its caller's frame as for a static function.
__noinline int big_frame(__u32 q)
{
	volatile __u8 buf[320];

	buf[q & 255] = 1;
	return buf[(q >> 8) & 255];
}

// Refused: 256 + 320 bytes of stack over the two frames, more than 512.
SEC("xdp")
int global_stack_too_deep(struct xdp_md *ctx)
{
	volatile __u8 buf[256];
	__u32 q = ctx->rx_queue_index;

	buf[q & 127] = 1;
	return big_frame(q) + buf[(q >> 8) & 127] ? XDP_PASS : XDP_DROP;
}

// Write 2 through their pointer; a caller of the global version cannot rely on that.
__noinline int store_two(__u64 *p, __u32 q)
{
	if (!p)
		return 0;
	*p = 2;
	return q & 1;
}

static __noinline int store_two_static(__u64 *p, __u32 q)
{
	*p = 2;
	return q & 1;
}

// Refused: after the global call the caller's slot holds an unknown value, used as an unchecked index.
SEC("xdp")
int global_written_index(struct xdp_md *ctx)
{
	volatile __u64 index = 0;

	if (store_two((__u64 *)&index, ctx->rx_queue_index))
		return XDP_ABORTED;
	counters[index]++;
	return XDP_PASS;
}

// Accepted: the static callee is verified inline, so the caller knows the slot holds 2.
SEC("xdp")
int static_written_index(struct xdp_md *ctx)
{
	volatile __u64 index = 0;

	if (store_two_static((__u64 *)&index, ctx->rx_queue_index))
		return XDP_ABORTED;
	counters[index]++;
	return XDP_PASS;
}

// Refused: the kernel verifies only global functions that return a scalar.
__noinline void touch(struct xdp_md *ctx)
{
	counters[0]++;
}

SEC("xdp")
int global_void(struct xdp_md *ctx)
{
	touch(ctx);
	return XDP_PASS;
}

// Refused: a bpf_loop callback must be static (the kernel verifies callbacks inline, with the helper's arguments).
long global_step(__u32 index, void *arg)
{
	__u64 *sum = arg;

	*sum += index;
	return 0;
}

SEC("xdp")
int global_callback(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(4, global_step, &sum, 0);
	return sum == 6 ? XDP_PASS : XDP_DROP;
}

// Refused: a global function's pointer parameter must point to a type of known size, which void is not.
__noinline int first_byte(void *p)
{
	return p ? *(__u8 *)p : 0;
}

SEC("xdp")
int global_void_pointer(struct xdp_md *ctx)
{
	__u64 value = ctx->rx_queue_index;

	return first_byte(&value) ? XDP_PASS : XDP_DROP;
}

// Accepted: unlike void, an empty struct has a size, 0, so any pointer (or NULL) may be passed and none dereferenced.
struct nothing {};

__noinline int ignore(struct nothing *p)
{
	return p != 0;
}

SEC("xdp")
int global_empty_struct_pointer(struct xdp_md *ctx)
{
	__u64 value = ctx->rx_queue_index;

	return ignore((struct nothing *)&value) ? XDP_PASS : XDP_DROP;
}

// Refused: the callee may write through any pointer parameter, const or not, so read-only memory may not be passed.
const volatile int limits[2] = { 1, 2 };

__noinline int read_limit(const int *p)
{
	return p ? *p : 0;
}

SEC("xdp")
int global_rodata_arg(struct xdp_md *ctx)
{
	return read_limit((const int *)&limits[1]) ? XDP_PASS : XDP_DROP;
}

// Refused: the global function moves the packet start, so the caller's packet pointers are stale after the call.
__noinline int pop_ethernet(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, sizeof(struct ethhdr));
}

SEC("xdp")
int global_stale_packet_pointer(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 20) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	if (pop_ethernet(ctx))
		return XDP_ABORTED;
	return data[15] == 0x45 ? XDP_PASS : XDP_DROP;
}

// Accepted: packet pointers loaded again after the call are good.
SEC("xdp")
int global_adjust_then_reload(struct xdp_md *ctx)
{
	__u8 *data;

	if (pop_ethernet(ctx))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	if ((void *)(data + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	return data[0] == 0x45 ? XDP_PASS : XDP_DROP;
}

// Accepted: for a socket filter the context parameter is a struct __sk_buff pointer.
__noinline int skb_length(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("socket")
int socket_global_ctx(struct __sk_buff *skb)
{
	return skb_length(skb) > 100 ? 0 : -1;
}

char _license[] SEC("license") = "GPL";
