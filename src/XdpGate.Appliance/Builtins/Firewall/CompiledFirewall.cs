namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// A policy as the firewall program's maps hold it: the class of every field value and the bitmap of every class
/// (see firewall.h). <see cref="FirewallMapWriter"/> writes it into a loaded firewall.
/// </summary>
public sealed class CompiledFirewall
{
    internal CompiledFirewall(FirewallPolicy policy, int blocks, uint activeDims, uint ingressOtherClass)
    {
        Policy = policy;
        Blocks = blocks;
        ActiveDims = activeDims;
        IngressOtherClass = ingressOtherClass;
    }

    public FirewallPolicy Policy { get; }

    /// <summary>Bitmap blocks per class: ceil(rules / FW_BLOCK_RULES).</summary>
    public int Blocks { get; }

    /// <summary>fw_config.active_dims: a bit per <see cref="fw_dim"/> that some rule constrains.</summary>
    public uint ActiveDims { get; }

    public uint IngressOtherClass { get; }

    /// <summary>LPM entries (prefix, class) of fw_src4, fw_dst4, fw_src6, fw_dst6, by map name.</summary>
    public Dictionary<string, List<(IpPrefix Prefix, uint Class)>> Prefixes { get; } = [];

    /// <summary>The array maps from a field value to its class (fw_proto, fw_sport, fw_dport, fw_flags, fw_vlan), by map name.</summary>
    public Dictionary<string, uint[]> Arrays { get; } = [];

    /// <summary>fw_ingress: ifindex to class.</summary>
    public Dictionary<uint, uint> Ingress { get; } = [];

    /// <summary>Class bitmaps, <see cref="Blocks"/> * FW_BLOCK_WORDS words each, indexed by class.</summary>
    public IReadOnlyList<ulong[]> Bitmaps { get; private set; } = [];

    /// <summary>Per class, the fw_bitmaps key of its first non-empty block (fw_summary.base).</summary>
    public IReadOnlyList<uint> Bases { get; private set; } = [];

    /// <summary>Non-empty blocks over all classes: the fw_bitmaps entries written.</summary>
    public int StoredBlocks { get; private set; }

    internal void SetBitmaps(List<ulong[]> bitmaps)
    {
        Bitmaps = bitmaps;
        var bases = new uint[bitmaps.Count];
        var stored = 0;
        for (var cls = 0; cls < bitmaps.Count; cls++)
        {
            bases[cls] = (uint)stored;
            stored += NonEmptyBlocks(cls).Count();
        }
        Bases = bases;
        StoredBlocks = stored;
    }

    /// <summary>The blocks of a class's bitmap that hold any rule, in order: what fw_bitmaps stores from its base on.</summary>
    public IEnumerable<int> NonEmptyBlocks(int cls)
    {
        var bitmap = Bitmaps[cls];
        for (var block = 0; block < Blocks; block++)
        {
            if (bitmap.AsSpan(block * FirewallLayout.FW_BLOCK_WORDS, FirewallLayout.FW_BLOCK_WORDS).ContainsAnyExcept(0UL))
                yield return block;
        }
    }

    /// <summary>fw_summaries.w: per class, a bit per block that holds any of its rules.</summary>
    public ulong[] Summary(int cls)
    {
        var summary = new ulong[FirewallLayout.FW_SUMMARY_WORDS];
        foreach (var block in NonEmptyBlocks(cls))
            summary[block >> 6] |= 1UL << (block & 63);
        return summary;
    }

    /// <summary>fw_actions: per rule, the XDP verdict it ends with, or FW_ACTION_COUNT.</summary>
    public uint[] Actions { get; internal set; } = [];

    /// <summary>What each map will hold, for `xdpgate check`: map name and the number of entries written.</summary>
    public IReadOnlyList<(string Map, int Entries)> EntriesPerMap() =>
    [
        (FirewallMaps.Config, 1),
        .. Prefixes.Select(p => (p.Key, p.Value.Count)),
        .. Arrays.Select(a => (a.Key, a.Value.Length)),
        (FirewallMaps.Ingress, Ingress.Count),
        (FirewallMaps.Bitmaps, StoredBlocks),
        (FirewallMaps.Summaries, Bitmaps.Count),
        (FirewallMaps.Actions, Actions.Length),
    ];
}
