using XdpGate.Bpf.Maps.Lpm;
using XdpGate.Testing.HotPath;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.LpmTestKit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed class LpmTrieMapAllocationTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(20)]
    public unsafe void A_million_program_lookups_allocate_nothing(int dataSize)
    {
        using var map = NewMap(dataSize: dataSize, maxEntries: 4096, shape: TrieShape.Uniform(dataSize * 8, 16, 4));
        var rng = new Random(dataSize);
        var keys = new byte[1024][];
        for (var i = 0; i < keys.Length; i++)
        {
            var data = new byte[dataSize];
            rng.NextBytes(data);
            map.Update(Key(data, rng.Next(dataSize * 8 + 1)), Value((ulong)i));
            // Every other key a full-width lookup, the rest prefixlen-limited ones.
            keys[i] = Key(data, i % 2 == 0 ? dataSize * 8 : rng.Next(dataSize * 8));
        }

        var handles = keys.Select(k => System.Runtime.InteropServices.GCHandle.Alloc(k, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => (nint)h.AddrOfPinnedObject()).ToArray();
            var hits = 0L;
            Assert.Equal(0, Allocations.InSteadyState(() => hits = Lookups(map, pointers, 1_000_000)));
            Assert.True(hits > 0);
        }
        finally
        {
            foreach (var handle in handles)
                handle.Free();
        }
    }

    private static unsafe long Lookups(XdpGate.Bpf.Maps.BpfMap map, nint[] keys, int count)
    {
        var hits = 0L;
        for (var i = 0; i < count; i++)
        {
            if (map.LookupElem((byte*)keys[i & (keys.Length - 1)], 0) is not null)
                hits++;
        }
        return hits;
    }
}
