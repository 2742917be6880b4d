using System.Runtime.InteropServices;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Linux.AfPacket;

namespace XdpGate.Linux.Tests.AfPacket;

/// <summary>The TPACKET structs and constants keep linux/if_packet.h's layout and values.</summary>
public sealed class IfPacketLayoutTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(typeof(tpacket_req3), 28)]
    [InlineData(typeof(tpacket_hdr_v1), 40)]
    [InlineData(typeof(tpacket_block_desc), 48)]
    [InlineData(typeof(tpacket3_hdr), 48)]
    [InlineData(typeof(tpacket_stats_v3), 12)]
    [InlineData(typeof(packet_mreq), 16)]
    [InlineData(typeof(sockaddr_ll), 20)]
    public void Struct_has_the_header_size(Type type, int size) => Assert.Equal(size, Marshal.SizeOf(type));

    [SkippableFact]
    public void Structs_and_constants_agree_with_the_installed_header_compiled_by_gcc()
    {
        var why = HeaderProbe.WhyUnavailable("linux/if_packet.h");
        Skip.If(why is not null, why);
        var count = HeaderProbe.Check(["linux/if_packet.h", "linux/if_ether.h", "sys/socket.h"],
            [typeof(tpacket_req3), typeof(tpacket_bd_ts), typeof(tpacket_hdr_v1), typeof(tpacket_block_desc), typeof(tpacket_hdr_variant1),
             typeof(tpacket3_hdr), typeof(tpacket_stats_v3), typeof(packet_mreq), typeof(sockaddr_ll)],
            [typeof(if_packet)]);
        output.WriteLine($"{count} fields and constants agree");
    }
}
