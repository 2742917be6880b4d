/*
 * xdp_payload_hash: hash the start of a UDP payload two ways and stamp the
 * results into the packet; built from BPF-to-BPF calls and loops.
 *
 * What it does
 *   For IPv4/UDP (any IHL) with at least 8 payload bytes, it computes the
 *   32-bit FNV-1a hash of the first min(payload length, 64) payload bytes:
 *     hash A: in a static __noinline function that walks the packet directly
 *             in a `for` loop with a constant bound (64), checking bounds on
 *             every byte;
 *     hash B: with bpf_loop: the bytes are first copied to a stack buffer with
 *             bpf_xdp_load_bytes, and a callback hashes one byte per call.
 *   Both hashes are written over the first 8 payload bytes (A then B, network
 *   order) by a global (non-static) __noinline function that gets the context
 *   and an offset and does its own bounds checks. A second global function
 *   turns the hash into a verdict: XDP_DROP if it equals the .rodata
 *   `blocked_hash`, XDP_ABORTED if A != B (which would be a bug), XDP_TX
 *   otherwise (the stamped packet goes back). Packets that don't qualify pass;
 *   a payload shorter than 8 bytes passes unhashed.
 *
 * Features exercised
 *   - .text subprograms: a static __noinline function taking packet pointers
 *     (verified in the caller's context) and global __noinline functions
 *     (verified on their own: a ctx argument and scalar arguments)
 *   - a `for` loop with a constant bound, not unrolled
 *   - bpf_loop with a callback and a callback context on the caller's stack,
 *     the callback stopping early by returning 1
 *   - bpf_xdp_load_bytes with a bounded variable length
 *   - .rodata `volatile const`, .bss
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define HASH_BYTES 64
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

volatile const __u32 blocked_hash = 0xd3150fd6; /* FNV-1a of "blocked!" */

__u64 hashed_packets;
__u64 mismatches;

struct hash_ctx {
	__u8 buf[HASH_BYTES];
	__u32 len;
	__u32 hash;
};

static __noinline __u32 fnv1a_packet(__u8 *p, void *data_end)
{
	__u32 h = FNV_OFFSET;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < HASH_BYTES; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static long hash_step(__u32 index, void *arg)
{
	struct hash_ctx *hc = arg;

	if (index >= hc->len)
		return 1; /* stop */
	hc->hash ^= hc->buf[index & (HASH_BYTES - 1)];
	hc->hash *= FNV_PRIME;
	return 0;
}

__noinline int stamp_hashes(struct xdp_md *ctx, __u32 off, __u32 a, __u32 b)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u8 *p;

	if (off > 256)
		return -1;
	p = data + off;
	if ((void *)(p + 8) > data_end)
		return -1;
	p[0] = a >> 24;
	p[1] = a >> 16;
	p[2] = a >> 8;
	p[3] = a;
	p[4] = b >> 24;
	p[5] = b >> 16;
	p[6] = b >> 8;
	p[7] = b;
	return 0;
}

__noinline int verdict(__u32 a, __u32 b)
{
	if (a != b)
		return XDP_ABORTED;
	if (a == blocked_hash)
		return XDP_DROP;
	return XDP_TX;
}

SEC("xdp")
int xdp_payload_hash(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct hash_ctx hc;
	struct iphdr *ip;
	struct udphdr *uh;
	__u8 *payload;
	__u32 off, avail, ha;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	uh = (void *)ip + ip->ihl * 4;
	if ((void *)(uh + 1) > data_end)
		return XDP_PASS;
	payload = (__u8 *)(uh + 1);
	if ((void *)(payload + 8) > data_end)
		return XDP_PASS;

	ha = fnv1a_packet(payload, data_end);

	off = (void *)payload - data;
	avail = data_end - (void *)payload;
	__builtin_memset(&hc, 0, sizeof(hc));
	hc.len = avail < HASH_BYTES ? avail : HASH_BYTES;
	hc.hash = FNV_OFFSET;
	/* len is 8..64 here; the mask form proves 1..64 to the verifier. */
	hc.len = ((hc.len - 1) & (HASH_BYTES - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, off, hc.buf, hc.len))
		return XDP_ABORTED;
	bpf_loop(HASH_BYTES, hash_step, &hc, 0);

	hashed_packets++;
	if (ha != hc.hash)
		mismatches++;
	if (stamp_hashes(ctx, off, ha, hc.hash))
		return XDP_ABORTED;
	return verdict(ha, hc.hash);
}

char LICENSE[] SEC("license") = "GPL";
