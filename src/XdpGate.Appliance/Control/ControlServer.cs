using System.Net.Sockets;
using System.Text;
using XdpGate.Linux;

namespace XdpGate.Appliance.Control;

/// <summary>
/// The control socket: a Unix stream socket (owner-only, mode 0600) serving <see cref="ControlRequestHandler"/> one
/// line at a time. A client that sends garbage, too long a line or nothing at all costs only its own connection.
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    /// <summary>A request longer than this is refused and its connection closed.</summary>
    public const int MaxRequestBytes = 64 * 1024;
    private const int MaxClients = 16;

    private readonly Socket listener;
    private readonly ControlRequestHandler handler;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim clients = new(MaxClients);
    private readonly Task acceptLoop;

    private ControlServer(string path, Socket listener, ControlRequestHandler handler)
    {
        Path = path;
        this.listener = listener;
        this.handler = handler;
        acceptLoop = Task.Run(AcceptLoop);
    }

    public string Path { get; }

    /// <summary>
    /// Listens at <paramref name="path"/>. The socket is bound under a temporary name, made 0600, then renamed into
    /// place, so no one can connect before its permissions are set. A stale socket file (nothing listening) is
    /// replaced; a live one is an error.
    /// </summary>
    public static ControlServer Start(string path, IApplianceControl appliance)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(appliance);
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("the control socket is a Linux Unix-domain socket");
        if (File.Exists(path) || Directory.Exists(path))
        {
            if (!FileTypes.IsSocket(path))
                throw new IOException($"control socket {path}: exists and is not a socket");
            if (IsLive(path))
                throw new IOException($"control socket {path}: another process is serving it");
            File.Delete(path);
        }
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(temporary));
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, path);
            listener.Listen(MaxClients);
        }
        catch
        {
            listener.Dispose();
            File.Delete(temporary);
            throw;
        }
        return new ControlServer(path, listener, new ControlRequestHandler(appliance));
    }

    private static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await clients.WaitAsync(stop.Token).ConfigureAwait(false);
                client = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested)
                    return;
                continue;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            var reader = new LineReader(stream, MaxRequestBytes);
            while (!stop.IsCancellationRequested)
            {
                var (line, tooLong) = await reader.ReadLineAsync(stop.Token).ConfigureAwait(false);
                if (line is null && !tooLong)
                    return;
                var response = tooLong
                    ? ControlRequestHandler.Error($"request longer than {MaxRequestBytes} bytes")
                    : handler.Handle(line!);
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response + "\n"), stop.Token).ConfigureAwait(false);
                if (tooLong)
                    return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or we are stopping: its connection ends, the server goes on.
        }
        finally
        {
            clients.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        listener.Dispose();
        await acceptLoop.ConfigureAwait(false);
        File.Delete(Path);
        stop.Dispose();
    }
}
