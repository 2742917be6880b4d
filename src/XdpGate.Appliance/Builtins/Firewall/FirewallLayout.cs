using System.Runtime.InteropServices;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// firewall.h in C#, with its names: its #defines here, its structs and enums below. One definition each: the tests
/// check every #define against the header and every struct (size, members, offsets) and enum (names, values) against
/// the BTF of firewall.o, and the map writer and the control read and write the maps through these types only.
/// </summary>
public static class FirewallLayout
{
    public const int FW_MAX_RULES = 65536;
    public const int FW_BLOCK_WORDS = 8;
    public const int FW_BLOCK_RULES = FW_BLOCK_WORDS * 64;
    public const int FW_MAX_BLOCKS = FW_MAX_RULES / FW_BLOCK_RULES;
    public const int FW_MAX_BITMAP_BLOCKS = 1 << 18;
    public const int FW_SUMMARY_WORDS = FW_MAX_BLOCKS / 64;
    public const int FW_MAX_PREFIXES = 1 << 18;
    public const int FW_MAX_INGRESS = 1024;
    public const int FW_MAX_EXT_HEADERS = 6;
    public const int FW_PORT_NONE = 65536;
    public const int FW_FLAGS_NONE = 256;
    public const int FW_VLAN_NONE = 4096;
    public const uint FW_ACTION_COUNT = 0xff;
}

/// <summary><c>struct fw_config</c>: the firewall's settings, the one element of fw_config.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct fw_config
{
    /// <summary>A bit per <see cref="fw_dim"/> that some rule constrains; FW_DIM_PROTO always set.</summary>
    public uint active_dims;

    /// <summary>The XDP verdict when no terminal rule matches.</summary>
    public uint default_action;

    /// <summary>The XDP verdict for truncated, malformed and fragmented IP packets.</summary>
    public uint unparseable_action;

    /// <summary>The XDP verdict for frames that are neither IPv4 nor IPv6.</summary>
    public uint non_ip_action;

    /// <summary>The class of an ingress ifindex absent from fw_ingress.</summary>
    public uint ingress_other_class;
}

/// <summary><c>struct fw_counter</c>: a rule's or a fw_stats slot's count, per CPU.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct fw_counter
{
    public ulong packets;
    public ulong bytes;
}

/// <summary><c>struct fw_block</c>: FW_BLOCK_RULES bits of a class's bitmap, an element of fw_bitmaps.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct fw_block
{
    public fixed ulong w[FirewallLayout.FW_BLOCK_WORDS];
}

/// <summary><c>struct fw_summary</c>: a class's blocks that hold any rule, and where in fw_bitmaps they are stored.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct fw_summary
{
    /// <summary>Bit b: block b holds a rule of this class.</summary>
    public fixed ulong w[FirewallLayout.FW_SUMMARY_WORDS];

    /// <summary>The fw_bitmaps key of the class's first non-empty block.</summary>
    public uint @base;

    public uint pad;
}

/// <summary><c>struct fw_lpm4_key</c>: the key of fw_src4 and fw_dst4.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct fw_lpm4_key
{
    public uint prefixlen;
    public fixed byte addr[4];
}

/// <summary><c>struct fw_lpm6_key</c>: the key of fw_src6 and fw_dst6.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct fw_lpm6_key
{
    public uint prefixlen;
    public fixed byte addr[16];
}

/// <summary><c>enum fw_dim</c>: the packet fields classified, in the order of their bits in fw_config.active_dims.</summary>
public enum fw_dim
{
    FW_DIM_SRC,
    FW_DIM_DST,
    FW_DIM_PROTO,
    FW_DIM_SPORT,
    FW_DIM_DPORT,
    FW_DIM_FLAGS,
    FW_DIM_INGRESS,
    FW_DIM_VLAN,
    FW_DIMS,
}

/// <summary><c>enum fw_stat</c>: why a packet did not reach the rules, or that it fell through them (fw_stats keys).</summary>
public enum fw_stat
{
    FW_STAT_DEFAULT,
    FW_STAT_NON_IP,
    FW_STAT_TRUNCATED,
    FW_STAT_BAD_HEADER,
    FW_STAT_BAD_EXT_CHAIN,
    FW_STAT_FRAGMENT,
    FW_STATS,
}

/// <summary>The map names of firewall.c.</summary>
public static class FirewallMaps
{
    public const string Config = "fw_config";
    public const string Src4 = "fw_src4";
    public const string Dst4 = "fw_dst4";
    public const string Src6 = "fw_src6";
    public const string Dst6 = "fw_dst6";
    public const string Proto = "fw_proto";
    public const string SrcPort = "fw_sport";
    public const string DstPort = "fw_dport";
    public const string Flags = "fw_flags";
    public const string Vlan = "fw_vlan";
    public const string Ingress = "fw_ingress";
    public const string Bitmaps = "fw_bitmaps";
    public const string Summaries = "fw_summaries";
    public const string Actions = "fw_actions";
    public const string RuleCounts = "fw_rule_counts";
    public const string Stats = "fw_stats";
    public const string Program = "xdp_firewall";
}
