using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XdpGate.Bpf;
using XdpGate.Bpf.Maps;
using XdpGate.Linux;
using static XdpGate.Appliance.Builtins.Firewall.FirewallLayout;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>Writes a compiled policy into a freshly loaded firewall's maps (a reload loads new maps; nothing is cleared here).</summary>
public static class FirewallMapWriter
{
    public static void Write(CompiledFirewall compiled, IReadOnlyDictionary<string, BpfMap> maps)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(maps);
        Span<byte> key = stackalloc byte[20];
        Span<byte> value = stackalloc byte[FW_BLOCK_WORDS * 8];

        foreach (var (name, entries) in compiled.Prefixes)
        {
            var map = Map(maps, name);
            foreach (var (prefix, cls) in entries)
            {
                var k = key[..map.KeySize];
                BinaryPrimitives.WriteUInt32LittleEndian(k, (uint)prefix.Length);
                prefix.WriteAddress(k[4..]);
                Check(map, map.Update(k, BitConverter.GetBytes(cls)));
            }
        }
        foreach (var (name, classes) in compiled.Arrays)
            WriteArray(Map(maps, name), classes);
        var ingress = Map(maps, FirewallMaps.Ingress);
        foreach (var (ifindex, cls) in compiled.Ingress)
            Check(ingress, ingress.Update(BitConverter.GetBytes(ifindex), BitConverter.GetBytes(cls)));

        var bitmaps = Map(maps, FirewallMaps.Bitmaps);
        var summaries = Map(maps, FirewallMaps.Summaries);
        var summary = new byte[FirewallLayout.SummarySize];
        for (var cls = 0; cls < compiled.Bitmaps.Count; cls++)
        {
            MemoryMarshal.AsBytes(compiled.Summary(cls).AsSpan()).CopyTo(summary);
            BinaryPrimitives.WriteUInt32LittleEndian(summary.AsSpan(FW_SUMMARY_WORDS * 8), compiled.Bases[cls]);
            Check(summaries, summaries.Update(BitConverter.GetBytes((uint)cls), summary));
            var slot = compiled.Bases[cls];
            foreach (var block in compiled.NonEmptyBlocks(cls))
            {
                var words = compiled.Bitmaps[cls].AsSpan(block * FW_BLOCK_WORDS, FW_BLOCK_WORDS);
                Check(bitmaps, bitmaps.Update(BitConverter.GetBytes(slot++), MemoryMarshal.AsBytes(words)));
            }
        }
        WriteArray(Map(maps, FirewallMaps.Actions), compiled.Actions);

        var policy = compiled.Policy;
        var config = value[..ConfigSize];
        BinaryPrimitives.WriteUInt32LittleEndian(config, compiled.ActiveDims);
        BinaryPrimitives.WriteUInt32LittleEndian(config[4..], FirewallActions.Stored(policy.DefaultAction));
        BinaryPrimitives.WriteUInt32LittleEndian(config[8..], FirewallActions.Stored(policy.UnparseableAction));
        BinaryPrimitives.WriteUInt32LittleEndian(config[12..], FirewallActions.Stored(policy.NonIpAction));
        BinaryPrimitives.WriteUInt32LittleEndian(config[16..], compiled.IngressOtherClass);
        var configMap = Map(maps, FirewallMaps.Config);
        Check(configMap, configMap.Update(stackalloc byte[4], config));
    }

    private static void WriteArray(BpfMap map, uint[] values)
    {
        for (var i = 0; i < values.Length; i++)
            Check(map, map.Update(BitConverter.GetBytes((uint)i), BitConverter.GetBytes(values[i])));
    }

    private static BpfMap Map(IReadOnlyDictionary<string, BpfMap> maps, string name) =>
        maps.TryGetValue(name, out var map) ? map : throw new FirewallCompileException($"the firewall object has no map '{name}'");

    private static void Check(BpfMap map, int result)
    {
        if (result != 0)
            throw new FirewallCompileException($"writing map '{map.Name}' failed: {ErrnoText.Name(result)}");
    }
}
