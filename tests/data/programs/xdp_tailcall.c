/*
 * xdp_tailcall: a protocol dispatcher built from tail calls.
 *
 * What it does
 *   Five XDP programs in one object share a program array:
 *     xdp_dispatch   (entry) looks at the EtherType and tail-calls
 *                    slot 0 for IPv4, slot 1 for IPv6, slot 3 for ARP and
 *                    slot 4 for EtherType 0x88b5 (local experimental; the
 *                    chain test). Other EtherTypes are dropped.
 *     xdp_ipv4       (slot 0, set by the map's initial contents) checks the
 *                    IPv4 header, stores the L4 offset in a per-CPU scratch
 *                    slot and tail-calls slot 2 for TCP; other protocols pass.
 *     xdp_ipv6       (slot 1, initial contents) passes IPv6 with a full header.
 *     xdp_tcp        (slot 2, NOT in the initial contents: user space fills it,
 *                    see xdp_tailcall.maps.json) reads the L4 offset from the
 *                    scratch slot and drops TCP to port 23, passes the rest.
 *     xdp_chain      (slot 4, initial contents) adds one to a per-CPU hop
 *                    counter, writes it into byte 14 of the packet and
 *                    tail-calls itself. The kernel stops the chain after 33
 *                    tail calls; the failing bpf_tail_call returns and the
 *                    program passes the packet, so the packet records how
 *                    many programs ran.
 *   Slot 3 stays empty: the tail call for ARP fails, execution continues after
 *   it and the dispatcher returns its fallback (XDP_PASS) and counts it.
 *   When xdp_tcp is not installed, TCP falls back to XDP_PASS the same way.
 *
 * Features exercised
 *   - BPF_MAP_TYPE_PROG_ARRAY with __array(values, ...) initial contents
 *     (libbpf fills slots 0, 1, 4 at load time), one slot filled from user
 *     space, one left empty
 *   - bpf_tail_call hit, miss (empty slot), and the 33-tail-call limit
 *   - several SEC("xdp") programs in one object; any of them can also be run
 *     directly
 *   - BPF_MAP_TYPE_PERCPU_ARRAY as scratch space carried across tail calls
 *   - .bss counters
 *
 * Maps: jmp_table (PROG_ARRAY, 8 slots), scratch (PERCPU_ARRAY, 1 entry,
 *       value struct scratch).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SLOT_IPV4 0
#define SLOT_IPV6 1
#define SLOT_TCP 2
#define SLOT_ARP 3
#define SLOT_CHAIN 4

struct scratch {
	__u32 l4_off;
	__u32 hops;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

__u64 tail_call_misses;
__u64 telnet_drops;

int xdp_ipv4(struct xdp_md *ctx);
int xdp_ipv6(struct xdp_md *ctx);
int xdp_chain(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = {
		[SLOT_IPV4] = (void *)&xdp_ipv4,
		[SLOT_IPV6] = (void *)&xdp_ipv6,
		[SLOT_CHAIN] = (void *)&xdp_chain,
	},
};

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct scratch *s;
	__u32 slot;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	s = get_scratch();
	if (!s)
		return XDP_ABORTED;
	s->l4_off = 0;
	s->hops = 0;

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		slot = SLOT_IPV4;
		break;
	case bpf_htons(ETH_P_IPV6):
		slot = SLOT_IPV6;
		break;
	case bpf_htons(ETH_P_ARP):
		slot = SLOT_ARP;
		break;
	case bpf_htons(0x88b5):
		slot = SLOT_CHAIN;
		break;
	default:
		return XDP_DROP;
	}
	bpf_tail_call(ctx, &jmp_table, slot);
	tail_call_misses++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_ipv4(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct scratch *s;

	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_DROP;
	if (ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	s = get_scratch();
	if (!s)
		return XDP_ABORTED;
	s->l4_off = sizeof(struct ethhdr) + ip->ihl * 4;
	bpf_tail_call(ctx, &jmp_table, SLOT_TCP);
	tail_call_misses++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_ipv6(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	if ((void *)(ip6 + 1) > data_end)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_tcp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct scratch *s = get_scratch();
	struct tcphdr *th;
	__u32 off;

	if (!s)
		return XDP_ABORTED;
	/* The mask gives the verifier a bound; xdp_ipv4 stores 34..74. */
	off = s->l4_off & 0x7f;
	if (off < sizeof(struct ethhdr) + sizeof(struct iphdr))
		return XDP_DROP; /* not called through xdp_ipv4 */
	th = data + off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	if (th->dest == bpf_htons(23)) {
		telnet_drops++;
		return XDP_DROP;
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_chain(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u8 *mark = data + sizeof(struct ethhdr);
	struct scratch *s = get_scratch();

	if (!s)
		return XDP_ABORTED;
	s->hops++;
	if ((void *)(mark + 1) > data_end)
		return XDP_DROP;
	*mark = (__u8)s->hops;
	bpf_tail_call(ctx, &jmp_table, SLOT_CHAIN);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
