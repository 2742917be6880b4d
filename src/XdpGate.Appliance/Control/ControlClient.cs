using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace XdpGate.Appliance.Control;

/// <summary>One request to a control socket and its response, for the CLI's client commands.</summary>
public static class ControlClient
{
    /// <summary>Sends {"cmd":command,"args":args}; returns the result element's JSON, or throws <see cref="ControlRequestException"/> with the server's error.</summary>
    public static string Request(string socketPath, string command, IReadOnlyList<string>? args = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(socketPath);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            throw new IOException($"control socket {socketPath}: {e.Message} (is xdpgate running with this control socket?)", e);
        }
        socket.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        using var stream = new NetworkStream(socket);
        var request = JsonSerializer.Serialize(new { cmd = command, args = args ?? [] }) + "\n";
        stream.Write(Encoding.UTF8.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = reader.ReadLine() ?? throw new IOException($"control socket {socketPath}: closed without a response");
        using var document = JsonDocument.Parse(response);
        var root = document.RootElement;
        if (root.GetProperty("ok").GetBoolean())
            return root.GetProperty("result").GetRawText();
        throw new ControlRequestException(root.GetProperty("error").GetString() ?? "error");
    }
}
