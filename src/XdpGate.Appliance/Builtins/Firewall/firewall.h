/*
 * firewall.h: the layout shared by the built-in firewall (firewall.c) and its
 * control plane. FirewallLayout.cs, next to it, mirrors every #define, struct and
 * enum; FirewallLayoutTests checks the #defines against this file and the structs
 * (sizes, members, offsets) and enums (names, values) against firewall.o's BTF.
 *
 * Classification (bpf-iptables style): every packet field ("dimension") is
 * looked up once and yields a class; a class names one bitmap with a bit per
 * rule, the rules that this field value satisfies. ANDing the bitmaps of all
 * constrained dimensions leaves the rules the packet matches; the lowest set
 * bit is the first match. Bitmaps are cut into blocks of FW_BLOCK_RULES bits.
 * A class's summary has a bit per block that holds any rule; ANDing the
 * summaries first leaves the only blocks worth scanning, scanned in order until
 * the first terminal match. Since a candidate block is non-empty in every
 * class involved, only non-empty blocks are stored: a class's k-th non-empty
 * block is fw_bitmaps[base + k].
 */
#ifndef XDPGATE_FIREWALL_H
#define XDPGATE_FIREWALL_H

#include <linux/types.h>

#define FW_MAX_RULES 65536
#define FW_BLOCK_WORDS 8
#define FW_BLOCK_RULES (FW_BLOCK_WORDS * 64)
#define FW_MAX_BLOCKS (FW_MAX_RULES / FW_BLOCK_RULES)
#define FW_MAX_BITMAP_BLOCKS (1 << 18)
#define FW_SUMMARY_WORDS (FW_MAX_BLOCKS / 64)
#define FW_MAX_PREFIXES (1 << 18)
#define FW_MAX_INGRESS 1024
#define FW_MAX_EXT_HEADERS 6

/* Lookup slots for packets that lack the field. */
#define FW_PORT_NONE 65536 /* not TCP or UDP */
#define FW_FLAGS_NONE 256  /* not TCP */
#define FW_VLAN_NONE 4096  /* untagged */

/* A rule's action: the XDP verdict it ends with, or count-and-continue. */
#define FW_ACTION_COUNT 0xff

enum fw_dim {
	FW_DIM_SRC,
	FW_DIM_DST,
	FW_DIM_PROTO,
	FW_DIM_SPORT,
	FW_DIM_DPORT,
	FW_DIM_FLAGS,
	FW_DIM_INGRESS,
	FW_DIM_VLAN,
	FW_DIMS,
};

/* Why a packet did not reach the rules, or that it fell through them. */
enum fw_stat {
	FW_STAT_DEFAULT,
	FW_STAT_NON_IP,
	FW_STAT_TRUNCATED,
	FW_STAT_BAD_HEADER,
	FW_STAT_BAD_EXT_CHAIN,
	FW_STAT_FRAGMENT,
	FW_STATS,
};

struct fw_config {
	__u32 active_dims;        /* bit per fw_dim that some rule constrains; FW_DIM_PROTO always set */
	__u32 default_action;     /* XDP verdict when no terminal rule matches */
	__u32 unparseable_action; /* XDP verdict for truncated, malformed and fragmented IP packets */
	__u32 non_ip_action;      /* XDP verdict for frames that are neither IPv4 nor IPv6 */
	__u32 ingress_other_class;/* class of an ingress ifindex absent from fw_ingress */
};

struct fw_counter {
	__u64 packets;
	__u64 bytes;
};

struct fw_block {
	__u64 w[FW_BLOCK_WORDS];
};

struct fw_summary {
	__u64 w[FW_SUMMARY_WORDS]; /* bit b: block b holds a rule of this class */
	__u32 base;                /* fw_bitmaps key of the class's first non-empty block */
	__u32 pad;
};

struct fw_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct fw_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

#endif
