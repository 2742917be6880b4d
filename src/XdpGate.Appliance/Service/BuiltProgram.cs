using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.MapData;
using XdpGate.Appliance.Objects;
using XdpGate.Bpf;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Service;

/// <summary>
/// A config's program, completely built and not yet running: the built-in firewall with its compiled rule maps,
/// or an object with its `.rodata` overrides and initial map contents (program arrays included). Everything that can
/// fail fails here, before a running appliance changes anything. Disposing frees its maps.
/// </summary>
public sealed class BuiltProgram : IDisposable
{
    private BuiltProgram(AppConfig config, LoadedObject loaded, BpfProgram program)
    {
        Config = config;
        Loaded = loaded;
        Program = program;
    }

    public AppConfig Config { get; }
    public LoadedObject Loaded { get; }
    public BpfProgram Program { get; }

    /// <summary>True when the program is the built-in firewall, whose rules and counters `xdpgate rules` shows.</summary>
    public bool IsFirewall => Config.Program.IsBuiltinFirewall;

    /// <summary>
    /// Builds the program of a validated config with a per-CPU slot for each of <paramref name="possibleCpus"/>. An
    /// object program keeps the maps of <paramref name="previous"/> (the one serving) that it declares alike, so its
    /// state (flow tables, counters) survives a reload; the maps its maps file fills are the config's and are made
    /// anew, so they switch with the program, all at once.
    /// </summary>
    /// <exception cref="ConfigBuildException">The program cannot be built; the message says why.</exception>
    public static BuiltProgram Build(AppConfig config, int possibleCpus, BuiltProgram? previous = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            if (config.Program.IsBuiltinFirewall)
            {
                var loaded = BuiltinFirewall.Load(RuleCompiler.Compile(config.Firewall), possibleCpus);
                return new BuiltProgram(config, loaded, loaded.Programs[FirewallMaps.Program]);
            }
            var objectPath = config.Program.Object ?? throw new ConfigBuildException("the program has neither 'builtin' nor 'object'");
            var mapsJson = config.Program.MapsFile is { } mapsFile ? File.ReadAllText(mapsFile) : null;
            var configMaps = mapsJson is null ? [] : MapsInit.MapNames(mapsJson, config.Program.MapsFile!);
            var reuse = previous?.Loaded.Maps.Where(m => !configMaps.Contains(m.Key)).ToDictionary();
            var own = ObjectFiles.Open(objectPath).Load(possibleCpus, config.Program.Rodata, reuse: reuse);
            try
            {
                if (mapsJson is not null)
                    MapsInit.Apply(mapsJson, config.Program.MapsFile!, own.Maps, own.Programs);
                return new BuiltProgram(config, own, ObjectFiles.Select(own, config.Program.Name));
            }
            catch
            {
                own.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is FirewallCompileException or BpfLoadException or FormatException or IOException)
        {
            throw new ConfigBuildException($"{config.Path}: program: {e.Message}", e);
        }
    }

    public void Dispose() => Loaded.Dispose();
}

/// <summary>A valid config whose program, ports or workers cannot be set up; the message names the config and the cause.</summary>
public sealed class ConfigBuildException : Exception
{
    public ConfigBuildException(string message) : base(message)
    {
    }

    public ConfigBuildException(string message, Exception inner) : base(message, inner)
    {
    }
}
