/* The built-in CO-RE target: the types an XDP program built against vmlinux.h reaches on a host without
 * /sys/kernel/btf/vmlinux. Declared from the kernel's UAPI headers, which have the kernel's layouts; vlan_hdr is
 * kernel-internal (include/linux/if_vlan.h), icmphdr's header (linux/icmp.h) pulls in libc's socket headers, which
 * do not build for the BPF target, and libc's tcphdr predates the kernel's AccECN bit (ae, Linux 6.2), so these three
 * are declared here as the kernel has them. A test checks every struct
 * against the host's vmlinux BTF where there is one.
 * Rebuild (clang 14, libc UAPI headers): ./builtin_btf.sh */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u16 ae:1,
	      res1:3,
	      doff:4,
	      fin:1,
	      syn:1,
	      rst:1,
	      psh:1,
	      ack:1,
	      urg:1,
	      ece:1,
	      cwr:1;
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
		struct {
			__be16 __unused;
			__be16 mtu;
		} frag;
		__u8 reserved[4];
	} un;
};

/* One variable of each type makes clang emit the full definitions into .BTF. */
struct xdp_md builtin_xdp_md;
enum xdp_action builtin_xdp_action;
struct ethhdr builtin_ethhdr;
struct vlan_hdr builtin_vlan_hdr;
struct iphdr builtin_iphdr;
struct ipv6hdr builtin_ipv6hdr;
struct tcphdr builtin_tcphdr;
struct udphdr builtin_udphdr;
struct icmphdr builtin_icmphdr;
struct icmp6hdr builtin_icmp6hdr;
