/*
 * xdp_mixed_sections: an XDP program beside a tp_btf program and a tc
 * classifier, sharing one map, as xdp-bench and xdp-trafficgen objects put
 * statistics programs beside their XDP program.
 *
 * What it does
 *   xdp_classify (SEC("xdp")) counts frames by EtherType in the shared
 *   ARRAY `proto_counts` (slot 0 IPv4, 1 IPv6, 2 ARP, 3 anything else) and
 *   drops ARP and unknown EtherTypes, passing IPv4 and IPv6. Frames shorter
 *   than an Ethernet header cannot reach it (the kernel refuses them).
 *   trace_exception (SEC("tp_btf/xdp_exception")) counts XDP exceptions by
 *   action into `exceptions` (a HASH only it uses) and into slot 4 of
 *   `proto_counts`; it reads its arguments from the raw u64 context, so it
 *   needs no CO-RE. tc_count (SEC("tc")) counts skbs into slot 5.
 *
 * Loading
 *   libbpf (bpftool prog loadall) loads all three. XdpGate opens all three,
 *   loads xdp_classify and leaves the tracing and tc programs unloaded,
 *   listed with their types; both maps are created either way. Only
 *   xdp_classify runs the frames, so the other slots stay 0.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 6);
	__type(key, __u32);
	__type(value, __u64);
} proto_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} exceptions SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&proto_counts, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("xdp")
int xdp_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		count(0);
		return XDP_PASS;
	case bpf_htons(ETH_P_IPV6):
		count(1);
		return XDP_PASS;
	case bpf_htons(ETH_P_ARP):
		count(2);
		return XDP_DROP;
	default:
		count(3);
		return XDP_DROP;
	}
}

/* The xdp_exception tracepoint's arguments: dev, xdp prog, act. */
SEC("tp_btf/xdp_exception")
int trace_exception(__u64 *ctx)
{
	__u32 act = (__u32)ctx[2];
	__u64 one = 1, *seen = bpf_map_lookup_elem(&exceptions, &act);

	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&exceptions, &act, &one, BPF_NOEXIST);
	count(4);
	return 0;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	count(5);
	return 0; /* TC_ACT_OK */
}

char _license[] SEC("license") = "GPL";
