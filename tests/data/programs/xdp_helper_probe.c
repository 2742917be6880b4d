/*
 * xdp_helper_probe: four small programs that pin down the exact behaviour of
 * the packet-shaping helpers and bpf_csum_diff, edge cases included. Each
 * takes its parameters from the packet and writes the helper's return value
 * back into the packet, so the kernel's answer is in data_out.
 *
 * Probe frames are Ethernet with EtherType 0x88b5 (IEEE local experimental);
 * parameters start at byte 14, little-endian. Other frames pass untouched.
 *
 *   probe_csum_diff   params: u32 from_size, u32 to_size, u32 seed,
 *                             u32 reserved, 64 bytes `from`, 64 bytes `to`
 *                     (frame >= 158 bytes). Sizes are masked to 0..63;
 *                     a zero size passes NULL for that buffer. Writes the s64
 *                     result of bpf_csum_diff at byte 26 (over `reserved` and
 *                     the first 4 bytes of `from`, after the call).
 *   probe_adjust_head params: s32 delta. Calls bpf_xdp_adjust_head(delta),
 *                     then writes the s32 result into the first 4 bytes of
 *                     the (new) packet and the new length (u32) into the
 *                     next 4.
 *   probe_adjust_tail params: s32 delta. Same with bpf_xdp_adjust_tail.
 *   probe_adjust_meta params: s32 meta_delta, s32 head_delta. Calls
 *                     bpf_xdp_adjust_meta(meta_delta), fills the resulting
 *                     metadata with 0xa0, 0xa1, ... (up to 32 bytes), then
 *                     bpf_xdp_adjust_head(head_delta) (0 skips it). Writes
 *                     both s32 results, the metadata length and the packet
 *                     length (u32 each) into the first 16 bytes of the packet,
 *                     when it has 16 bytes.
 *   All return XDP_PASS for probe frames, or XDP_DROP when there is no room
 *   to write the answer. Bytes the kernel adds in front of the packet are not
 *   written by the programs: their contents are what the kernel leaves there.
 *
 * Features exercised
 *   - bpf_csum_diff: sizes 0, multiples of 4 and not, NULL buffers, seeds,
 *     zero sums; the result exactly as the kernel returns it. Every probe
 *     frame's answer on 6.18 x86-64 fits this model:
 *       s(buf, n, seed) = 32-bit end-around-carry sum of buf read as
 *                         little-endian u32 words (tail zero-padded), from seed
 *       from and to:  r = s(to, seed) +' ~s(from, 0)    (+' end-around add)
 *       to only:      r = s(to, seed)
 *       from only:    r = ~s(from, ~seed)
 *       neither:      r = seed
 *       result = r folded to 16 bits (lo16 + hi16, twice), so never negative;
 *       sizes that are not multiples of 4 are summed, not refused (older
 *       kernels returned -EINVAL and an unfolded 32-bit sum)
 *   - bpf_xdp_adjust_head / _tail / _meta limits: headroom, minimum length
 *     (ETH_HLEN), tailroom, metadata size rules, metadata moving with the head
 *   - several SEC("xdp") programs in one object (no maps shared but .bss)
 *   - a constant-bound loop writing the metadata bytes
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PROBE_ETHERTYPE 0x88b5

struct csum_params {
	__u32 from_size;
	__u32 to_size;
	__u32 seed;
	__u32 reserved;
	__u8 from[64];
	__u8 to[64];
};

__u64 probes_run;

static __always_inline void *probe_params(struct xdp_md *ctx, __u32 size)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	if (eth->h_proto != bpf_htons(PROBE_ETHERTYPE))
		return NULL;
	if ((void *)(eth + 1) + size > data_end)
		return NULL;
	probes_run++;
	return eth + 1;
}

static __always_inline int write_u32s(struct xdp_md *ctx, __u32 a, __u32 b)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *p = (void *)(long)ctx->data;

	if ((void *)(p + 2) > data_end)
		return XDP_DROP;
	p[0] = a;
	p[1] = b;
	return XDP_PASS;
}

SEC("xdp")
int probe_csum_diff(struct xdp_md *ctx)
{
	struct csum_params *cp = probe_params(ctx, sizeof(struct csum_params));
	__u8 from[64], to[64];
	__u32 fs, ts, seed;
	__s64 ret;

	if (!cp)
		return XDP_PASS;
	fs = cp->from_size & 63;
	ts = cp->to_size & 63;
	seed = cp->seed;
	__builtin_memcpy(from, cp->from, sizeof(from));
	__builtin_memcpy(to, cp->to, sizeof(to));
	ret = bpf_csum_diff(fs ? (__be32 *)from : NULL, fs, ts ? (__be32 *)to : NULL, ts, seed);
	__builtin_memcpy(&cp->reserved, &ret, sizeof(ret));
	return XDP_PASS;
}

SEC("xdp")
int probe_adjust_head(struct xdp_md *ctx)
{
	__s32 *delta = probe_params(ctx, 4);
	long ret;

	if (!delta)
		return XDP_PASS;
	ret = bpf_xdp_adjust_head(ctx, *delta);
	return write_u32s(ctx, (__u32)ret, ctx->data_end - ctx->data);
}

SEC("xdp")
int probe_adjust_tail(struct xdp_md *ctx)
{
	__s32 *delta = probe_params(ctx, 4);
	long ret;

	if (!delta)
		return XDP_PASS;
	ret = bpf_xdp_adjust_tail(ctx, *delta);
	return write_u32s(ctx, (__u32)ret, ctx->data_end - ctx->data);
}

SEC("xdp")
int probe_adjust_meta(struct xdp_md *ctx)
{
	__s32 *params = probe_params(ctx, 8);
	void *data_end, *data, *meta;
	long ret_meta, ret_head = 0;
	__s32 meta_delta, head_delta;
	__u32 *out;
	int i;

	if (!params)
		return XDP_PASS;
	meta_delta = params[0];
	head_delta = params[1];

	ret_meta = bpf_xdp_adjust_meta(ctx, meta_delta);
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
#pragma clang loop unroll(disable)
	for (i = 0; i < 32; i++) {
		__u8 *b = meta + i;

		if ((void *)(b + 1) > data)
			break;
		*b = 0xa0 + i;
	}
	if (head_delta)
		ret_head = bpf_xdp_adjust_head(ctx, head_delta);

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	meta = (void *)(long)ctx->data_meta;
	out = data;
	if ((void *)(out + 4) > data_end)
		return XDP_DROP;
	out[0] = (__u32)ret_meta;
	out[1] = (__u32)ret_head;
	out[2] = data - meta;
	out[3] = data_end - data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
