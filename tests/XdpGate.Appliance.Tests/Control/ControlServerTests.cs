using System.Net.Sockets;
using System.Text;
using Xunit;
using XdpGate.Appliance.Control;

namespace XdpGate.Appliance.Tests.Control;

public sealed class ControlServerTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-control-");
    private readonly FirewallAppliance appliance = new();

    private string SocketPath => Path.Combine(temp.FullName, "control.sock");

    private static string Exchange(string path, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 10_000;
        socket.Send(bytes);
        using var reader = new StreamReader(new NetworkStream(socket), Encoding.UTF8);
        return reader.ReadLine() ?? "";
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_socket_is_owner_only_and_serves_requests_until_disposed()
    {
        var server = ControlServer.Start(SocketPath, appliance.Appliance);
        try
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
            Assert.Contains("\"program\":\"xdp_firewall\"", ControlClient.Request(SocketPath, "status"), StringComparison.Ordinal);
            Assert.Contains("\"name\":\"dns\"", ControlClient.Request(SocketPath, "rules"), StringComparison.Ordinal);
            var error = Assert.Throws<ControlRequestException>(() => ControlClient.Request(SocketPath, "map", ["lookup", "nope", "key", "u32", "0"]));
            Assert.StartsWith("no map named 'nope'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task Garbage_too_long_lines_and_dropped_clients_never_stop_the_server()
    {
        await using var server = ControlServer.Start(SocketPath, appliance.Appliance);
        var random = new Random(7);

        for (var i = 0; i < 50; i++)
        {
            var junk = new byte[random.Next(1, 300)];
            random.NextBytes(junk);
            junk[^1] = (byte)'\n';
            Assert.Contains("\"ok\":false", Exchange(SocketPath, junk), StringComparison.Ordinal);
        }
        var huge = Encoding.UTF8.GetBytes(new string('x', ControlServer.MaxRequestBytes + 10) + "\n");
        Assert.Equal($"{{\"ok\":false,\"error\":\"request longer than {ControlServer.MaxRequestBytes} bytes\"}}", Exchange(SocketPath, huge));
        for (var i = 0; i < 20; i++)
        {
            using var dropped = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            dropped.Connect(new UnixDomainSocketEndPoint(SocketPath));
            dropped.Send("{\"cmd\":"u8.ToArray());
        }

        Assert.Contains("\"ok\":true", Exchange(SocketPath, "{\"cmd\":\"stats\"}\n{\"cmd\":\"status\"}\n"u8.ToArray()), StringComparison.Ordinal);
        Assert.Contains("firewall.default.packets", ControlClient.Request(SocketPath, "stats"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_server_on_a_live_socket_is_refused_and_a_stale_socket_file_is_replaced()
    {
        await using (var first = ControlServer.Start(SocketPath, appliance.Appliance))
        {
            var refused = Assert.Throws<IOException>(() => ControlServer.Start(SocketPath, appliance.Appliance));
            Assert.Contains("another process is serving it", refused.Message, StringComparison.Ordinal);
        }
        // A socket file nobody listens on, as a crashed appliance leaves it (.NET unlinks its own sockets on close).
        var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(SocketPath));
        Assert.True(XdpGate.Linux.FileTypes.IsSocket(SocketPath));

        await using (var second = ControlServer.Start(SocketPath, appliance.Appliance))
            Assert.Contains("xdp_firewall", ControlClient.Request(SocketPath, "status"), StringComparison.Ordinal);
        stale.Dispose();
    }

    [Fact]
    public void A_regular_file_at_the_socket_path_is_left_alone()
    {
        File.WriteAllText(SocketPath, "precious");

        var refused = Assert.Throws<IOException>(() => ControlServer.Start(SocketPath, appliance.Appliance));

        Assert.Contains("exists and is not a socket", refused.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(SocketPath));
    }

    public void Dispose()
    {
        appliance.Dispose();
        temp.Delete(recursive: true);
    }
}
