namespace XdpGate.Appliance.MapData;

/// <summary>Hex as map files and JSON output spell bytes: lowercase pairs, spaces allowed on input.</summary>
public static class HexBytes
{
    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Parses hex, throwing <see cref="FormatException"/> that names <paramref name="what"/>.</summary>
    public static byte[] Parse(string? text, string what)
    {
        var digits = (text ?? "").Replace(" ", "", StringComparison.Ordinal);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            digits = digits[2..];
        try
        {
            return Convert.FromHexString(digits);
        }
        catch (FormatException)
        {
            throw new FormatException($"{what}: '{text}' is not hex bytes (two hex digits per byte)");
        }
    }
}
