/*
 * xdp_meta_mark: classify packets and hand the result to the next layer in
 * XDP metadata (the area in front of the packet that a TC program or AF_XDP
 * reader can see).
 *
 * What it does
 *   Every frame of at least 14 bytes gets 12 bytes of metadata, made with
 *   bpf_xdp_adjust_meta(-12) and written after checking data_meta + 12 <= data:
 *     off 0  u32  magic 0x4d455441 ("META" when read as little-endian bytes
 *                 41 54 45 4d; host order)
 *     off 4  u16  class: 1 TCP, 2 UDP, 3 ICMP/ICMPv6, 4 other IP, 5 non-IP
 *     off 6  u16  L4 destination port (host order; 0 when there is none)
 *     off 8  u32  mark = class << 16 | destination port, XOR'd with the
 *                 .rodata salt
 *   Frames marked "no metadata" (IPv4 TOS 0xff, an arbitrary test switch)
 *   first get metadata and then give it back with bpf_xdp_adjust_meta(+12),
 *   leaving an empty metadata area. UDP to port 7 also tries two invalid
 *   adjustments before the normal one: -6 (not a multiple of 4) and -256
 *   (more than the headroom); the helper's return values go to .bss (meta_err_odd,
 *   meta_err_big) and the packet still gets its 12 bytes.
 *   The verdict is always XDP_PASS, or XDP_ABORTED if the helper fails
 *   unexpectedly.
 *
 * Features exercised
 *   - bpf_xdp_adjust_meta: grow, shrink back to zero, and the error cases
 *   - ctx->data_meta bounds check against ctx->data, metadata writes
 *   - IPv4/IPv6 + TCP/UDP classification
 *   - .rodata `volatile const` salt, .bss signed error values
 *   Under BPF_PROG_TEST_RUN the kernel returns the metadata in front of the
 *   packet in data_out, and ctx_out.data is the metadata length.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define META_MAGIC 0x4d455441

enum cls {
	CLS_TCP = 1,
	CLS_UDP = 2,
	CLS_ICMP = 3,
	CLS_OTHER_IP = 4,
	CLS_NON_IP = 5,
};

struct meta {
	__u32 magic;
	__u16 cls;
	__u16 dport;
	__u32 mark;
};

volatile const __u32 mark_salt = 0x5a000000;

/* Kernel 6.18 answers -EACCES (-13) for a length that is not a multiple of
 * 4 and -EINVAL (-22) past the headroom. It has no 32-byte limit any more:
 * a test run accepts up to 216 bytes (all the headroom left after struct
 * xdp_frame), see xdp_helper_probe. */
__s64 meta_err_odd;
__s64 meta_err_big;

SEC("xdp")
int xdp_meta_mark(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u16 cls = CLS_NON_IP, dport = 0;
	int give_back = 0, probe_errors = 0;
	struct meta *m;
	__u8 proto = 0;
	void *l4 = NULL;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		cls = CLS_OTHER_IP;
		if ((void *)(ip + 1) <= data_end && ip->ihl >= 5) {
			proto = ip->protocol;
			l4 = (void *)ip + ip->ihl * 4;
			give_back = ip->tos == 0xff;
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		cls = CLS_OTHER_IP;
		if ((void *)(ip6 + 1) <= data_end) {
			proto = ip6->nexthdr;
			l4 = ip6 + 1;
		}
	}
	if (l4) {
		if (proto == IPPROTO_TCP) {
			struct tcphdr *th = l4;

			if ((void *)(th + 1) <= data_end) {
				cls = CLS_TCP;
				dport = bpf_ntohs(th->dest);
			}
		} else if (proto == IPPROTO_UDP) {
			struct udphdr *uh = l4;

			if ((void *)(uh + 1) <= data_end) {
				cls = CLS_UDP;
				dport = bpf_ntohs(uh->dest);
				probe_errors = dport == 7;
			}
		} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
			cls = CLS_ICMP;
		}
	}

	if (probe_errors) {
		meta_err_odd = bpf_xdp_adjust_meta(ctx, -6);
		meta_err_big = bpf_xdp_adjust_meta(ctx, -256);
	}
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)))
		return XDP_ABORTED;

	/* Pointers are invalid after the helper: reload them. */
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XDP_ABORTED;
	m->magic = META_MAGIC;
	m->cls = cls;
	m->dport = dport;
	m->mark = ((__u32)cls << 16 | dport) ^ mark_salt;

	if (give_back && bpf_xdp_adjust_meta(ctx, (int)sizeof(struct meta)))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
