using System.Globalization;

namespace XdpGate.Appliance.Config;

/// <summary>Interface indexes from /sys/class/net (readable without root), for validating and compiling configs.</summary>
public static class InterfaceLookup
{
    /// <summary>The interface's ifindex, or null when no interface has that name.</summary>
    public static uint? Ifindex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsName(name))
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

    /// <summary>How many RX queues the interface has, or null when it cannot be read (no such interface here).</summary>
    public static int? RxQueues(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var path = $"/sys/class/net/{name}/queues";
        if (!IsName(name) || !Directory.Exists(path))
            return null;
        return Directory.GetDirectories(path, "rx-*").Length;
    }

    // Interface names are at most 15 bytes and never contain '/' or whitespace; anything else is not a name to look up.
    private static bool IsName(string name) =>
        name.Length is > 0 and <= 15 && name is not ("." or "..") && !name.Any(c => c == '/' || char.IsWhiteSpace(c));
}
