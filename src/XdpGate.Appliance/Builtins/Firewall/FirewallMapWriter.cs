using System.Runtime.InteropServices;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using static XdpGate.Appliance.Builtins.Firewall.FirewallLayout;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// Writes a compiled policy into a freshly loaded firewall's maps (a reload loads new maps; nothing is cleared here),
/// every key and value through its firewall.h struct (<see cref="FirewallLayout"/>).
/// </summary>
public static unsafe class FirewallMapWriter
{
    public static void Write(CompiledFirewall compiled, IReadOnlyDictionary<string, BpfMap> maps)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(maps);
        foreach (var (name, entries) in compiled.Prefixes)
        {
            var map = Map(maps, name);
            foreach (var (prefix, cls) in entries)
            {
                if (prefix.IsV6)
                {
                    var key = new fw_lpm6_key { prefixlen = (uint)prefix.Length };
                    prefix.WriteAddress(new Span<byte>(key.addr, 16));
                    Update(map, key, cls);
                }
                else
                {
                    var key = new fw_lpm4_key { prefixlen = (uint)prefix.Length };
                    prefix.WriteAddress(new Span<byte>(key.addr, 4));
                    Update(map, key, cls);
                }
            }
        }
        foreach (var (name, classes) in compiled.Arrays)
            WriteArray(Map(maps, name), classes);
        var ingress = Map(maps, FirewallMaps.Ingress);
        foreach (var (ifindex, cls) in compiled.Ingress)
            Update(ingress, ifindex, cls);

        var bitmaps = Map(maps, FirewallMaps.Bitmaps);
        var summaries = Map(maps, FirewallMaps.Summaries);
        for (var cls = 0; cls < compiled.Bitmaps.Count; cls++)
        {
            var summary = new fw_summary { @base = compiled.Bases[cls] };
            compiled.Summary(cls).CopyTo(new Span<ulong>(summary.w, FW_SUMMARY_WORDS));
            Update(summaries, (uint)cls, summary);
            var slot = compiled.Bases[cls];
            foreach (var block in compiled.NonEmptyBlocks(cls))
            {
                var stored = new fw_block();
                compiled.Bitmaps[cls].AsSpan(block * FW_BLOCK_WORDS, FW_BLOCK_WORDS).CopyTo(new Span<ulong>(stored.w, FW_BLOCK_WORDS));
                Update(bitmaps, slot++, stored);
            }
        }
        WriteArray(Map(maps, FirewallMaps.Actions), compiled.Actions);

        var policy = compiled.Policy;
        var config = new fw_config
        {
            active_dims = compiled.ActiveDims,
            default_action = FirewallActions.Stored(policy.DefaultAction),
            unparseable_action = FirewallActions.Stored(policy.UnparseableAction),
            non_ip_action = FirewallActions.Stored(policy.NonIpAction),
            ingress_other_class = compiled.IngressOtherClass,
        };
        Update(Map(maps, FirewallMaps.Config), 0u, config);
    }

    private static void WriteArray(BpfMap map, uint[] values)
    {
        for (var i = 0; i < values.Length; i++)
            Update(map, (uint)i, values[i]);
    }

    private static void Update<TKey, TValue>(BpfMap map, TKey key, TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        var result = map.Update(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), MemoryMarshal.AsBytes(new ReadOnlySpan<TValue>(in value)));
        if (result != 0)
            throw new FirewallCompileException($"writing map '{map.Name}' failed: {ErrnoText.Name(result)}");
    }

    private static BpfMap Map(IReadOnlyDictionary<string, BpfMap> maps, string name) =>
        maps.TryGetValue(name, out var map) ? map : throw new FirewallCompileException($"the firewall object has no map '{name}'");
}
