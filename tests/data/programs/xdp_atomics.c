/*
 * xdp_atomics: an "atomic register file" driven by packets, so every atomic
 * instruction's old and new value is visible in the output packet.
 *
 * What it does
 *   IPv4/UDP packets to port 9000 (IHL 5 only) carry a request in the first
 *   40 bytes of the UDP payload:
 *     off  0  u8  op      0 fetch_add, 1 fetch_or, 2 fetch_and, 3 fetch_xor,
 *                         4 cmpxchg, 5 xchg, 6 add without fetch,
 *                         7 32-bit add without fetch
 *     off  1  u8  cell    0..7 array map cells, 8 the .data cell,
 *                         9 the .bss cell (ops 0..6); op 7 always works on
 *                         the 32-bit .bss cell
 *     off  8  u64 arg     operand (little-endian, host order)
 *     off 16  u64 arg2    for cmpxchg: the new value (arg is the expected one)
 *     off 24  u64 out_old written by the program: the value the atomic
 *                         instruction returned (0 for the no-fetch forms)
 *     off 32  u64 out_new written by the program: the cell read back after
 *   The program answers XDP_TX (the request goes back with the results), or
 *   XDP_DROP for an unknown op or cell. Other packets pass; every packet is
 *   counted in .bss with a no-fetch atomic add.
 *   The UDP checksum is not updated: requests are sent with checksum 0.
 *
 * Features exercised
 *   - every BPF atomic clang emits for __sync builtins without -mcpu=v3:
 *     __sync_fetch_and_add (BPF_ADD | BPF_FETCH), __sync_fetch_and_or / _and /
 *     _xor (BPF_OR/AND/XOR | BPF_FETCH), __sync_val_compare_and_swap
 *     (BPF_CMPXCHG), __sync_lock_test_and_set (BPF_XCHG), and the result-unused
 *     BPF_ADD (the old XADD) on 64 and 32 bits
 *   - atomics on three kinds of memory: ARRAY map values, .data, .bss
 *   - reading and writing a UDP payload at fixed offsets
 *
 * Maps: cells (ARRAY, key __u32, value __u64, 8 entries); initial contents in
 *       xdp_atomics.maps.json.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ATOMICS_PORT 9000

struct request {
	__u8 op;
	__u8 cell;
	__u8 pad[6];
	__u64 arg;
	__u64 arg2;
	__u64 out_old;
	__u64 out_new;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} cells SEC(".maps");

__u64 data_cell = 0x1111111111111111ULL; /* .data */
__u64 bss_cell;                          /* .bss */
__u32 bss_cell32;                        /* .bss */
__u64 packets_seen;                      /* .bss */

SEC("xdp")
int xdp_atomics(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);
	struct request *rq = (void *)(uh + 1);
	__u64 *cell, old = 0;
	__u32 idx;

	__sync_fetch_and_add(&packets_seen, 1);
	if ((void *)(rq + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || uh->dest != bpf_htons(ATOMICS_PORT))
		return XDP_PASS;

	if (rq->op == 7) {
		__sync_fetch_and_add(&bss_cell32, (__u32)rq->arg);
		rq->out_old = 0;
		rq->out_new = bss_cell32;
		return XDP_TX;
	}

	idx = rq->cell;
	if (idx < 8)
		cell = bpf_map_lookup_elem(&cells, &idx);
	else if (idx == 8)
		cell = &data_cell;
	else if (idx == 9)
		cell = &bss_cell;
	else
		return XDP_DROP;
	if (!cell)
		return XDP_DROP;

	switch (rq->op) {
	case 0:
		old = __sync_fetch_and_add(cell, rq->arg);
		break;
	case 1:
		old = __sync_fetch_and_or(cell, rq->arg);
		break;
	case 2:
		old = __sync_fetch_and_and(cell, rq->arg);
		break;
	case 3:
		old = __sync_fetch_and_xor(cell, rq->arg);
		break;
	case 4:
		old = __sync_val_compare_and_swap(cell, rq->arg, rq->arg2);
		break;
	case 5:
		old = __sync_lock_test_and_set(cell, rq->arg);
		break;
	case 6:
		__sync_fetch_and_add(cell, rq->arg);
		old = 0;
		break;
	default:
		return XDP_DROP;
	}
	rq->out_old = old;
	rq->out_new = *cell;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
