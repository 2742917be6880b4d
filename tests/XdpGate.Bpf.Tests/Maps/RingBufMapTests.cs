using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Maps;

public sealed unsafe class RingBufMapTests
{
    private static RingBufMap Ring(uint size = 4096) => new(new MapDefinition("events", bpf_map_type.BPF_MAP_TYPE_RINGBUF, 0, 0, size));

    private static List<byte[]> Drain(RingBufMap ring)
    {
        var records = new List<byte[]>();
        ring.Consume(r => records.Add(r.ToArray()));
        return records;
    }

    [Fact]
    public void Submitted_records_are_consumed_in_order_and_discarded_ones_skipped()
    {
        using var ring = Ring();
        var a = ring.Reserve(3);
        a[0] = 1; a[1] = 2; a[2] = 3;
        var b = ring.Reserve(5);
        Assert.True(ring.Commit(b, discard: true));
        Assert.Equal(0, ring.Output([9, 9]));
        Assert.Empty(Drain(ring));
        Assert.True(ring.Commit(a, discard: false));
        var records = Drain(ring);
        Assert.Equal(2, records.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, records[0]);
        Assert.Equal(new byte[] { 9, 9 }, records[1]);
        Assert.Equal(0, ring.Pending);
    }

    [Fact]
    public void A_full_ring_refuses_reservations_until_consumed()
    {
        using var ring = Ring();
        var count = 0;
        while (ring.Output(new byte[100]) == 0)
            count++;
        Assert.Equal(4096 / 112, count);
        Assert.Equal(-Errno.EAGAIN, ring.Output(new byte[100]));
        Assert.Equal(count, Drain(ring).Count);
        Assert.Equal(0, ring.Output(new byte[100]));
    }

    [Fact]
    public void Records_that_would_cross_the_end_wrap_to_the_start_whole()
    {
        using var ring = Ring();
        for (var round = 0; round < 50; round++)
        {
            var payload = Enumerable.Range(0, 700 + round).Select(i => (byte)(i + round)).ToArray();
            Assert.Equal(0, ring.Output(payload));
            var records = Drain(ring);
            Assert.Single(records);
            Assert.Equal(payload, records[0]);
        }
    }

    [Fact]
    public void Records_larger_than_the_ring_are_refused()
    {
        using var ring = Ring();
        Assert.True(ring.Reserve(4096) is null);
        Assert.False(ring.Reserve(4088) is null);
    }

    [Fact]
    public void Commit_refuses_pointers_that_are_not_reserved_records()
    {
        using var ring = Ring();
        var record = ring.Reserve(8);
        Assert.True(ring.Commit(record, discard: false));
        Assert.False(ring.Commit(record, discard: false));
        Assert.False(ring.Commit(record + 3, discard: false));
    }

    [Fact]
    public void Concurrent_producers_lose_no_record()
    {
        using var ring = Ring(1 << 16);
        const int perProducer = 20_000;
        var seen = new HashSet<(int, int)>();
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            for (var n = 0; n < perProducer; n++)
            {
                var payload = BitConverter.GetBytes(((long)p << 32) | (uint)n);
                while (ring.Output(payload) != 0)
                    Thread.Yield();
            }
        })).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((!Task.WhenAll(producers).IsCompleted || ring.Pending > 0) && DateTime.UtcNow < deadline)
            ring.Consume(r => seen.Add(((int)(BitConverter.ToInt64(r) >> 32), (int)BitConverter.ToInt64(r))));
        Assert.Equal(2 * perProducer, seen.Count);
    }

    [Fact]
    public void Programs_reserve_fill_and_submit_records()
    {
        using var ring = Ring();
        var program = TestPrograms.Xdp("""
            r1 = map_by_idx(0) ll
            r2 = 4
            r3 = 0
            call 131
            if r0 == 0 goto out
            *(u32 *)(r0 + 0) = 0x04030201
            r1 = r0
            r2 = 0
            call 132
            out:
            r0 = 2
            exit
            """, ring);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(xdp_action.XDP_PASS, vm.RunXdp(program, ref frame.Context));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Assert.Single(Drain(ring)));
    }
}
