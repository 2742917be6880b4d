using System.Diagnostics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using XdpGate.Bpf.Maps;

namespace XdpGate.Benchmarks;

/// <summary>
/// Program-side lookups in BPF_MAP_TYPE_LPM_TRIE (<see cref="LpmTables"/> describes the tables and addresses).
/// <see cref="Lookup"/> is throughput: independent lookups, so the CPU overlaps their cache misses, as it does across
/// packets of a batch. <see cref="DependentLookup"/> is latency: each key depends on the previous answer.
/// </summary>
[MemoryDiagnoser]
public unsafe class LpmTrieBenchmarks
{
    private const int Keys = 1 << 20;

    private LpmTrieMap map = null!;
    private byte* keys;
    private int keySize;

    [Params("ipv4-1k", "ipv4-100k", "ipv4-1m", "ipv6-100k")]
    public string Table { get; set; } = "ipv4-1k";

    [GlobalSetup]
    public void Setup()
    {
        var prefixes = LpmTables.Prefixes(Table);
        map = LpmTables.NewMap(Table, prefixes.Length);
        var before = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        LpmTables.Fill(map, prefixes);
        Console.WriteLine($"// {Table}: {prefixes.Length} prefixes inserted in {clock.Elapsed.TotalMilliseconds:F0} ms, " +
            $"{map.MemoryUsage / 1e6:F1} MB allocated, {(Environment.WorkingSet - before) / 1e6:F1} MB resident");

        var bytes = LpmTables.LookupKeys(prefixes, Keys);
        keySize = map.KeySize;
        keys = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(keys, bytes.Length));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        map.Dispose();
        NativeMemory.Free(keys);
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public ulong Lookup()
    {
        var m = map;
        var key = keys;
        var size = keySize;
        ulong sum = 0;
        for (var i = 0; i < Keys; i++)
        {
            var value = m.LookupElem(key + (nint)i * size, 0);
            if (value is not null)
                sum += *(ulong*)value;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public ulong DependentLookup()
    {
        var m = map;
        var key = keys;
        var size = keySize;
        ulong sum = 0;
        ulong found = 0;
        for (var i = 0; i < Keys; i++)
        {
            // found >> 63 is always 0 (values are small), but the CPU cannot start the next lookup before knowing it.
            var value = m.LookupElem(key + ((nint)i + (nint)(found >> 63)) * size, 0);
            found = value is null ? 0 : *(ulong*)value;
            sum += found;
        }
        return sum;
    }
}

/// <summary>Building each table from empty: the control-plane cost of a full table load.</summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class LpmTrieBuildBenchmarks
{
    private (byte[] Data, int Length)[] prefixes = [];

    [Params("ipv4-1k", "ipv4-100k", "ipv4-1m", "ipv6-100k")]
    public string Table { get; set; } = "ipv4-1k";

    [GlobalSetup]
    public void Setup() => prefixes = LpmTables.Prefixes(Table);

    [Benchmark]
    public long Build()
    {
        using var map = LpmTables.NewMap(Table, prefixes.Length);
        LpmTables.Fill(map, prefixes);
        return map.MemoryUsage;
    }
}
