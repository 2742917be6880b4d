using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Benchmarks;

/// <summary>
/// Program-side hash map operations at a million entries, per operation. Lookups walk a shuffled key list so each
/// one lands on a random bucket, as flows of a busy link do (mostly cache misses); the "cached" case repeats a few
/// thousand keys to show the cost of the code alone.
/// </summary>
[MemoryDiagnoser]
public unsafe class HashMapBenchmarks
{
    private const int Entries = 1_000_000;
    private const int Batch = 1024;
    private const int CachedKeys = 4096;

    private HashMap map = null!;
    private ulong* hits;
    private ulong* misses;
    private ulong* value;
    private int cursor;

    [Params(bpf_map_type.BPF_MAP_TYPE_HASH, bpf_map_type.BPF_MAP_TYPE_LRU_HASH)]
    public bpf_map_type Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        map = new HashMap(new MapDefinition("bench", Type, 8, 8, Entries), Environment.ProcessorCount);
        hits = (ulong*)NativeMemory.Alloc(Entries, sizeof(ulong));
        misses = (ulong*)NativeMemory.Alloc(Entries, sizeof(ulong));
        value = (ulong*)NativeMemory.AllocZeroed(1, sizeof(ulong));
        var random = new Random(42);
        for (var i = 0; i < Entries; i++)
        {
            // Present keys are even, absent ones odd: spread like addresses, not consecutive integers.
            hits[i] = (ulong)random.NextInt64() & ~1ul;
            misses[i] = (ulong)random.NextInt64() | 1ul;
            if (map.UpdateElem((byte*)&hits[i], (byte*)value, 0, 0) != 0)
                throw new InvalidOperationException($"setup insert {i} failed");
        }
        random.Shuffle(new Span<ulong>(hits, Entries));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        map.Dispose();
        NativeMemory.Free(hits);
        NativeMemory.Free(misses);
        NativeMemory.Free(value);
    }

    private ulong* Next(ulong* keys, int span)
    {
        var start = cursor;
        cursor = start + Batch >= span ? 0 : start + Batch;
        return keys + start;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public nint LookupHit()
    {
        var keys = Next(hits, Entries);
        nint sum = 0;
        for (var i = 0; i < Batch; i++)
            sum += (nint)map.LookupElem((byte*)(keys + i), 0);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public nint LookupMiss()
    {
        var keys = Next(misses, Entries);
        nint sum = 0;
        for (var i = 0; i < Batch; i++)
            sum += (nint)map.LookupElem((byte*)(keys + i), 0);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public nint LookupHitCached()
    {
        var keys = Next(hits, CachedKeys);
        nint sum = 0;
        for (var i = 0; i < Batch; i++)
            sum += (nint)map.LookupElem((byte*)(keys + i), 0);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int UpdateExisting()
    {
        var keys = Next(hits, Entries);
        var status = 0;
        for (var i = 0; i < Batch; i++)
            status |= map.UpdateElem((byte*)(keys + i), (byte*)value, MapFlags.BPF_EXIST, 0);
        return status;
    }
}
