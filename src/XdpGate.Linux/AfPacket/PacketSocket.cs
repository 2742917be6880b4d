using System.Runtime.InteropServices;
using static XdpGate.Linux.AfPacket.if_packet;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.AfPacket;

/// <summary>
/// An AF_PACKET socket bound to one interface, with a TPACKET_V3 RX ring and/or TX ring in one shared mapping.
/// The socket belongs to the network namespace of the thread that opened it. Not thread-safe: one worker owns it.
/// </summary>
public sealed unsafe class PacketSocket : IDisposable
{
    private byte* mapping;
    private ulong mappingSize;

    private PacketSocket(int fd, int ifindex)
    {
        Fd = fd;
        Ifindex = ifindex;
    }

    public int Fd { get; private set; }
    public int Ifindex { get; }

    /// <summary>The RX ring, or null when the options asked for none.</summary>
    public PacketRxRing? Rx { get; private set; }

    /// <summary>The TX ring, or null when the options asked for none.</summary>
    public PacketTxRing? Tx { get; private set; }

    /// <summary>
    /// Opens, configures and binds a socket on <paramref name="ifindex"/>. The order matters to the kernel: version,
    /// reserve and loss before the rings, rings before mmap, bind before joining a fanout group.
    /// </summary>
    public static PacketSocket Open(int ifindex, PacketSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        options.Validate();
        // Protocol 0: nothing is received until bind names the interface, so no other interface's frames slip in.
        var fd = SyscallException.Check(LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0), "socket(AF_PACKET, SOCK_RAW)");
        var socket = new PacketSocket(fd, ifindex);
        try
        {
            socket.Configure(options);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Configure(PacketSocketOptions options)
    {
        SetInt(PACKET_VERSION, TPACKET_V3, "TPACKET_V3");
        // PACKET_RESERVE and PACKET_LOSS are refused (EBUSY) once either ring exists.
        if (options.RxBlockCount > 0)
            SetInt(PACKET_RESERVE, options.Headroom, $"{options.Headroom} bytes");
        if (options.TxFrameCount > 0)
            SetInt(PACKET_LOSS, 1, "skip malformed TX frames instead of stopping the ring");
        var rx = default(tpacket_req3);
        var tx = default(tpacket_req3);
        if (options.RxBlockCount > 0)
        {
            rx = new tpacket_req3
            {
                tp_block_size = (uint)options.RxBlockSize,
                tp_block_nr = (uint)options.RxBlockCount,
                // V3 packs frames of any size into a block; the kernel only checks frame_size * frame_nr against the blocks.
                tp_frame_size = (uint)options.RxBlockSize,
                tp_frame_nr = (uint)options.RxBlockCount,
                tp_retire_blk_tov = (uint)options.RxBlockTimeoutMs,
            };
            SetRing(PACKET_RX_RING, rx);
        }
        if (options.TxFrameCount > 0)
        {
            if (options.QdiscBypass)
                SetInt(PACKET_QDISC_BYPASS, 1, "on");
            var perBlock = Environment.SystemPageSize / options.TxFrameSize;
            tx = new tpacket_req3
            {
                tp_block_size = (uint)Environment.SystemPageSize,
                tp_block_nr = (uint)((options.TxFrameCount + perBlock - 1) / perBlock),
                tp_frame_size = (uint)options.TxFrameSize,
                tp_frame_nr = (uint)(((options.TxFrameCount + perBlock - 1) / perBlock) * perBlock),
            };
            SetRing(PACKET_TX_RING, tx);
        }
        var rxBytes = (ulong)rx.tp_block_size * rx.tp_block_nr;
        var txBytes = (ulong)tx.tp_block_size * tx.tp_block_nr;
        mappingSize = rxBytes + txBytes;
        var address = LibC.mmap(null, (Tmds.Linux.size_t)mappingSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_POPULATE, Fd, 0);
        if (address == LibC.MAP_FAILED)
            throw new SyscallException("mmap(packet rings)", LibC.errno, $"{mappingSize} bytes");
        mapping = (byte*)address;
        // The kernel maps the RX ring first, then the TX ring.
        if (rxBytes > 0)
            Rx = new PacketRxRing(mapping, (int)rx.tp_block_size, (int)rx.tp_block_nr);
        if (txBytes > 0)
            Tx = new PacketTxRing(Fd, mapping + (long)rxBytes, (int)tx.tp_block_size, (int)tx.tp_frame_size, (int)tx.tp_frame_nr);

        if (options.IgnoreOutgoing)
            SetInt(PACKET_IGNORE_OUTGOING, 1, "on");
        var bindAddress = new sockaddr_ll
        {
            sll_family = (ushort)LibC.AF_PACKET,
            sll_protocol = LibC.htons(options.RxBlockCount > 0 ? ETH_P_ALL : (ushort)0),
            sll_ifindex = Ifindex,
        };
        SyscallException.Check(LibC.bind(Fd, (Tmds.Linux.sockaddr*)&bindAddress, (uint)sizeof(sockaddr_ll)), "bind(AF_PACKET)", $"ifindex {Ifindex}");
        if (options.Promiscuous)
        {
            var request = new packet_mreq { mr_ifindex = Ifindex, mr_type = PACKET_MR_PROMISC };
            SyscallException.Check(LibC.setsockopt(Fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, (uint)sizeof(packet_mreq)),
                "setsockopt(PACKET_ADD_MEMBERSHIP)", $"PACKET_MR_PROMISC on ifindex {Ifindex}");
        }
        if (options.FanoutGroup is { } group)
            SetInt(PACKET_FANOUT, group | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16), $"group {group}, PACKET_FANOUT_HASH");
    }

    /// <summary>PACKET_STATISTICS: packets and drops since the last read (the kernel resets them on every read).</summary>
    public tpacket_stats_v3 ReadStatistics()
    {
        tpacket_stats_v3 stats;
        Tmds.Linux.socklen_t length = (uint)sizeof(tpacket_stats_v3);
        SyscallException.Check(LibC.getsockopt(Fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length), "getsockopt(PACKET_STATISTICS)");
        return stats;
    }

    /// <summary>poll() for a filled RX block: true when one is ready, false on timeout or a signal.</summary>
    public bool WaitForRx(int timeoutMs)
    {
        var request = new Tmds.Linux.pollfd { fd = Fd, events = LibC.POLLIN };
        return LibC.poll(&request, 1, timeoutMs) > 0;
    }

    private void SetInt(int option, int value, string what)
    {
        SyscallException.Check(LibC.setsockopt(Fd, SOL_PACKET, option, &value, sizeof(int)), $"setsockopt({OptionName(option)})", what);
    }

    private void SetRing(int option, tpacket_req3 request) =>
        SyscallException.Check(LibC.setsockopt(Fd, SOL_PACKET, option, &request, (uint)sizeof(tpacket_req3)), $"setsockopt({OptionName(option)})",
            $"block_size {request.tp_block_size} block_nr {request.tp_block_nr} frame_size {request.tp_frame_size} frame_nr {request.tp_frame_nr}");

    private static string OptionName(int option) => option switch
    {
        PACKET_VERSION => nameof(PACKET_VERSION),
        PACKET_RESERVE => nameof(PACKET_RESERVE),
        PACKET_RX_RING => nameof(PACKET_RX_RING),
        PACKET_TX_RING => nameof(PACKET_TX_RING),
        PACKET_LOSS => nameof(PACKET_LOSS),
        PACKET_QDISC_BYPASS => nameof(PACKET_QDISC_BYPASS),
        PACKET_IGNORE_OUTGOING => nameof(PACKET_IGNORE_OUTGOING),
        PACKET_FANOUT => nameof(PACKET_FANOUT),
        _ => $"option {option}",
    };

    public void Dispose()
    {
        Rx = null;
        Tx = null;
        if (mapping != null)
        {
            _ = LibC.munmap(mapping, (Tmds.Linux.size_t)mappingSize);
            mapping = null;
        }
        if (Fd >= 0)
        {
            _ = LibC.close(Fd);
            Fd = -1;
        }
    }

    public override string ToString() => $"AF_PACKET socket (fd {Fd}, ifindex {Ifindex})";

    internal static int HeaderLength => TPACKET_ALIGN(Marshal.SizeOf<tpacket3_hdr>());
}
