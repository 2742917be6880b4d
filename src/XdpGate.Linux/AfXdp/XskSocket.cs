using static XdpGate.Linux.AfXdp.if_xdp;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.AfXdp;

/// <summary>
/// An AF_XDP socket bound to one queue of one interface, with its own UMEM (an anonymous mapping of equal chunks)
/// and the four rings mapped. Frames reach it only through an XDP program that redirects into an XSKMAP holding
/// <see cref="Fd"/>. The kernel's XDP_PACKET_HEADROOM (256 bytes) lies in front of every received frame in its chunk.
/// Not thread-safe: one worker owns it. It belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed unsafe class XskSocket : IDisposable
{
    private readonly List<(nint Address, ulong Length)> mappings = [];

    private XskSocket(int fd, int ifindex, int queueId, XskOptions options)
    {
        Fd = fd;
        Ifindex = ifindex;
        QueueId = queueId;
        FrameSize = options.FrameSize;
        FrameCount = options.FrameCount;
        BusyPoll = options.BusyPoll;
    }

    /// <summary>Busy polling is on: every empty receive and every kick enters the kernel to drive the device.</summary>
    public bool BusyPoll { get; }

    public int Fd { get; private set; }
    public int Ifindex { get; }
    public int QueueId { get; }
    public int FrameSize { get; }
    public int FrameCount { get; }

    /// <summary>The UMEM: <see cref="FrameCount"/> chunks of <see cref="FrameSize"/> bytes; a frame's address is its offset here.</summary>
    public byte* Umem { get; private set; }

    /// <summary>True when the kernel bound in zero-copy mode (XDP_OPTIONS_ZEROCOPY).</summary>
    public bool ZeroCopy { get; private set; }

    /// <summary>User space gives the kernel empty chunks to receive into (u64 addresses).</summary>
    public XskRing Fill { get; private set; } = null!;

    /// <summary>The kernel hands back chunks whose transmission finished (u64 addresses).</summary>
    public XskRing Completion { get; private set; } = null!;

    /// <summary>Received frames (<see cref="xdp_desc"/>).</summary>
    public XskRing Rx { get; private set; } = null!;

    /// <summary>Frames to send (<see cref="xdp_desc"/>).</summary>
    public XskRing Tx { get; private set; } = null!;

    /// <summary>
    /// Registers the UMEM, sizes and maps the rings, then binds to queue <paramref name="queueId"/> of
    /// <paramref name="ifindex"/>: zero-copy first in <see cref="XskBindMode.Auto"/>, copy mode when the driver refuses.
    /// </summary>
    public static XskSocket Open(int ifindex, int queueId, XskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        ArgumentOutOfRangeException.ThrowIfNegative(queueId);
        options.Validate();
        var fd = SyscallException.Check(LibC.socket(AF_XDP, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0), "socket(AF_XDP)",
            "is CONFIG_XDP_SOCKETS on?");
        var socket = new XskSocket(fd, ifindex, queueId, options);
        try
        {
            socket.Setup(options);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Setup(XskOptions options)
    {
        var umemBytes = (ulong)options.FrameCount * (ulong)options.FrameSize;
        Umem = (byte*)Map(umemBytes, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_POPULATE, -1, 0, "UMEM");
        // headroom 0: the kernel still leaves XDP_PACKET_HEADROOM in front of each frame, which is the 256 bytes adjust_head needs.
        var registration = new xdp_umem_reg { addr = (ulong)Umem, len = umemBytes, chunk_size = (uint)options.FrameSize };
        Set(XDP_UMEM_REG, &registration, sizeof(xdp_umem_reg), $"{options.FrameCount} chunks of {options.FrameSize} bytes");
        var ringSize = options.RingSize;
        Set(XDP_UMEM_FILL_RING, &ringSize, sizeof(int), $"{ringSize} entries");
        Set(XDP_UMEM_COMPLETION_RING, &ringSize, sizeof(int), $"{ringSize} entries");
        Set(XDP_RX_RING, &ringSize, sizeof(int), $"{ringSize} entries");
        Set(XDP_TX_RING, &ringSize, sizeof(int), $"{ringSize} entries");

        xdp_mmap_offsets offsets;
        Tmds.Linux.socklen_t length = (uint)sizeof(xdp_mmap_offsets);
        SyscallException.Check(LibC.getsockopt(Fd, SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &length), "getsockopt(XDP_MMAP_OFFSETS)");
        var size = (uint)ringSize;
        Fill = new XskRing(MapRing(offsets.fr, sizeof(ulong), size, XDP_UMEM_PGOFF_FILL_RING, "fill ring"), offsets.fr, size, userProduces: true);
        Completion = new XskRing(MapRing(offsets.cr, sizeof(ulong), size, XDP_UMEM_PGOFF_COMPLETION_RING, "completion ring"), offsets.cr, size, userProduces: false);
        Rx = new XskRing(MapRing(offsets.rx, sizeof(xdp_desc), size, XDP_PGOFF_RX_RING, "RX ring"), offsets.rx, size, userProduces: false);
        Tx = new XskRing(MapRing(offsets.tx, sizeof(xdp_desc), size, XDP_PGOFF_TX_RING, "TX ring"), offsets.tx, size, userProduces: true);

        // Neither XDP_COPY nor XDP_ZEROCOPY: the kernel tries zero-copy and falls back to copy mode by itself.
        var flags = (ushort)((options.NeedWakeup ? XDP_USE_NEED_WAKEUP : 0) | options.Mode switch
        {
            XskBindMode.Copy => XDP_COPY,
            XskBindMode.ZeroCopy => XDP_ZEROCOPY,
            _ => 0,
        });
        var address = new sockaddr_xdp { sxdp_family = AF_XDP, sxdp_flags = flags, sxdp_ifindex = (uint)Ifindex, sxdp_queue_id = (uint)QueueId };
        SyscallException.Check(LibC.bind(Fd, (Tmds.Linux.sockaddr*)&address, (uint)sizeof(sockaddr_xdp)), "bind(AF_XDP)",
            $"ifindex {Ifindex} queue {QueueId} flags 0x{flags:x} (does the interface have that queue?)");

        if (options.BusyPoll)
        {
            int on = 1, microseconds = options.BusyPollMicroseconds, budget = Math.Min(options.RingSize, 64);
            SetSocket(socket_busy_poll.SO_PREFER_BUSY_POLL, on, nameof(socket_busy_poll.SO_PREFER_BUSY_POLL));
            SetSocket(socket_busy_poll.SO_BUSY_POLL, microseconds, nameof(socket_busy_poll.SO_BUSY_POLL));
            SetSocket(socket_busy_poll.SO_BUSY_POLL_BUDGET, budget, nameof(socket_busy_poll.SO_BUSY_POLL_BUDGET));
        }

        xdp_options bound;
        length = (uint)sizeof(xdp_options);
        SyscallException.Check(LibC.getsockopt(Fd, SOL_XDP, XDP_OPTIONS, &bound, &length), "getsockopt(XDP_OPTIONS)");
        ZeroCopy = (bound.flags & XDP_OPTIONS_ZEROCOPY) != 0;
    }

    /// <summary>XDP_STATISTICS: the kernel's cumulative drop and invalid-descriptor counts.</summary>
    public xdp_statistics ReadStatistics()
    {
        xdp_statistics stats;
        Tmds.Linux.socklen_t length = (uint)sizeof(xdp_statistics);
        SyscallException.Check(LibC.getsockopt(Fd, SOL_XDP, XDP_STATISTICS, &stats, &length), "getsockopt(XDP_STATISTICS)");
        return stats;
    }

    /// <summary>
    /// Tells the kernel there is TX work (sendto with MSG_DONTWAIT): needed in copy mode for every batch and in
    /// zero-copy mode when the TX ring asks for a wakeup. Returns 0, or the errno (EAGAIN/EBUSY/ENOBUFS mean "later").
    /// </summary>
    public int KickTx()
    {
        if (ZeroCopy && !BusyPoll && !Tx.NeedsWakeup)
            return 0;
        return (long)LibC.sendto(Fd, null, 0, LibC.MSG_DONTWAIT, null, 0) < 0 ? LibC.errno : 0;
    }

    /// <summary>Wakes the kernel's RX side when the fill ring asks for it or busy polling drives it (recvfrom with MSG_DONTWAIT).</summary>
    public void WakeRxIfNeeded()
    {
        if (BusyPoll || Fill.NeedsWakeup)
            _ = LibC.recvfrom(Fd, null, 0, LibC.MSG_DONTWAIT, null, null);
    }

    /// <summary>poll() for received frames: true when some are ready, false on timeout.</summary>
    public bool WaitForRx(int timeoutMs)
    {
        var request = new Tmds.Linux.pollfd { fd = Fd, events = LibC.POLLIN };
        return LibC.poll(&request, 1, timeoutMs) > 0;
    }

    private byte* MapRing(xdp_ring_offset offsets, int entrySize, uint entries, long pageOffset, string what) =>
        (byte*)Map(offsets.desc + entries * (ulong)entrySize, LibC.MAP_SHARED | LibC.MAP_POPULATE, Fd, pageOffset, what);

    private void* Map(ulong length, int flags, int fd, long offset, string what)
    {
        var address = LibC.mmap(null, (Tmds.Linux.size_t)length, LibC.PROT_READ | LibC.PROT_WRITE, flags, fd, offset);
        if (address == LibC.MAP_FAILED)
            throw new SyscallException("mmap", LibC.errno, $"{what}: {length} bytes");
        mappings.Add(((nint)address, length));
        return address;
    }

    /// <summary>getsockopt(SOL_SOCKET, <paramref name="option"/>) as an int, for checking what the kernel took.</summary>
    public int GetSocketOption(int option)
    {
        int value;
        Tmds.Linux.socklen_t length = sizeof(int);
        SyscallException.Check(LibC.getsockopt(Fd, socket_busy_poll.SOL_SOCKET, option, &value, &length), "getsockopt(SOL_SOCKET)", $"option {option}");
        return value;
    }

    private void SetSocket(int option, int value, string name) =>
        SyscallException.Check(LibC.setsockopt(Fd, socket_busy_poll.SOL_SOCKET, option, &value, sizeof(int)), $"setsockopt({name})", $"{value}");

    private void Set(int option, void* value, int length, string what) =>
        SyscallException.Check(LibC.setsockopt(Fd, SOL_XDP, option, value, (uint)length), $"setsockopt({OptionName(option)})", what);

    private static string OptionName(int option) => option switch
    {
        XDP_UMEM_REG => nameof(XDP_UMEM_REG),
        XDP_UMEM_FILL_RING => nameof(XDP_UMEM_FILL_RING),
        XDP_UMEM_COMPLETION_RING => nameof(XDP_UMEM_COMPLETION_RING),
        XDP_RX_RING => nameof(XDP_RX_RING),
        XDP_TX_RING => nameof(XDP_TX_RING),
        _ => $"option {option}",
    };

    public void Dispose()
    {
        // The socket goes first: the kernel stops using the rings and the UMEM before they are unmapped.
        if (Fd >= 0)
        {
            _ = LibC.close(Fd);
            Fd = -1;
        }
        foreach (var (address, length) in mappings)
            _ = LibC.munmap((void*)address, (Tmds.Linux.size_t)length);
        mappings.Clear();
        Umem = null;
    }

    public override string ToString() => $"AF_XDP socket (fd {Fd}, ifindex {Ifindex}, queue {QueueId}, {(ZeroCopy ? "zero-copy" : "copy")})";
}
