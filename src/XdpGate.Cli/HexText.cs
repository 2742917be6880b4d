using System.Globalization;

namespace XdpGate.Cli;

/// <summary>Hex text as the CLI takes it: pairs of hex digits, whitespace anywhere ignored.</summary>
public static class HexText
{
    public static byte[] Parse(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = new List<char>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
                continue;
            if (!char.IsAsciiHexDigit(c))
                throw new CliInputException($"{what}: '{c}' at character {i + 1} is not a hex digit");
            digits.Add(c);
        }
        if (digits.Count % 2 != 0)
            throw new CliInputException($"{what}: odd number of hex digits ({digits.Count}); each byte needs two");
        var bytes = new byte[digits.Count / 2];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = byte.Parse(string.Concat(digits[2 * i], digits[2 * i + 1]), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return bytes;
    }

    public static bool LooksLikeHex(ReadOnlySpan<byte> content)
    {
        foreach (var b in content)
        {
            if (!char.IsAsciiHexDigit((char)b) && !char.IsWhiteSpace((char)b))
                return false;
        }
        return true;
    }

    /// <summary>Lowercase hex, bytes separated by a space.</summary>
    public static string Format(ReadOnlySpan<byte> bytes) =>
        string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
}
