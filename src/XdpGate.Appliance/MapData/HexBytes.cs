namespace XdpGate.Appliance.MapData;

/// <summary>Hex as map files, configs, JSON output and the CLI spell bytes: lowercase pairs out; on input an optional 0x, whitespace anywhere.</summary>
public static class HexBytes
{
    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Parses hex, throwing <see cref="FormatException"/> that names <paramref name="what"/> and the offending character.</summary>
    public static byte[] Parse(string? text, string what)
    {
        var source = text ?? "";
        var start = source.TrimStart().StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? source.IndexOf('x', StringComparison.OrdinalIgnoreCase) + 1 : 0;
        var digits = new List<byte>(source.Length);
        for (var i = start; i < source.Length; i++)
        {
            var c = source[i];
            if (char.IsWhiteSpace(c))
                continue;
            if (!char.IsAsciiHexDigit(c))
                throw new FormatException($"{what}: '{c}' at character {i + 1} is not a hex digit");
            digits.Add((byte)(char.IsAsciiDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10));
        }
        if (digits.Count % 2 != 0)
            throw new FormatException($"{what}: odd number of hex digits ({digits.Count}); each byte needs two");
        var bytes = new byte[digits.Count / 2];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)(digits[2 * i] << 4 | digits[2 * i + 1]);
        return bytes;
    }
}
