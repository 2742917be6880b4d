using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XdpGate.Appliance.Builtins.Firewall;

/// <summary>
/// An IPv4 or IPv6 prefix, the address held as a big-endian number in the low <see cref="Bits"/> bits of a UInt128
/// (so containment is a shift and compare). Host bits past the length are always zero.
/// </summary>
public readonly record struct IpPrefix(bool IsV6, UInt128 Address, int Length)
{
    public int Bits => IsV6 ? 128 : 32;

    public bool Contains(bool isV6, UInt128 address) =>
        isV6 == IsV6 && (Length == 0 || (address ^ Address) >> (Bits - Length) == 0);

    /// <summary>Every address of <paramref name="other"/> is in this prefix.</summary>
    public bool Covers(IpPrefix other) => other.Length >= Length && Contains(other.IsV6, other.Address);

    /// <summary>"10.0.0.0/8", "2001:db8::/32", or a bare address (a host prefix). Null and an error when it is not one.</summary>
    public static IpPrefix? Parse(string text, out string? error)
    {
        error = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var ip) || !(addressText.Contains(':', StringComparison.Ordinal) || IsDottedQuad(addressText)))
        {
            error = $"'{text}' is not an IPv4 or IPv6 address or prefix";
            return null;
        }
        var isV6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        var bits = isV6 ? 128 : 32;
        var length = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out length) || length > bits))
        {
            error = $"'{text}': the prefix length must be 0..{bits} for {(isV6 ? "IPv6" : "IPv4")}";
            return null;
        }
        var address = ToNumber(ip.GetAddressBytes());
        var hostMask = length == bits ? UInt128.Zero : (UInt128.One << (bits - length)) - 1;
        if ((address & hostMask) != 0)
        {
            error = $"'{text}' has bits set past /{length}";
            return null;
        }
        return new IpPrefix(isV6, address, length);
    }

    /// <summary>Four decimal parts: IPAddress also takes inet_aton's short forms ("198.18.0" is 198.18.0.0), which in a rule are a typo.</summary>
    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));
    }

    public static UInt128 ToNumber(ReadOnlySpan<byte> address) => address.Length == 4
        ? BinaryPrimitives.ReadUInt32BigEndian(address)
        : BinaryPrimitives.ReadUInt128BigEndian(address);

    /// <summary>The address in network order, 4 or 16 bytes, as an LPM key's data.</summary>
    public void WriteAddress(Span<byte> destination)
    {
        if (IsV6)
            BinaryPrimitives.WriteUInt128BigEndian(destination, Address);
        else
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Address);
    }

    public override string ToString()
    {
        var bytes = new byte[IsV6 ? 16 : 4];
        WriteAddress(bytes);
        return $"{new IPAddress(bytes)}/{Length}";
    }
}
