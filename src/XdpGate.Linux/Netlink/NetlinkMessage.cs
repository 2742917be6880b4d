using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using static XdpGate.Linux.Netlink.netlink;

namespace XdpGate.Linux.Netlink;

/// <summary>Builds one netlink request: header, fixed part, then attributes (nested ones closed in order).</summary>
public sealed class NetlinkMessageBuilder
{
    private readonly List<byte> bytes = [];
    private readonly Stack<int> nests = new();

    public NetlinkMessageBuilder(ushort type, ushort flags)
    {
        Append(new nlmsghdr { nlmsg_type = type, nlmsg_flags = flags });
    }

    /// <summary>Appends a struct (the fixed part after the header), padded to NLMSG_ALIGNTO.</summary>
    public NetlinkMessageBuilder Append<T>(T value) where T : unmanaged
    {
        bytes.AddRange(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
        Pad();
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var header = new nlattr { nla_len = (ushort)(NLA_HDRLEN + payload.Length), nla_type = type };
        bytes.AddRange(MemoryMarshal.AsBytes(new ReadOnlySpan<nlattr>(in header)));
        bytes.AddRange(payload);
        Pad();
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, uint value) => Attribute(type, BitConverter.GetBytes(value));

    public NetlinkMessageBuilder Attribute(ushort type, int value) => Attribute(type, BitConverter.GetBytes(value));

    /// <summary>A NUL-terminated string attribute.</summary>
    public NetlinkMessageBuilder Attribute(ushort type, string value) => Attribute(type, Encoding.UTF8.GetBytes(value + "\0"));

    public NetlinkMessageBuilder BeginNested(ushort type)
    {
        nests.Push(bytes.Count);
        return Attribute((ushort)(type | NLA_F_NESTED), []);
    }

    public NetlinkMessageBuilder EndNested()
    {
        var start = nests.Pop();
        var length = (ushort)(bytes.Count - start);
        bytes[start] = (byte)length;
        bytes[start + 1] = (byte)(length >> 8);
        return this;
    }

    /// <summary>The finished message with nlmsg_len and nlmsg_seq filled in.</summary>
    public byte[] Build(uint sequence)
    {
        if (nests.Count != 0)
            throw new InvalidOperationException($"{nests.Count} nested attribute(s) not closed");
        var message = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), sequence);
        return message;
    }

    private void Pad()
    {
        while (bytes.Count % NLMSG_ALIGNTO != 0)
            bytes.Add(0);
    }
}

/// <summary>Walks netlink attributes (type, payload); nested attributes are walked again from their payload.</summary>
public static class NetlinkAttributes
{
    /// <summary>Type (NLA_F_NESTED and NLA_F_NET_BYTEORDER cleared) and payload of each attribute in <paramref name="buffer"/>.</summary>
    public static List<(ushort Type, byte[] Payload)> Parse(ReadOnlySpan<byte> buffer)
    {
        var attributes = new List<(ushort, byte[])>();
        var offset = 0;
        while (offset + NLA_HDRLEN <= buffer.Length)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(buffer[offset..]);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(buffer[(offset + 2)..]) & 0x3fff);
            if (length < NLA_HDRLEN || offset + length > buffer.Length)
                break;
            attributes.Add((type, buffer[(offset + NLA_HDRLEN)..(offset + length)].ToArray()));
            offset += NLMSG_ALIGN(length);
        }
        return attributes;
    }

    /// <summary>The payload of the first attribute of <paramref name="type"/>, or null.</summary>
    public static byte[]? Find(List<(ushort Type, byte[] Payload)> attributes, ushort type)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        foreach (var (t, payload) in attributes)
        {
            if (t == type)
                return payload;
        }
        return null;
    }
}
