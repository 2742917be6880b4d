using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using static XdpGate.Linux.Netlink.netlink;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket with extended acks on: sends one request at a time and collects the replies up to the
/// ack, turning an error into a <see cref="SyscallException"/> carrying the kernel's own message when it sent one.
/// It talks to the network namespace of the thread that opened it.
/// </summary>
public sealed unsafe class RouteSocket : IDisposable
{
    private const int ReceiveBufferSize = 1 << 16;
    private const int ReplyTimeoutMs = 5000;
    private readonly int fd;
    private uint sequence;

    public RouteSocket()
    {
        fd = SyscallException.Check(LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE), "socket(AF_NETLINK, NETLINK_ROUTE)");
        var on = 1;
        // Older kernels without extended acks just give the errno.
        _ = LibC.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(int));
        var address = new sockaddr_nl { nl_family = (ushort)LibC.AF_NETLINK };
        if (LibC.bind(fd, (Tmds.Linux.sockaddr*)&address, (uint)sizeof(sockaddr_nl)) < 0)
        {
            var errno = LibC.errno;
            _ = LibC.close(fd);
            throw new SyscallException("bind(AF_NETLINK)", errno);
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> (NLM_F_ACK is added) and returns the payloads of the reply messages before the
    /// ack; <paramref name="what"/> names the request in errors.
    /// </summary>
    public List<(ushort Type, byte[] Payload)> Request(NetlinkMessageBuilder request, string what)
    {
        ArgumentNullException.ThrowIfNull(request);
        var seq = ++sequence;
        var message = request.Build(seq);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(6));
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), (ushort)(flags | NLM_F_ACK));
        fixed (byte* m = message)
        {
            if ((long)LibC.send(fd, m, (Tmds.Linux.size_t)(ulong)message.Length, 0) != message.Length)
                throw new SyscallException("send(netlink)", LibC.errno, what);
        }

        var replies = new List<(ushort, byte[])>();
        var buffer = new byte[ReceiveBufferSize];
        while (true)
        {
            var ready = new Tmds.Linux.pollfd { fd = fd, events = LibC.POLLIN };
            if (LibC.poll(&ready, 1, ReplyTimeoutMs) == 0)
                throw new TimeoutException($"{what}: no netlink reply in {ReplyTimeoutMs} ms");
            long received;
            fixed (byte* b = buffer)
                received = (long)LibC.recv(fd, b, (Tmds.Linux.size_t)(ulong)buffer.Length, 0);
            if (received < 0)
                throw new SyscallException("recv(netlink)", LibC.errno, $"{what}: no reply");
            var offset = 0;
            while (offset + sizeof(nlmsghdr) <= received)
            {
                var header = MemoryMarshal.Read<nlmsghdr>(buffer.AsSpan(offset));
                if (header.nlmsg_len < sizeof(nlmsghdr) || offset + header.nlmsg_len > received)
                    throw new InvalidDataException($"{what}: malformed netlink reply (nlmsg_len {header.nlmsg_len})");
                var body = buffer.AsSpan(offset + sizeof(nlmsghdr), (int)header.nlmsg_len - sizeof(nlmsghdr));
                offset += NLMSG_ALIGN((int)header.nlmsg_len);
                if (header.nlmsg_seq != seq)
                    continue;
                if (header.nlmsg_type == NLMSG_ERROR)
                {
                    var error = MemoryMarshal.Read<nlmsgerr>(body);
                    if (error.error == 0)
                        return replies;
                    throw new SyscallException("netlink", error.error, what, ExtendedAckMessage(header.nlmsg_flags, error, body));
                }
                if (header.nlmsg_type == NLMSG_DONE)
                    return replies;
                replies.Add((header.nlmsg_type, body.ToArray()));
            }
        }
    }

    /// <summary>NLMSGERR_ATTR_MSG of an extended ack, after the echoed request (only its header when NLM_F_CAPPED).</summary>
    private static string? ExtendedAckMessage(ushort flags, nlmsgerr error, ReadOnlySpan<byte> body)
    {
        if ((flags & NLM_F_ACK_TLVS) == 0)
            return null;
        var echoed = (flags & NLM_F_CAPPED) != 0 ? sizeof(nlmsghdr) : NLMSG_ALIGN((int)error.msg.nlmsg_len);
        var start = sizeof(int) + echoed;
        if (start > body.Length)
            return null;
        var text = NetlinkAttributes.Find(NetlinkAttributes.Parse(body[start..]), NLMSGERR_ATTR_MSG);
        return text is null ? null : Encoding.UTF8.GetString(text).TrimEnd('\0');
    }

    public void Dispose() => LibC.close(fd);
}
