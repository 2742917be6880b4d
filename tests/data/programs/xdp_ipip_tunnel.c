/*
 * xdp_ipip_tunnel: IPv4-in-IPv4 (IPIP, protocol 4) tunnel endpoint.
 *
 * What it does
 *   Decapsulation: an IPv4 packet with protocol 4, no options (IHL 5), not a
 *   fragment, addressed to our tunnel endpoint `local_tep` (.rodata) and with a
 *   complete inner IPv4 header is decapsulated: the Ethernet header is saved,
 *   bpf_xdp_adjust_head(+20) pops the outer IP header, the Ethernet header is
 *   written again in front of the inner one, and the packet goes up the stack
 *   (XDP_PASS). IPIP to another address passes untouched; malformed IPIP to us
 *   (truncated inner header, outer options, fragment) is dropped.
 *   Encapsulation: an IPv4 packet whose destination is inside
 *   `encap_prefix`/`encap_mask` (.rodata, 198.18.100.0/24) is encapsulated
 *   towards `remote_tep`: bpf_xdp_adjust_head(-20) makes room, the Ethernet
 *   header moves to the new front, and an outer IPv4 header (TTL 64, DF, TOS
 *   copied, ID 0) follows. Its checksum is computed with
 *   bpf_csum_diff(NULL, 0, hdr, 20, 0) and folded. The MACs become
 *   `gw_mac` / `our_mac` and the packet is sent back out (XDP_TX).
 *   Everything else passes. Packets are counted in .bss.
 *
 * Features exercised
 *   - bpf_xdp_adjust_head with positive (pop) and negative (push) deltas, and
 *     re-deriving and re-checking every packet pointer afterwards
 *   - bpf_csum_diff over a whole header (from == NULL, from_size == 0)
 *     plus a 32 to 16 bit fold
 *   - IPv4 header construction, MAC rewrite, XDP_TX
 *   - .rodata `volatile const` addresses and MACs
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* 198.18.0.1, 198.18.0.2, 198.18.100.0/24 in network byte order. */
volatile const __be32 local_tep = bpf_htonl(0xc6120001);
volatile const __be32 remote_tep = bpf_htonl(0xc6120002);
volatile const __be32 encap_prefix = bpf_htonl(0xc6126400);
volatile const __be32 encap_mask = bpf_htonl(0xffffff00);
volatile const __u8 our_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
volatile const __u8 gw_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xfe };

__u64 decapsulated;
__u64 encapsulated;
__u64 malformed;

static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

static __always_inline int decap(struct xdp_md *ctx)
{
	void *data_end, *data;
	struct ethhdr eth_copy, *eth;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));

	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr)))
		return XDP_DROP;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth, &eth_copy, sizeof(*eth));
	decapsulated++;
	return XDP_PASS;
}

static __always_inline int encap(struct xdp_md *ctx)
{
	void *data_end, *data;
	struct ethhdr *eth;
	struct iphdr *outer, *inner;
	__u16 inner_len;
	__u8 tos;
	int i;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	inner = data + sizeof(struct ethhdr);
	if ((void *)(inner + 1) > data_end)
		return XDP_DROP;
	inner_len = bpf_ntohs(inner->tot_len);
	tos = inner->tos;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_DROP;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = data + sizeof(struct ethhdr);
	if ((void *)(outer + 1) > data_end)
		return XDP_DROP;

	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = gw_mac[i];
		eth->h_source[i] = our_mac[i];
	}
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = tos;
	outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = bpf_htons(0x4000);
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = local_tep;
	outer->daddr = remote_tep;
	outer->check = csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)outer, sizeof(*outer), 0));
	encapsulated++;
	return XDP_TX;
}

SEC("xdp")
int xdp_ipip_tunnel(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;

	if (ip->protocol == IPPROTO_IPIP && ip->daddr == local_tep) {
		struct iphdr *inner = ip + 1;

		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) ||
		    (void *)(inner + 1) > data_end || inner->version != 4) {
			malformed++;
			return XDP_DROP;
		}
		return decap(ctx);
	}
	if ((ip->daddr & encap_mask) == encap_prefix)
		return encap(ctx);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
