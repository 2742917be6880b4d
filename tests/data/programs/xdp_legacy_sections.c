/*
 * xdp_legacy_sections: XDP programs in sections named the way older
 * tutorials, iproute2 and libxdp users name them. libbpf 1.x knows none of
 * these names; `ip link set dev D xdp obj O sec S` and libxdp's
 * xdp_program__open_file(O, S, ...) load the program of section S as XDP
 * (iproute2's default section is "prog"), and so does XdpGate.
 *
 * What it does
 *   xdp_swap_macs (SEC("xdp_redirect_swap")): swaps the Ethernet source
 *   and destination and returns XDP_TX, the classic reflector.
 *   xdp_prog_count (SEC("prog")): counts IPv4 frames per IP protocol in
 *   `protocols` (an ARRAY of 256 u64, indexed by the protocol byte) and
 *   passes everything; non-IPv4 frames and short IPv4 headers only pass.
 *   xdp_sock_filter (SEC("xdp_sock")): drops IPv4 UDP to port 4242 (what an
 *   AF_XDP program would steer away) and counts the drops in slot 0 of
 *   `sock_drops`; passes the rest.
 *
 * Loading
 *   bpftool prog loadall needs `type xdp` for these sections (libbpf cannot
 *   guess their type); record_kernel.py passes it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} protocols SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sock_drops SEC(".maps");

SEC("xdp_redirect_swap")
int xdp_swap_macs(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("prog")
int xdp_prog_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 key;
	__u64 *value;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	key = ip->protocol;
	value = bpf_map_lookup_elem(&protocols, &key);
	if (value)
		*value += 1;
	return XDP_PASS;
}

SEC("xdp_sock")
int xdp_sock_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 zero = 0;
	__u64 *drops;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(4242))
		return XDP_PASS;
	drops = bpf_map_lookup_elem(&sock_drops, &zero);
	if (drops)
		*drops += 1;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
