using System.Buffers.Binary;
using System.Net;
using XdpGate.Appliance.Ports.Synthetic;
using Xunit;

namespace XdpGate.Appliance.Tests.Ports;

public sealed class SyntheticTrafficTests
{
    [Theory]
    [InlineData("10.0.0.1", "198.19.0.1", "--src 10.0.0.1: benchmark traffic stays in 198.18.0.0/15 or 2001:2::/48")]
    [InlineData("198.18.0.1", "8.8.8.8", "--dst 8.8.8.8: benchmark traffic stays in")]
    [InlineData("198.20.0.1", "198.19.0.1", "--src 198.20.0.1")]
    [InlineData("2001:db8::1", "2001:2::1", "--src 2001:db8::1")]
    [InlineData("2001:2::1", "2001:3::1", "--dst 2001:3::1")]
    [InlineData("198.18.0.1", "2001:2::1", "one address family for both")]
    public void Addresses_outside_the_benchmark_ranges_are_refused(string source, string destination, string message)
    {
        var traffic = new SyntheticTraffic { Source = IPAddress.Parse(source), Destination = IPAddress.Parse(destination) };
        var error = Assert.Throws<ArgumentException>(traffic.Validate);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flows_that_would_count_past_the_range_are_refused()
    {
        var traffic = new SyntheticTraffic { Source = IPAddress.Parse("198.19.255.250"), Flows = 10 };
        var error = Assert.Throws<ArgumentException>(traffic.Validate);
        Assert.Contains("with 10 flows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IPv4_frames_carry_a_valid_header_checksum_and_one_source_per_flow()
    {
        var traffic = new SyntheticTraffic { Size = 64, Flows = 3 };
        var frame = new byte[64];
        traffic.Build(2, frame);
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.Equal(0xffff, OnesComplementSum(frame.AsSpan(14, 20)));
        Assert.Equal(IPAddress.Parse("198.18.0.3"), new IPAddress(frame.AsSpan(26, 4)));
        Assert.Equal(1026, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(34)));
        Assert.Equal(64 - 34, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(38)));
    }

    [Fact]
    public void IPv6_frames_carry_a_valid_UDP_checksum()
    {
        var traffic = new SyntheticTraffic { Size = 90, Source = IPAddress.Parse("2001:2::10"), Destination = IPAddress.Parse("2001:2::1") };
        traffic.Validate();
        var frame = new byte[90];
        traffic.Build(0, frame);
        Assert.Equal(0x86dd, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        var udpLength = 90 - 54;
        // Pseudo-header (addresses, length, next header) plus the datagram sums to 0xffff when the checksum is right.
        var sum = Fold((uint)OnesComplementSum(frame.AsSpan(22, 32), udpLength + 17) + (uint)OnesComplementSum(frame.AsSpan(54, udpLength)));
        Assert.Equal(0xffffu, sum);
    }

    private static int OnesComplementSum(ReadOnlySpan<byte> bytes, int extra = 0)
    {
        uint sum = (uint)extra;
        for (var i = 0; i + 1 < bytes.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        return (int)Fold(sum);
    }

    private static uint Fold(uint sum)
    {
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return sum;
    }
}
