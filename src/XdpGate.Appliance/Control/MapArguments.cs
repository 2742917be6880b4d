using System.Buffers.Binary;
using System.Globalization;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Control;

/// <summary>A control request that cannot be served as given; the message says what is wrong, and goes back to the client.</summary>
public sealed class ControlRequestException(string message) : Exception(message);

/// <summary>
/// Keys and values written as bpftool writes them: `key hex 0a 00 00 01` (hex bytes), `key 10 0 0 1` (bytes in
/// decimal, or 0x-prefixed hex), or typed `key u32 167772161` (u8/u16/u32/u64, little-endian as the program reads it).
/// </summary>
internal static class MapArguments
{
    private static readonly Dictionary<string, int> Widths = new() { ["u8"] = 1, ["u16"] = 2, ["u32"] = 4, ["u64"] = 8 };

    /// <summary>Reads the bytes after <paramref name="word"/> ("key" or "value") up to the next keyword, of exactly <paramref name="size"/> bytes.</summary>
    public static byte[] Read(IReadOnlyList<string> args, ref int at, string word, int size, string map)
    {
        if (at >= args.Count || args[at] != word)
            throw new ControlRequestException($"expected '{word}' at argument {at + 1}");
        at++;
        var bytes = new List<byte>();
        if (at < args.Count && Widths.TryGetValue(args[at], out var width))
        {
            var type = args[at++];
            if (at >= args.Count || !ulong.TryParse(args[at], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                || (width < 8 && number >> (width * 8) != 0))
                throw new ControlRequestException($"{word} {type}: expected an unsigned number that fits {width} byte(s)");
            at++;
            var buffer = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, number);
            bytes.AddRange(buffer.AsSpan(0, width).ToArray());
        }
        else
        {
            var hex = at < args.Count && args[at] == "hex";
            if (hex)
                at++;
            for (; at < args.Count && args[at] is not ("key" or "value" or "any" or "noexist" or "exist"); at++)
                bytes.Add(Byte(args[at], hex, word));
        }
        if (bytes.Count != size)
            throw new ControlRequestException($"{word} is {bytes.Count} bytes; map '{map}' has {word}_size {size}");
        return [.. bytes];
    }

    public static ulong Flags(IReadOnlyList<string> args, int at) => (at < args.Count ? args[at] : "any") switch
    {
        "any" => MapFlags.BPF_ANY,
        "noexist" => MapFlags.BPF_NOEXIST,
        "exist" => MapFlags.BPF_EXIST,
        var other => throw new ControlRequestException($"'{other}' is not an update flag (any, noexist, exist)"),
    };

    private static byte Byte(string text, bool hex, string word)
    {
        var ok = hex || text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? byte.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new ControlRequestException($"{word}: '{text}' is not a byte{(hex ? " in hex" : " (0..255, or 0x00..0xff)")}");
    }
}
