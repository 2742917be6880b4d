using System.Runtime.InteropServices;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Linux.AfXdp;
using XdpGate.Testing.Net;
using XdpGate.Uapi;

namespace XdpGate.Linux.Tests.AfXdp;

/// <summary>
/// AF_XDP sockets: the if_xdp.h layouts, and binding on veth. Frames through the socket need the redirect program,
/// which the appliance builds, so the traffic tests are XdpGate.Appliance.Tests' AfXdpPortTests.
/// </summary>
public sealed class XskSocketTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(typeof(sockaddr_xdp), 16)]
    [InlineData(typeof(xdp_ring_offset), 32)]
    [InlineData(typeof(xdp_mmap_offsets), 128)]
    [InlineData(typeof(xdp_umem_reg), 32)]
    [InlineData(typeof(xdp_statistics), 48)]
    [InlineData(typeof(xdp_desc), 16)]
    public void Struct_has_the_header_size(Type type, int size) => Assert.Equal(size, Marshal.SizeOf(type));

    [SkippableFact]
    public void Structs_and_constants_agree_with_the_installed_header_compiled_by_gcc()
    {
        var why = HeaderProbe.WhyUnavailable("linux/if_xdp.h");
        Skip.If(why is not null, why);
        var count = HeaderProbe.Check(["sys/socket.h", "linux/if_xdp.h"],
            [typeof(sockaddr_xdp), typeof(xdp_ring_offset), typeof(xdp_mmap_offsets), typeof(xdp_umem_reg), typeof(xdp_statistics),
             typeof(xdp_options), typeof(xdp_desc)],
            [typeof(if_xdp), typeof(socket_busy_poll)],
            // Linux 6.8 put tx_metadata_len in what was xdp_umem_reg's tail padding.
            newerThanHeaders: ["xdp_umem_reg.tx_metadata_len"]);
        output.WriteLine($"{count} fields and constants agree");
    }

    [SkippableFact]
    public void A_socket_binds_to_veth_in_copy_mode_with_empty_rings_of_the_asked_size()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => XskSocket.Open(pair.IfindexA, 0, new XskOptions { RingSize = 256, FrameCount = 512 }));
        Assert.False(socket.ZeroCopy);
        Assert.Equal(256u, socket.Fill.Free(256));
        Assert.Equal(256u, socket.Tx.Free(256));
        Assert.Equal(0u, socket.Rx.Available());
        Assert.Equal(0u, socket.Completion.Available());
        Assert.Equal(0ul, socket.ReadStatistics().rx_dropped);
    }

    [SkippableFact]
    public void Busy_polling_sets_the_socket_options_the_kernel_then_reports()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => XskSocket.Open(pair.IfindexA, 0, new XskOptions { RingSize = 64, FrameCount = 128, BusyPoll = true, BusyPollMicroseconds = 50 }));
        Assert.Equal(1, socket.GetSocketOption(socket_busy_poll.SO_PREFER_BUSY_POLL));
        Assert.Equal(50, socket.GetSocketOption(socket_busy_poll.SO_BUSY_POLL));
        // SO_BUSY_POLL_BUDGET can be set but not read back (getsockopt says ENOPROTOOPT).
    }

    [SkippableFact]
    public void Zero_copy_on_veth_and_a_queue_it_lacks_are_refused_naming_the_queue()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        var zeroCopy = Assert.Throws<SyscallException>(() => pair.InA(() => XskSocket.Open(pair.IfindexA, 0, new XskOptions { Mode = XskBindMode.ZeroCopy })));
        Assert.Contains("queue 0", zeroCopy.Message, StringComparison.Ordinal);
        var queue = Assert.Throws<SyscallException>(() => pair.InA(() => XskSocket.Open(pair.IfindexA, 7, new XskOptions())));
        Assert.Contains("queue 7", queue.Message, StringComparison.Ordinal);
        Assert.Equal(Errno.EINVAL, queue.Errno);
    }

    [Theory]
    [InlineData(1000, 2048, 4096, "FrameSize")]
    [InlineData(4096, 1000, 4096, "RingSize")]
    [InlineData(4096, 2048, 1024, "FrameCount")]
    public void Options_the_kernel_would_refuse_are_refused_naming_the_option(int frameSize, int ringSize, int frameCount, string option)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            XskSocket.Open(1, 0, new XskOptions { FrameSize = frameSize, RingSize = ringSize, FrameCount = frameCount }));
        Assert.Equal(option, e.ParamName);
    }
}
