using XdpGate.Linux.Netlink;
using XdpGate.Linux.Tap;

namespace XdpGate.Appliance.Ports;

/// <summary>
/// The host network stack behind real ports: one TAP device per port, named <c>xg-PORT</c> (cut to 15 bytes) and
/// given the port's MAC, so the frames a program passes are addressed to it. The kernel sees them arrive on the
/// TAP interface, so the host's addresses and routes for the port belong there (move them from the port to
/// <c>xg-PORT</c>). Workers write to the same TAP concurrently; the kernel orders the writes, no lock here. What
/// the host sends out of the TAP (replies, ARP) is read by worker 0 and leaves by the port (<see cref="IFrameSource"/>).
/// </summary>
public sealed class TapHostStacks : IDisposable
{
    private readonly Dictionary<IPort, TapSink> taps = [];

    /// <summary>The TAP of <paramref name="port"/>, made on first use (in the calling thread's namespace).</summary>
    public IFrameSink For(IPort port, int queue)
    {
        ArgumentNullException.ThrowIfNull(port);
        if (!taps.TryGetValue(port, out var sink))
        {
            using var route = new RouteSocket();
            var link = Links.Get(route, port.Ifindex);
            var name = ("xg-" + port.Name)[..Math.Min(15, 3 + port.Name.Length)];
            sink = new TapSink(TapDevice.Create(name, link.Address));
            taps.Add(port, sink);
        }
        return sink;
    }

    /// <summary>The TAP devices made so far, by port name.</summary>
    public IReadOnlyDictionary<string, string> Names => taps.ToDictionary(t => t.Key.Name, t => t.Value.Device.Name);

    public void Dispose()
    {
        foreach (var sink in taps.Values)
            sink.Device.Dispose();
        taps.Clear();
    }

    private sealed class TapSink(TapDevice device) : IFrameSink, IFrameSource
    {
        private const int EAGAIN = 11;
        private const int EINVAL = 22;
        private const int EMSGSIZE = 90;

        public TapDevice Device => device;

        public int PollDescriptor => device.Fd;

        public int Read(Span<byte> buffer) => device.Read(buffer);

        public TxStatus TransmitCopy(ReadOnlySpan<byte> packet) => device.Write(packet) switch
        {
            >= 0 => TxStatus.Sent,
            -EAGAIN => TxStatus.RingFull,
            -EMSGSIZE or -EINVAL => TxStatus.TooLarge,
            _ => TxStatus.Error,
        };

        public void Flush()
        {
        }
    }
}
