using XdpGate.Appliance.Builtins;

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

    /// <summary>The ifindex the program sees as ingress_ifindex: the interface's, or, for ports without one, a number the config gives.</summary>
    public uint Ifindex { get; init; }
}

/// <summary>Worker threads: a count (one per CPU from 0), or the CPUs to pin them to.</summary>
public sealed record WorkersConfig(IReadOnlyList<int> Cpus)
{
    public static WorkersConfig Default { get; } = new([0]);
}

/// <summary>Where in a config file a value was written (1-based), for messages; <see cref="None"/> for a config made from flags.</summary>
public readonly record struct ConfigPosition(long Line, long Column)
{
    public static ConfigPosition None => default;
}

/// <summary>A `.rodata` setting as written (`min_ttl: 32`, `--rodata min_ttl=32`): the build parses it against the object.</summary>
public sealed record RodataSetting(string Variable, string Value, ConfigPosition VariableAt = default, ConfigPosition ValueAt = default);

/// <summary>
/// The XDP program: a built-in (<see cref="Builtin"/>, its section read), or an object or C file with values for its
/// read-only globals and a file of initial map contents. Nothing is opened here: the build opens, links, verifies and
/// fills it once (<see cref="Service.BuiltProgram"/>) and reports its problems at the positions kept here.
/// </summary>
public sealed record ProgramConfig
{
    /// <summary>The built-in program and its section; null for an object.</summary>
    public IBuiltinConfig? Builtin { get; init; }

    /// <summary>Where the built-in is named or configured, for what its maps cannot hold.</summary>
    public ConfigPosition BuiltinAt { get; init; }

    /// <summary>The object's full path.</summary>
    public string? Object { get; init; }

    /// <summary>The object as the config wrote it, for messages.</summary>
    public string? ObjectText { get; init; }

    public ConfigPosition ObjectAt { get; init; }

    /// <summary>The program of the object to run; null runs its first.</summary>
    public string? Name { get; init; }

    public ConfigPosition NameAt { get; init; }

    public IReadOnlyList<RodataSetting> Rodata { get; init; } = [];

    /// <summary>Initial map contents (the JSON of `prog run --maps-init`), full path.</summary>
    public string? MapsFile { get; init; }

    public ConfigPosition MapsAt { get; init; }

    /// <summary>An object or C file to run, with nothing set.</summary>
    public static ProgramConfig ForObject(string path) => new() { Object = Path.GetFullPath(path), ObjectText = path };
}

public sealed record ControlConfig(string Socket)
{
    public const string DefaultSocket = "/run/xdpgate.sock";

    public static ControlConfig Default { get; } = new(DefaultSocket);

    /// <summary>No control socket (a config made from flags has none unless asked).</summary>
    public static ControlConfig None { get; } = new("");
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

/// <summary>
/// A whole appliance configuration, every field with its default filled in: read from a file
/// (<see cref="ConfigReader"/>) or made from `run` flags (<see cref="CommandLineConfig"/>); both run the same way.
/// </summary>
/// <param name="Path">The file it was read from; null for a config made from flags, which has no file to reload.</param>
public sealed record AppConfig(
    string? Path,
    IReadOnlyList<PortConfig> Ports,
    WorkersConfig Workers,
    ProgramConfig Program,
    ControlConfig Control,
    LoggingConfig Logging)
{
    /// <summary>Where the config came from, for messages: its file, or the command line.</summary>
    public string Origin => Path ?? "the command line";
}
