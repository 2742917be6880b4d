using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Appliance.Config;

/// <summary>How a port gets its frames.</summary>
public enum PortDriver
{
    Afxdp,
    Afpacket,
    Pcap,
    Synthetic,
}

/// <summary>
/// One port. <see cref="Interface"/> is required for afxdp and afpacket; <see cref="Pcap"/> for pcap. <see cref="Pass"/>
/// is where XDP_PASS sends a frame: "host" (the kernel stack) or another port's name (an inline pair).
/// </summary>
public sealed record PortConfig(string Name, PortDriver Driver, string? Interface, string? Pcap, int Queues, string Pass)
{
    public const string HostPass = "host";

    /// <summary>The ifindex the program sees as ingress_ifindex: the interface's, or, for ports without one, 0x10000 + position.</summary>
    public uint Ifindex { get; init; }
}

/// <summary>Worker threads: a count (one per CPU from 0), or the CPUs to pin them to.</summary>
public sealed record WorkersConfig(IReadOnlyList<int> Cpus)
{
    public static WorkersConfig Default { get; } = new([0]);
}

/// <summary>The XDP program: the built-in firewall (driven by <see cref="AppConfig.Firewall"/>) or an object or C file.</summary>
public sealed record ProgramConfig(string? Builtin, string? Object, string? Name, IReadOnlyDictionary<string, byte[]> Rodata, string? MapsFile)
{
    public const string Firewall = "firewall";

    public static ProgramConfig Default { get; } = new(Firewall, null, null, new Dictionary<string, byte[]>(), null);

    public bool IsBuiltinFirewall => Builtin == Firewall;
}

public sealed record ControlConfig(string Socket)
{
    public const string DefaultSocket = "/run/xdpgate.sock";

    public static ControlConfig Default { get; } = new(DefaultSocket);
}

public enum LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

public sealed record LoggingConfig(LogLevel Level, bool Json)
{
    public static LoggingConfig Default { get; } = new(LogLevel.Info, false);
}

/// <summary>A whole appliance configuration, every field with its default filled in.</summary>
public sealed record AppConfig(
    string Path,
    IReadOnlyList<PortConfig> Ports,
    WorkersConfig Workers,
    ProgramConfig Program,
    FirewallPolicy Firewall,
    ControlConfig Control,
    LoggingConfig Logging);
