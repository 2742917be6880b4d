using System.Globalization;
using XdpGate.Appliance.MapData;

namespace XdpGate.Cli;

/// <summary>Hex text as the CLI takes and prints it.</summary>
public static class HexText
{
    /// <summary><see cref="HexBytes.Parse"/>, its complaint as the CLI's.</summary>
    public static byte[] Parse(string text, string what)
    {
        try
        {
            return HexBytes.Parse(text, what);
        }
        catch (FormatException e)
        {
            throw new CliInputException(e.Message);
        }
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
