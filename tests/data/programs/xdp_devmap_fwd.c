/*
 * xdp_devmap_fwd: a tiny L2 fabric switch that forwards through a devmap.
 *
 * What it does
 *   The destination MAC decides the egress port. In this fabric every host MAC
 *   is 02:00:00:00:00:NN and NN is the number of the port it sits behind:
 *     - broadcast (ff:ff:ff:ff:ff:ff): flood to every port of the devmap except
 *       the ingress one (BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS).
 *     - 02:00:00:00:00:NN with NN < 4: rewrite the source MAC to the fabric's
 *       own address 02:00:00:00:00:f0 and redirect to port NN; if that devmap
 *       slot is empty the fallback action in the flags is XDP_PASS (let the
 *       stack handle it).
 *     - NN in 4..7: same but with XDP_DROP as the fallback.
 *     - NN == 0x0e: redirect to port 1 with XDP_TX as the fallback.
 *     - NN == 0x0d: port 3 with BPF_F_EXCLUDE_INGRESS | XDP_PASS as flags: on a
 *       miss only the low two bits count, so the fallback is XDP_PASS.
 *     - NN == 0x0f: a deliberately invalid flags value (bit 5): the kernel
 *       answers XDP_ABORTED without looking at the map.
 *     - NN >= 8 otherwise: the key is past max_entries, fallback XDP_DROP.
 *     - any other MAC: XDP_PASS.
 *   Before redirecting it looks the port up with bpf_map_lookup_elem and counts
 *   present and absent ports in .bss (a devmap lookup from XDP returns the
 *   entry; its ifindex is not used, it is environment specific).
 *   Under BPF_PROG_TEST_RUN (no live frames) a successful redirect returns
 *   XDP_REDIRECT and the frame is not transmitted.
 *
 * Features exercised
 *   - BPF_MAP_TYPE_DEVMAP (4-byte values = ifindex), filled from user space
 *   - bpf_redirect_map with a fallback action in the low bits of flags, with
 *     BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, with BPF_F_EXCLUDE_INGRESS
 *     plus a fallback, and with invalid flags
 *   - bpf_map_lookup_elem on a devmap from XDP
 *   - MAC rewrite
 *
 * Maps: tx_ports (DEVMAP, key __u32 port, value __u32 ifindex, 8 entries).
 *   xdp_devmap_fwd.maps.json puts ifindex 1 (loopback, present on every Linux
 *   host) in ports 1 and 2; the other ports are empty.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

__u64 port_present;
__u64 port_absent;
__u64 floods;

static const __u8 fabric_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xf0 };

SEC("xdp")
int xdp_devmap_fwd(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u64 flags;
	__u32 port;
	__u8 nn;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_dest[0] == 0xff && eth->h_dest[1] == 0xff && eth->h_dest[2] == 0xff &&
	    eth->h_dest[3] == 0xff && eth->h_dest[4] == 0xff && eth->h_dest[5] == 0xff) {
		floods++;
		return bpf_redirect_map(&tx_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	}
	if (eth->h_dest[0] != 0x02 || eth->h_dest[1] || eth->h_dest[2] || eth->h_dest[3] ||
	    eth->h_dest[4])
		return XDP_PASS;

	nn = eth->h_dest[5];
	if (nn == 0x0f)
		return bpf_redirect_map(&tx_ports, 1, 0x20);
	if (nn == 0x0d)
		return bpf_redirect_map(&tx_ports, 3, BPF_F_EXCLUDE_INGRESS | XDP_PASS);
	if (nn == 0x0e) {
		port = 1;
		flags = XDP_TX;
	} else {
		port = nn;
		flags = nn < 4 ? XDP_PASS : XDP_DROP;
	}

	if (bpf_map_lookup_elem(&tx_ports, &port))
		port_present++;
	else
		port_absent++;

	__builtin_memcpy(eth->h_source, fabric_mac, ETH_ALEN);
	return bpf_redirect_map(&tx_ports, port, flags);
}

char LICENSE[] SEC("license") = "GPL";
