using System.Text.Json;
using XdpGate.Appliance.Config;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Builtins;

/// <summary>
/// A program the appliance ships, as a plug-in of the pipeline: a config runs it with <c>program: {builtin: NAME}</c>
/// and configures it in its own top-level section NAME. The built-in reads and checks that section; what it read
/// (<see cref="IBuiltinConfig"/>) brings its compiled C program and writes its maps at each (re)load; what serves
/// (<see cref="IBuiltinControl"/>) answers its control verbs. The firewall is the first; a load balancer and a router
/// follow. One interface per lifetime: the plug-in, one load of its section, one published program.
/// </summary>
internal interface IBuiltin
{
    /// <summary>Its name in <c>program.builtin</c>, and the key of its config section.</summary>
    string Name { get; }

    /// <summary>The verbs its control answers (<c>rules</c>), whether or not it is serving.</summary>
    IReadOnlyList<string> Verbs { get; }

    /// <summary>
    /// Reads its section (<paramref name="section"/> null when the config has none: every default), reporting each
    /// problem at its line in <paramref name="nodes"/>' diagnostics. <paramref name="ports"/> are the config's.
    /// </summary>
    IBuiltinConfig Read(YamlNodes nodes, YamlNode? section, IReadOnlyList<PortConfig> ports);
}

/// <summary>A built-in's config section, read and checked: what one build of the program loads and writes.</summary>
public interface IBuiltinConfig
{
    /// <summary>The built-in's name (<c>program.builtin</c>).</summary>
    string Builtin { get; }

    /// <summary>The program of <see cref="Open"/>'s object the workers run.</summary>
    string Program { get; }

    /// <summary>Its section as `check` shows it: ("rules", "5"), ("default", "pass"), ...</summary>
    IReadOnlyList<KeyValuePair<string, string>> Settings { get; }

    /// <summary>Its C program, compiled and embedded in the appliance.</summary>
    BpfObject Open();

    /// <summary>
    /// Writes this section into the maps of a fresh load of <see cref="Open"/>'s object and returns how many entries
    /// it wrote into each, by map name.
    /// </summary>
    /// <exception cref="BuiltinConfigException">The section does not fit the program's maps.</exception>
    IReadOnlyDictionary<string, int> WriteMaps(IReadOnlyDictionary<string, BpfMap> maps);

    /// <summary>
    /// The control of the program these <paramref name="maps"/> belong to, once it serves. <paramref name="previous"/>
    /// is what served before it (its maps final: no worker runs it any more), whose state it may carry on (counters).
    /// </summary>
    IBuiltinControl Serve(IReadOnlyDictionary<string, BpfMap> maps, IBuiltinControl? previous);
}

/// <summary>A serving built-in as the control plane sees it: its verbs, its counters, its end-of-run report.</summary>
public interface IBuiltinControl
{
    /// <summary>The built-in's name.</summary>
    string Builtin { get; }

    /// <summary>Answers one of its verbs (<see cref="IBuiltin.Verbs"/>) with a JSON value.</summary>
    /// <exception cref="Control.ControlRequestException">The verb or its arguments are not the built-in's.</exception>
    void Answer(string verb, IReadOnlyList<string> args, Utf8JsonWriter json);

    /// <summary>Its counters for `xdpgate stats`, named "NAME.what".</summary>
    IEnumerable<KeyValuePair<string, ulong>> Stats();

    /// <summary>Lines for the end of a run (the firewall's rules with their counters).</summary>
    IEnumerable<string> Report();
}

/// <summary>A built-in's section that its program cannot hold (too many rules, prefixes, ...); the message says which limit.</summary>
public class BuiltinConfigException(string message) : Exception(message);
