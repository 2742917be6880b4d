using System.Text.Json;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Control;

/// <summary>What `xdpgate status` shows.</summary>
public sealed record ControlStatus(string Config, string Program, double UptimeSeconds, IReadOnlyList<string> Ports, int Workers);

/// <summary>
/// What the control socket serves, implemented by the running appliance. Calls come from socket threads, concurrently
/// with the data path; implementations read maps and counters (which are safe to read concurrently) and must not
/// block the data path.
/// </summary>
public interface IApplianceControl
{
    ControlStatus Status();

    /// <summary>Named counters (packets per verdict, drops by reason, ...), in display order.</summary>
    IReadOnlyList<KeyValuePair<string, ulong>> Stats();

    /// <summary>The maps of the running program, by name.</summary>
    IReadOnlyDictionary<string, BpfMap> Maps { get; }

    /// <summary>The verbs of the serving built-in (the firewall's `rules`); none when the program is an object.</summary>
    IReadOnlyList<string> BuiltinVerbs { get; }

    /// <summary>Answers one of <see cref="BuiltinVerbs"/> with a JSON value.</summary>
    /// <exception cref="ControlRequestException">The program has no such verb, or the arguments are wrong.</exception>
    void Answer(string verb, IReadOnlyList<string> args, Utf8JsonWriter json);

    /// <summary>Reloads the config: null when the new config is serving, else why the old one still is.</summary>
    string? Reload();

    /// <summary>
    /// Runs one request's work (every call it makes, and its use of the maps it got). An appliance that frees the
    /// maps of a replaced program waits for requests in progress, so a request never touches freed maps.
    /// </summary>
    void Serve(Action request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request();
    }
}
