/*
 * xdp_ringbuf_events: report interesting IPv4 packets to user space through a
 * BPF ring buffer.
 *
 * What it does
 *   Every packet passes (the program only observes), except a frame too short
 *   for Ethernet, which is dropped. For IPv4:
 *     - TCP SYN (no ACK): reserve a struct event in the ring, fill it (kind 1,
 *       addresses, ports, length, and the first up-to-64 bytes of the frame
 *       copied with bpf_xdp_load_bytes) and submit it.
 *     - UDP: build a small struct flow_event on the stack and copy it in with
 *       bpf_ringbuf_output (flag BPF_RB_NO_WAKEUP).
 *     - ICMP: reserve an event; echo requests (type 8) are submitted (kind 3),
 *       anything else is discarded with bpf_ringbuf_discard (the record is
 *       consumed by the kernel and never reaches the reader).
 *   Each event carries a sequence number from a .bss counter incremented with
 *   __sync_fetch_and_add (fetch form: the old value is used). A failed reserve
 *   or output bumps a .bss drop counter.
 *
 * Features exercised
 *   - BPF_MAP_TYPE_RINGBUF: bpf_ringbuf_reserve / bpf_ringbuf_submit,
 *     bpf_ringbuf_discard, bpf_ringbuf_output with BPF_RB_NO_WAKEUP
 *   - bpf_xdp_load_bytes into ring buffer memory with a bounded variable length
 *   - __sync_fetch_and_add with the result used (BPF_ATOMIC | BPF_FETCH add)
 *   - IPv4 (variable IHL), TCP flags, UDP and ICMP headers
 *
 * Maps: events (RINGBUF, 4096 bytes). Record layouts: struct event (96 bytes)
 * and struct flow_event (24 bytes), both little-endian host order except the
 * addresses and ports, which stay in network order.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define EV_TCP_SYN 1
#define EV_UDP 2
#define EV_ICMP_ECHO 3
#define SNAP_LEN 64
#define ICMP_ECHO_REQUEST 8

/* linux/icmp.h pulls in libc headers; the 4 bytes needed here: */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
};

struct event {
	__u32 kind;
	__u32 seq;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 pkt_len;
	__u32 snap_len;
	__u32 pad;
	__u8 snap[SNAP_LEN];
};

struct flow_event {
	__u32 kind;
	__u32 seq;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 pkt_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u64 next_seq; /* 64-bit: clang 14 without -mcpu=v3 has no 32-bit fetch-add */
__u64 ring_full;

SEC("xdp")
int xdp_ringbuf_events(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 pkt_len = data_end - data;
	struct iphdr *ip;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_PASS;
	l4 = (void *)ip + ip->ihl * 4;

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		struct event *ev;
		__u32 snap;

		if ((void *)(th + 1) > data_end)
			return XDP_PASS;
		if ((((__u8 *)th)[13] & 0x12) != 0x02)
			return XDP_PASS;
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (!ev) {
			ring_full++;
			return XDP_PASS;
		}
		ev->kind = EV_TCP_SYN;
		ev->seq = __sync_fetch_and_add(&next_seq, 1);
		ev->saddr = ip->saddr;
		ev->daddr = ip->daddr;
		ev->sport = th->source;
		ev->dport = th->dest;
		ev->pkt_len = pkt_len;
		ev->pad = 0;
		__builtin_memset(ev->snap, 0, SNAP_LEN);
		snap = pkt_len < SNAP_LEN ? pkt_len : SNAP_LEN;
		/* snap is 34..64 here; the mask form proves 1..64 to the verifier
		 * (a zero length is not allowed for this helper). */
		snap = ((snap - 1) & (SNAP_LEN - 1)) + 1;
		ev->snap_len = snap;
		bpf_xdp_load_bytes(ctx, 0, ev->snap, snap);
		bpf_ringbuf_submit(ev, 0);
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		struct flow_event fe;

		if ((void *)(uh + 1) > data_end)
			return XDP_PASS;
		fe.kind = EV_UDP;
		fe.seq = __sync_fetch_and_add(&next_seq, 1);
		fe.saddr = ip->saddr;
		fe.daddr = ip->daddr;
		fe.sport = uh->source;
		fe.dport = uh->dest;
		fe.pkt_len = pkt_len;
		if (bpf_ringbuf_output(&events, &fe, sizeof(fe), BPF_RB_NO_WAKEUP))
			ring_full++;
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		struct icmp_hdr *ih = l4;
		struct event *ev;

		if ((void *)(ih + 1) > data_end)
			return XDP_PASS;
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (!ev) {
			ring_full++;
			return XDP_PASS;
		}
		if (ih->type != ICMP_ECHO_REQUEST) {
			bpf_ringbuf_discard(ev, 0);
			return XDP_PASS;
		}
		__builtin_memset(ev, 0, sizeof(*ev));
		ev->kind = EV_ICMP_ECHO;
		ev->seq = __sync_fetch_and_add(&next_seq, 1);
		ev->saddr = ip->saddr;
		ev->daddr = ip->daddr;
		ev->pkt_len = pkt_len;
		bpf_ringbuf_submit(ev, 0);
		return XDP_PASS;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
