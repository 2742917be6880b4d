using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using XdpGate.Linux.Tap;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.Linux.Tests.Tap;

/// <summary>The host-stack path for XDP_PASS: a frame written to a TAP device reaches a socket of that namespace.</summary>
public sealed class TapDeviceTests
{
    private static readonly byte[] TapMac = [0x02, 0x00, 0x00, 0x00, 0x7a, 0x01];

    [SkippableFact]
    public void A_frame_written_to_a_tap_device_reaches_a_UDP_socket_of_its_namespace()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair("xt");
        var name = "xgt" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var subnet = RandomNumberGenerator.GetInt32(0, 256);
        var address = $"198.19.{subnet}.1";
        var (tap, socket) = pair.InA(() =>
        {
            var device = TapDevice.Create(name, TapMac);
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            return (device, udp);
        });
        using (tap)
        using (socket)
        {
            VethPair.Ip($"-n {pair.NamespaceA} addr add {address}/24 dev {name}");
            socket.Bind(new IPEndPoint(IPAddress.Parse(address), 9));
            socket.ReceiveTimeout = 2000;
            Assert.True(tap.Ifindex > 0);

            var frame = TestFrames.Udp(TapMac, TestFrames.ForeignMac, $"198.19.{subnet}.2", address, 4444, tag: 0x5441500000000001);
            Assert.Equal(frame.Length, tap.Write(frame));

            var payload = new byte[64];
            var received = socket.Receive(payload);
            Assert.Equal(frame.Length - TestFrames.HeaderLength, received);
            Assert.Equal(frame[TestFrames.HeaderLength..], payload[..received]);
        }
    }

    [Fact]
    public void A_name_longer_than_IFNAMSIZ_is_refused_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => TapDevice.Create("a-name-far-too-long", TapMac));
        Assert.Contains("a-name-far-too-long", error.Message, StringComparison.Ordinal);
    }
}
