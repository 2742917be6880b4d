using XdpGate.Appliance.Bench;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The C reference loops (perf/reference) on a veth pair: each counts what it receives, bounces it back with the
/// Ethernet addresses swapped in tx mode and nothing in drop mode, and fails naming the call when it cannot start.
/// </summary>
public sealed class ReferenceLoopTests
{
    private const int Frames = 40;

    public static TheoryData<string, BenchMode> Loops => new()
    {
        { "tpacket_loop", BenchMode.Drop },
        { "tpacket_loop", BenchMode.Tx },
        { "xsk_loop", BenchMode.Drop },
        { "xsk_loop", BenchMode.Tx },
    };

    [SkippableTheory]
    [MemberData(nameof(Loops))]
    public void A_reference_loop_counts_every_frame_and_bounces_them_with_swapped_addresses_only_in_tx_mode(string binary, BenchMode mode)
    {
        SkipUnlessAvailable();
        using var pair = new VethPair("xr");
        using var loop = ReferenceLoop.Start(Path.Combine(ReferenceBuild.Directory!, binary), pair.NamespaceB, pair.InterfaceB, mode,
            Environment.ProcessorCount - 1, TimeSpan.FromSeconds(10));
        // As in the bench: otherwise B's host stack would answer the frames the AF_PACKET loop also gets, and the
        // answers' ARP would add frames to the count.
        using var ingressDrop = ReferenceLoop.Known.Single(k => k.Binary == binary).TakesFromHost
            ? pair.InB(() => IngressDrop.AttachIfSupported(pair.IfindexB, out _))
            : null;
        using var witness = pair.InA(() => new RawSocket(pair.IfindexA));
        var sent = Enumerable.Range(0, Frames)
            .Select(i => TestFrames.Udp(pair.MacB, pair.MacA, pair.AddressA, pair.AddressB, 4000, 0x5EED_0000UL + (ulong)i))
            .ToList();

        foreach (var frame in sent)
            witness.Send(frame);
        var back = witness.Receive(Frames, TimeSpan.FromSeconds(mode == BenchMode.Tx ? 3 : 0.5),
            frame => TestFrames.Tag(frame) is >= 0x5EED_0000UL and < 0x5EED_0000UL + Frames && frame.AsSpan(0, 6).SequenceEqual(pair.MacA));
        var counted = WaitForCount(loop, Frames);
        var summary = loop.Stop();

        Assert.Equal((ulong)Frames, counted);
        Assert.Contains($"{binary} {pair.InterfaceB} {mode.ToString().ToLowerInvariant()}: {Frames} frames, 0 not sent", summary, StringComparison.Ordinal);
        if (mode == BenchMode.Drop)
        {
            Assert.Empty(back);
            return;
        }
        Assert.Equal(Frames, back.Count);
        foreach (var frame in back)
        {
            var original = sent[(int)(TestFrames.Tag(frame)!.Value - 0x5EED_0000UL)];
            Assert.Equal(original.AsSpan(0, 6).ToArray(), frame.AsSpan(6, 6).ToArray());
            Assert.Equal(original.AsSpan(12).ToArray(), frame.AsSpan(12).ToArray());
        }
    }

    [SkippableFact]
    public void A_reference_loop_on_a_missing_interface_fails_naming_the_call_and_errno()
    {
        SkipUnlessAvailable();
        using var pair = new VethPair("xr");

        var error = Assert.Throws<InvalidOperationException>(() =>
            ReferenceLoop.Start(Path.Combine(ReferenceBuild.Directory!, "tpacket_loop"), pair.NamespaceB, "xrnosuchif", BenchMode.Drop, 0, TimeSpan.FromSeconds(5)));

        Assert.Contains("if_nametoindex failed: No such device (errno 19)", error.Message, StringComparison.Ordinal);
        Assert.Contains("exit 1", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The loop's count once it reaches <paramref name="expected"/> (waiting at most 3 s), read again a moment later so frames beyond those sent would show.</summary>
    private static ulong WaitForCount(ReferenceLoop loop, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        var count = loop.Count();
        while (count < (ulong)expected && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            count = loop.Count();
        }
        Thread.Sleep(100);
        return loop.Count();
    }

    private static void SkipUnlessAvailable()
    {
        var why = VethPair.WhyUnavailable() ?? ReferenceBuild.WhyUnavailable;
        Skip.If(why is not null, why);
    }
}
