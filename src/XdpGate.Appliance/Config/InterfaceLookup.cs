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

    /// <summary>
    /// The ifindex of <paramref name="port"/>'s interface <paramref name="iface"/>, checked as running it needs: present
    /// here (when it is not, an error if <paramref name="require"/>, else a warning, as the config may be for another
    /// machine) and, for AF_XDP, with an RX queue for each of the <paramref name="workers"/>.
    /// </summary>
    internal static uint? Check(ConfigDiagnostics diagnostics, ConfigPosition at, string port, PortDriver driver, string iface, int workers,
        Func<string, uint?> interfaces, bool require)
    {
        var ifindex = interfaces(iface);
        if (ifindex is null && require)
            diagnostics.Error(at, $"port '{port}': no interface named '{iface}' (see /sys/class/net)");
        else if (ifindex is null)
            diagnostics.Warning(at, $"port '{port}': no interface named '{iface}' here (see /sys/class/net); running this config needs it");
        // Each worker owns one queue of every port; AF_XDP binds one socket per RX queue.
        if (driver == PortDriver.Afxdp && RxQueues(iface) is { } rx && rx < workers)
            diagnostics.Error(at, $"port '{port}': interface '{iface}' has {rx} RX queue(s), fewer than the {workers} worker(s) that each need one (AF_XDP binds one socket per queue)");
        return ifindex;
    }

    // Interface names are at most 15 bytes and never contain '/' or whitespace; anything else is not a name to look up.
    private static bool IsName(string name) =>
        name.Length is > 0 and <= 15 && name is not ("." or "..") && !name.Any(c => c == '/' || char.IsWhiteSpace(c));
}
