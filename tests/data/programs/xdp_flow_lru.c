/*
 * xdp_flow_lru: minimal connection tracking plus a per-source packet budget.
 *
 * What it does
 *   IPv4 only (other frames pass). First a per-source budget: every source
 *   address has a per-CPU packet counter in an LRU per-CPU hash; once a source
 *   has sent more than `src_packet_limit` (.rodata) packets on this CPU, its
 *   further packets are dropped.
 *   Then a flow table keyed by the 5-tuple, in an LRU hash:
 *     TCP: a SYN without ACK creates the flow (state SYN_SEEN); any other
 *          segment needs an existing flow, or it is dropped. ACK moves the flow
 *          to ESTABLISHED, FIN to CLOSING, and RST deletes the flow.
 *     UDP: the flow is created or refreshed on every packet (BPF_ANY).
 *     other protocols: pass, untracked.
 *   Each flow counts its packets and bytes.
 *
 * Features exercised
 *   - BPF_MAP_TYPE_LRU_HASH: lookup, update with BPF_NOEXIST and BPF_ANY,
 *     delete from the program; 5-tuple struct key with explicit padding
 *   - BPF_MAP_TYPE_LRU_PERCPU_HASH: per-CPU counter created by the program
 *   - TCP flags, IPv4 with variable IHL, UDP
 *   - .rodata `volatile const` limit
 *   The maps are large enough that no test evicts anything: LRU eviction
 *   order is a kernel implementation detail, not something to agree on.
 *
 * Maps: flows (LRU_HASH, key struct flow_key, value struct flow_val),
 *       src_budget (LRU_PERCPU_HASH, key __u32 saddr (network order), value __u64).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

enum flow_state {
	FS_SYN_SEEN = 1,
	FS_ESTABLISHED = 2,
	FS_CLOSING = 3,
	FS_UDP = 4,
};

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_val {
	__u64 packets;
	__u64 bytes;
	__u32 state;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} src_budget SEC(".maps");

volatile const __u64 src_packet_limit = 6;

SEC("xdp")
int xdp_flow_lru(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct flow_key key = {};
	struct flow_val *fv;
	struct iphdr *ip;
	__u64 *budget;
	__u64 len = data_end - data;
	__u32 saddr;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_DROP;

	saddr = ip->saddr;
	budget = bpf_map_lookup_elem(&src_budget, &saddr);
	if (budget) {
		*budget += 1;
		if (*budget > src_packet_limit)
			return XDP_DROP;
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&src_budget, &saddr, &one, BPF_NOEXIST);
	}

	l4 = (void *)ip + ip->ihl * 4;
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.proto = ip->protocol;

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u8 flags;

		if ((void *)(th + 1) > data_end)
			return XDP_DROP;
		key.sport = th->source;
		key.dport = th->dest;
		flags = ((__u8 *)th)[13];
		fv = bpf_map_lookup_elem(&flows, &key);
		if (!fv) {
			struct flow_val nv = { .packets = 1, .bytes = len, .state = FS_SYN_SEEN };

			if ((flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN)
				return XDP_DROP; /* no state for this segment */
			bpf_map_update_elem(&flows, &key, &nv, BPF_NOEXIST);
			return XDP_PASS;
		}
		if (flags & TCPF_RST) {
			bpf_map_delete_elem(&flows, &key);
			return XDP_PASS;
		}
		fv->packets++;
		fv->bytes += len;
		if (flags & TCPF_FIN)
			fv->state = FS_CLOSING;
		else if ((flags & TCPF_ACK) && fv->state == FS_SYN_SEEN)
			fv->state = FS_ESTABLISHED;
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		struct flow_val nv = { .packets = 1, .bytes = len, .state = FS_UDP };

		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		key.sport = uh->source;
		key.dport = uh->dest;
		fv = bpf_map_lookup_elem(&flows, &key);
		if (fv) {
			nv.packets = fv->packets + 1;
			nv.bytes = fv->bytes + len;
		}
		bpf_map_update_elem(&flows, &key, &nv, BPF_ANY);
		return XDP_PASS;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
