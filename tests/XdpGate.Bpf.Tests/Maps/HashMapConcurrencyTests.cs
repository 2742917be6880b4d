using System.Diagnostics;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Tests.Maps.HashMapTestKit;

namespace XdpGate.Bpf.Tests.Maps;

/// <summary>
/// One control-plane thread updates, deletes and re-inserts while "CPU" threads look up (both ways) and update.
/// Values are eight equal words (per CPU slot), so any mix of two writes shows as unequal words.
/// </summary>
public unsafe class HashMapConcurrencyTests
{
    private const int Words = 8;
    private const int Stable = 64;

    private sealed class Findings
    {
        public long Torn;
        public long Lost;
        public long FailedUpdates;
        public long Reads;
        public string? First;

        public void Report(ref long counter, string what)
        {
            if (Interlocked.Increment(ref counter) == 1)
                Interlocked.CompareExchange(ref First, what, null);
        }

        public void AssertClean()
        {
            Assert.True(Torn == 0 && Lost == 0 && FailedUpdates == 0,
                $"torn {Torn}, lost {Lost}, failed updates {FailedUpdates} in {Reads} reads; first: {First}");
            Assert.True(Reads > 0);
        }
    }

    /// <summary>True when every 8-word slot of the value holds one number throughout.</summary>
    private static bool Uniform(ReadOnlySpan<byte> value)
    {
        for (var slot = 0; slot < value.Length; slot += Words * 8)
        {
            var first = Word(value, slot / 8);
            for (var w = 1; w < Words; w++)
                if (Word(value, slot / 8 + w) != first)
                    return false;
        }
        return true;
    }

    private static bool Uniform(ulong* words)
    {
        for (var w = 1; w < Words; w++)
            if (words[w] != words[0])
                return false;
        return true;
    }

    [Theory]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_HASH)]
    [InlineData(bpf_map_type.BPF_MAP_TYPE_LRU_HASH)]
    public void Replacing_a_key_publishes_the_whole_new_value_to_lock_free_readers(bpf_map_type type)
    {
        // Sized so that no freed element is reused during the run: then a program reading through an old pointer
        // must still see a whole value, which only holds if replacements swap elements instead of writing in place.
        // Few keys, so that readers and the writer meet on the same element often.
        const int iterations = 100_000;
        const int replaced = 4;
        const int churned = 4;
        using var map = Create(type, keySize: 8, valueSize: Words * 8, maxEntries: 1 << 18);
        Assert.True(map.MaxEntries + map.ReplacementReserve - replaced - churned > 2 * iterations);
        for (var k = 0ul; k < replaced + churned; k++)
            map.Update(Key64(k), Value(map, 0));

        var findings = new Findings();
        var done = 0;
        var readers = Enumerable.Range(0, 3).Select(cpu => new Thread(() =>
        {
            var key = stackalloc ulong[1];
            var copy = new byte[map.UserValueSize];
            while (Volatile.Read(ref done) == 0)
            {
                for (var k = 0ul; k < replaced + churned; k++)
                {
                    *key = k;
                    var p = (ulong*)map.LookupElem((byte*)key, cpu);
                    if (p == null && k < replaced)
                        findings.Report(ref findings.Lost, $"program lookup of key {k}");
                    if (p != null && !Uniform(p))
                        findings.Report(ref findings.Torn, $"program read of key {k}");
                    var status = map.Lookup(new ReadOnlySpan<byte>(key, 8), copy);
                    if (status != 0 && k < replaced)
                        findings.Report(ref findings.Lost, $"control-plane lookup of key {k}");
                    if (status == 0 && !Uniform(copy))
                        findings.Report(ref findings.Torn, $"control-plane copy of key {k}");
                    Interlocked.Increment(ref findings.Reads);
                }
            }
        })).ToList();
        readers.ForEach(t => t.Start());

        for (var i = 1; i <= iterations; i++)
        {
            var value = Value(map, (ulong)i);
            Assert.Equal(0, map.Update(Key64((ulong)(i % replaced)), value, MapFlags.BPF_EXIST));
            var key = Key64((ulong)(replaced + i % churned));
            Assert.Equal(0, map.Delete(key));
            Assert.Equal(0, map.Update(key, value, MapFlags.BPF_NOEXIST));
        }
        Volatile.Write(ref done, 1);
        readers.ForEach(t => t.Join());

        findings.AssertClean();
        Assert.Equal(replaced + churned, Keys(map).Count);
        for (var k = 0; k < replaced; k++)
            Assert.Equal((ulong)(iterations - (iterations - k) % replaced), Get(map, Key64((ulong)k)));
    }

    [Theory]
    [MemberData(nameof(AllTypes), MemberType = typeof(HashMapTestKit))]
    public void Heavy_churn_that_reuses_elements_never_loses_a_present_key_or_tears_a_copy(bpf_map_type type)
    {
        // A small map whose few free elements are reused constantly, so lock-free walks do get led astray through
        // recycled elements and must restart. Stable keys are only ever replaced, never deleted: every lookup of
        // one must succeed. CPU threads also replace stable keys from the program side.
        const int volatileKeys = 128;
        const int cpus = 3;
        using var map = Create(type, keySize: 8, valueSize: Words * 8, maxEntries: 256, cpus: cpus);
        for (var k = 0ul; k < Stable + volatileKeys; k++)
            map.Update(Key64(k), Value(map, 0));

        var findings = new Findings();
        var done = 0;
        var workers = Enumerable.Range(0, cpus).Select(cpu => new Thread(() =>
        {
            var key = stackalloc ulong[1];
            var programValue = stackalloc ulong[Words];
            var copy = new byte[map.UserValueSize];
            var round = 0ul;
            while (Volatile.Read(ref done) == 0)
            {
                round++;
                for (var k = 0ul; k < Stable + volatileKeys; k++)
                {
                    *key = k;
                    if (map.LookupElem((byte*)key, cpu) == null && k < Stable)
                        findings.Report(ref findings.Lost, $"program lookup of stable key {k}");
                    var status = map.Lookup(new ReadOnlySpan<byte>(key, 8), copy);
                    if (status != 0 && k < Stable)
                        findings.Report(ref findings.Lost, $"control-plane lookup of stable key {k}");
                    if (status == 0 && !Uniform(copy))
                        findings.Report(ref findings.Torn, $"control-plane copy of key {k}");
                    Interlocked.Increment(ref findings.Reads);
                }
                for (var w = 0; w < Words; w++)
                    programValue[w] = (1ul << 40) | round;
                *key = round % Stable;
                if (map.UpdateElem((byte*)key, (byte*)programValue, MapFlags.BPF_EXIST, cpu) != 0)
                    findings.Report(ref findings.FailedUpdates, $"program update of stable key {*key}");
            }
        })).ToList();
        workers.ForEach(t => t.Start());

        var clock = Stopwatch.StartNew();
        for (var i = 1ul; clock.ElapsedMilliseconds < 250 || i < 20_000; i++)
        {
            var value = Value(map, i);
            Assert.Equal(0, map.Update(Key64(i % Stable), value));
            var churned = Key64(Stable + i % volatileKeys);
            Assert.Equal(0, map.Delete(churned));
            Assert.Equal(0, map.Update(churned, value, MapFlags.BPF_NOEXIST));
        }
        Volatile.Write(ref done, 1);
        workers.ForEach(t => t.Join());

        findings.AssertClean();
        var keys = Keys(map).Select(k => BitConverter.ToUInt64(k)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Stable + volatileKeys).Select(k => (ulong)k), keys);
        Assert.Equal(Stable + volatileKeys, map.Count);
    }
}
