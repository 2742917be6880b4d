using System.Diagnostics;
using XdpGate.Linux;
using XdpGate.Linux.AfPacket;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Testing.Net;

/// <summary>
/// A plain AF_PACKET socket (send and recv, no rings) bound to one interface: the independent witness that tests use
/// to put frames on a wire and to see what came off it. Open it inside the namespace of its interface.
/// </summary>
public sealed unsafe class RawSocket : IDisposable
{
    private readonly int fd;

    public RawSocket(int ifindex)
    {
        fd = SyscallException.Check(LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.htons(if_packet.ETH_P_ALL)), "socket");
        // Tests send a burst before they read: room for a few thousand frames (SO_RCVBUFFORCE, root only).
        var size = 8 << 20;
        _ = LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &size, sizeof(int));
        var address = new sockaddr_ll { sll_family = (ushort)LibC.AF_PACKET, sll_protocol = LibC.htons(if_packet.ETH_P_ALL), sll_ifindex = ifindex };
        if (LibC.bind(fd, (Tmds.Linux.sockaddr*)&address, (uint)sizeof(sockaddr_ll)) < 0)
        {
            var errno = LibC.errno;
            _ = LibC.close(fd);
            throw new SyscallException("bind", errno);
        }
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            if ((long)LibC.send(fd, p, (Tmds.Linux.size_t)(ulong)frame.Length, 0) != frame.Length)
                throw new SyscallException("send", LibC.errno, $"{frame.Length}-byte frame");
        }
    }

    /// <summary>The frames that arrive within <paramref name="timeout"/> and satisfy <paramref name="match"/>, stopping at <paramref name="count"/>.</summary>
    public List<byte[]> Receive(int count, TimeSpan timeout, Func<byte[], bool> match)
    {
        var frames = new List<byte[]>();
        var buffer = new byte[65536];
        var clock = Stopwatch.StartNew();
        while (frames.Count < count && clock.Elapsed < timeout)
        {
            var request = new Tmds.Linux.pollfd { fd = fd, events = LibC.POLLIN };
            var wait = (int)Math.Max(1, (timeout - clock.Elapsed).TotalMilliseconds);
            if (LibC.poll(&request, 1, wait) <= 0)
                continue;
            fixed (byte* p = buffer)
            {
                var length = (long)LibC.recv(fd, p, (Tmds.Linux.size_t)(ulong)buffer.Length, LibC.MSG_DONTWAIT);
                if (length <= 0)
                    continue;
                var frame = buffer.AsSpan(0, (int)length).ToArray();
                if (match(frame))
                    frames.Add(frame);
            }
        }
        return frames;
    }

    public void Dispose() => LibC.close(fd);
}
