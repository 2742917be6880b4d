namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>The constants of firewall.h, with its names; the program and the rule compiler must agree on them.</summary>
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

    /// <summary>sizeof(struct fw_config): five __u32.</summary>
    public const int ConfigSize = 20;

    /// <summary>sizeof(struct fw_summary): the summary words, base and pad.</summary>
    public const int SummarySize = FW_SUMMARY_WORDS * 8 + 8;

    /// <summary>sizeof(struct fw_counter): packets and bytes.</summary>
    public const int CounterSize = 16;
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
