/*
 * xdp_ipv4_options: IPv4 header sanity checks and an IP options walker.
 *
 * What it does
 *   For IPv4 frames (untagged Ethernet) it checks the header: version 4,
 *   IHL >= 5, the whole header (IHL * 4 bytes, so 20..60) inside the packet and
 *   a total length that covers the header. It then walks the options between
 *   byte 20 and IHL * 4: EOL ends the list, NOP is one byte, every other option
 *   is type/length/data. Each option type seen is counted in an array indexed by
 *   the type byte. Options with a length below 2 or running past the header are
 *   malformed: the frame is dropped. Loose and strict source route options are
 *   dropped when the .rodata switch says so (the default). Everything else,
 *   and every non-IPv4 frame, passes. Bad headers are counted in .bss.
 *
 * Features exercised
 *   - IPv4 with a variable header length (IHL 5..15), IHL < 5 rejected
 *   - a loop bounded by a constant (40 = max option bytes) whose variable
 *     advances by 1 (NOP) or by the option length, over a variable-offset
 *     packet pointer bounds checked on each step
 *   - BPF_MAP_TYPE_ARRAY with 256 entries, __sync_fetch_and_add on values
 *   - .bss counters (plain increments), .rodata `volatile const` switches
 *
 * Maps: opt_seen (ARRAY, key __u32 option type, value __u64 count).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IPOPT_END_ 0
#define IPOPT_NOOP_ 1
#define IPOPT_LSRR_ 0x83
#define IPOPT_SSRR_ 0x89
#define MAX_OPT_BYTES 40

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} opt_seen SEC(".maps");

volatile const __u8 drop_source_route = 1;

__u64 ipv4_packets;
__u64 bad_header;
__u64 bad_option;
__u64 source_routed;

SEC("xdp")
int xdp_ipv4_options(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u8 *opts;
	void *opt_end;
	__u32 hdr_len, off;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end) {
		bad_header++;
		return XDP_DROP;
	}
	ipv4_packets++;
	hdr_len = ip->ihl * 4;
	if (ip->version != 4 || hdr_len < sizeof(*ip)) {
		bad_header++;
		return XDP_DROP;
	}
	if ((void *)ip + hdr_len > data_end || bpf_ntohs(ip->tot_len) < hdr_len) {
		bad_header++;
		return XDP_DROP;
	}

	opts = (__u8 *)(ip + 1);
	/* Compare packet pointers, not lengths: scalar compares against the
	 * header length would give the verifier one state per length. The
	 * barrier keeps clang from turning the pointers back into lengths. */
	opt_end = (void *)ip + hdr_len;
	asm volatile("" : "+r"(opt_end));
#pragma clang loop unroll(disable)
	for (off = 0; off < MAX_OPT_BYTES;) {
		__u8 *p, type, len;
		__u64 *cnt;
		__u32 k;

		p = opts + off;
		if ((void *)p >= opt_end)
			break;
		if ((void *)(p + 1) > data_end)
			break;
		type = p[0];
		if (type == IPOPT_END_)
			break;
		k = type;
		cnt = bpf_map_lookup_elem(&opt_seen, &k);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		if (type == IPOPT_NOOP_) {
			off++;
			continue;
		}
		if ((void *)(p + 2) > data_end) {
			bad_option++;
			return XDP_DROP;
		}
		len = p[1];
		if (len < 2 || (void *)p + len > opt_end) {
			bad_option++;
			return XDP_DROP;
		}
		if (drop_source_route && (type == IPOPT_LSRR_ || type == IPOPT_SSRR_)) {
			source_routed++;
			return XDP_DROP;
		}
		off += len;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
