/*
 * xdp_trim_pad: fix up packet lengths at the tail with bpf_xdp_adjust_tail.
 *
 * What it does
 *   IPv4 frames (IHL >= 5) only; others pass.
 *   1. Trim: when the frame is longer than 14 + IP total length (Ethernet
 *      padding of short frames, or trailing garbage), the excess is cut with
 *      bpf_xdp_adjust_tail(-excess). A total length below the header length
 *      or beyond the frame is dropped (truncated packet).
 *   2. Snap: UDP to port 6343 (sFlow-style samples) is cut down to
 *      `snap_len` (.rodata, 96) bytes of frame, without fixing any length
 *      fields (a sampled copy).
 *   3. Grow: UDP to port 9999 (IHL 5 only) gets an 8-byte trailer appended
 *      with bpf_xdp_adjust_tail(+8): "XG" + u16 sequence number (network order,
 *      from a .bss counter) + the 32-bit original frame length (network
 *      order). UDP length and IP total length are increased by 8, the UDP
 *      checksum is cleared (legal for IPv4) and the IP checksum updated with
 *      bpf_csum_diff over the old/new total-length word. The packet goes back
 *      out (XDP_TX). If the kernel refuses to grow, the packet passes as is.
 *   The kernel zeroes the bytes it adds on grow; the trailer overwrites them.
 *
 * Features exercised
 *   - bpf_xdp_adjust_tail with negative (trim) and positive (grow) deltas,
 *     variable and constant, and re-checking pointers after each call
 *   - incremental IPv4 checksum update with bpf_csum_diff(from 4 bytes,
 *     to 4 bytes, seed = ~old checksum)
 *   - .rodata `volatile const` snap length, .bss counters
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SAMPLE_PORT 6343
#define TRAILER_PORT 9999
#define TRAILER_LEN 8

volatile const __u32 snap_len = 96;

__u64 trimmed;
__u64 snapped;
__u64 grown;
__u64 grow_failed;
__u64 trailer_seq;

static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

static __always_inline int add_trailer(struct xdp_md *ctx, __u32 frame_len)
{
	void *data_end, *data;
	struct iphdr *ip;
	struct udphdr *uh;
	__u8 *tr;
	__be32 from, to;
	__u16 seq;

	if (bpf_xdp_adjust_tail(ctx, TRAILER_LEN)) {
		grow_failed++;
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	ip = data + sizeof(struct ethhdr);
	uh = (void *)(ip + 1);
	if ((void *)(uh + 1) > data_end)
		return XDP_ABORTED;
	/* A linear XDP frame is shorter than a page: the mask changes nothing but
	 * gives the verifier a bound it can use for the pointer. */
	tr = data + (frame_len & 0xfff);
	if ((void *)(tr + TRAILER_LEN) > data_end)
		return XDP_ABORTED;

	seq = (__u16)trailer_seq++;
	tr[0] = 'X';
	tr[1] = 'G';
	tr[2] = seq >> 8;
	tr[3] = seq & 0xff;
	tr[4] = frame_len >> 24;
	tr[5] = (frame_len >> 16) & 0xff;
	tr[6] = (frame_len >> 8) & 0xff;
	tr[7] = frame_len & 0xff;

	/* tot_len shares a 32-bit word with version/IHL/TOS. */
	from = *(__be32 *)ip;
	ip->tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + TRAILER_LEN);
	to = *(__be32 *)ip;
	ip->check = csum_fold(bpf_csum_diff(&from, 4, &to, 4, ~((__u32)ip->check) & 0xffff));
	uh->len = bpf_htons(bpf_ntohs(uh->len) + TRAILER_LEN);
	uh->check = 0;
	grown++;
	return XDP_TX;
}

SEC("xdp")
int xdp_trim_pad(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 frame_len = data_end - data;
	__u32 tot_len, hlen, want;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_DROP;
	tot_len = bpf_ntohs(ip->tot_len);
	hlen = ip->ihl * 4;
	if (tot_len < hlen || sizeof(struct ethhdr) + tot_len > frame_len)
		return XDP_DROP;

	want = sizeof(struct ethhdr) + tot_len;
	if (want < frame_len) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(frame_len - want)))
			return XDP_ABORTED;
		trimmed++;
		frame_len = want;
	}

	/* Pointers are invalid after adjust_tail: reload them. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = (void *)ip + hlen;

		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		if (uh->dest == bpf_htons(SAMPLE_PORT) && frame_len > snap_len) {
			if (bpf_xdp_adjust_tail(ctx, -(int)(frame_len - snap_len)))
				return XDP_ABORTED;
			snapped++;
			return XDP_PASS;
		}
		if (uh->dest == bpf_htons(TRAILER_PORT) && hlen == sizeof(*ip))
			return add_trailer(ctx, frame_len);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
