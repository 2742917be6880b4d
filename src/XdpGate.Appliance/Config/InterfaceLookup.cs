using System.Globalization;

namespace XdpGate.Appliance.Config;

/// <summary>Interface indexes from /sys/class/net (readable without root), for validating and compiling configs.</summary>
public static class InterfaceLookup
{
    /// <summary>The interface's ifindex, or null when no interface has that name.</summary>
    public static uint? Ifindex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        // Interface names are at most 15 bytes and never contain '/' or whitespace; anything else is not a name to look up.
        if (name.Length is 0 or > 15 || name is "." or ".." || name.Any(c => c == '/' || char.IsWhiteSpace(c)))
            return null;
        var path = $"/sys/class/net/{name}/ifindex";
        try
        {
            return uint.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
