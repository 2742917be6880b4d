using XdpGate.Appliance.Builtins;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.MapData;
using XdpGate.Appliance.Objects;
using XdpGate.Bpf;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Service;

/// <summary>A map of a built program and the entries the config wrote into it before the first packet.</summary>
public sealed record BuiltMap(BpfMap Map, int Entries);

/// <summary>What reading and building a config file gave: the program (null when anything is wrong) and every problem.</summary>
public sealed record BuildResult(BuiltProgram? Program, ConfigDiagnostics Diagnostics);

/// <summary>
/// A config's program, built once per (re)load and completely, not yet running: opened (a built-in's embedded object,
/// or the config's object or C file through <see cref="ObjectFiles"/>), linked, verified, its maps created and filled
/// (a built-in writes them from its section; an object takes its `.rodata` values and its maps file). `check` prints
/// it, `run` runs it, and a reload builds the next one while this one serves: everything that can fail fails here,
/// before a running appliance changes anything. Disposing frees its maps.
/// </summary>
public sealed class BuiltProgram : IDisposable
{
    private readonly LoadedObject? loaded;

    private BuiltProgram(AppConfig config, BpfProgram program, IReadOnlyDictionary<string, BpfMap> maps, LoadedObject? loaded,
        IReadOnlyDictionary<string, int> written)
    {
        Config = config;
        Program = program;
        Maps = maps;
        this.loaded = loaded;
        Contents = loaded is null
            ? [.. maps.Values.Select(m => new BuiltMap(m, 0))]
            : [.. loaded.Object.Maps.Where(m => maps.ContainsKey(m.Name)).Select(m => new BuiltMap(maps[m.Name],
                written.TryGetValue(m.Name, out var n) ? n : m.Kind == ObjectMapKind.GlobalData ? 1 : m.ProgramSlots.Count))];
    }

    public AppConfig Config { get; }

    /// <summary>The program the workers run.</summary>
    public BpfProgram Program { get; }

    /// <summary>Every map of the program's object, by name.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps { get; }

    /// <summary>
    /// The maps in the object's order, each with the entries the config wrote (global data and program arrays their
    /// own); a map the engine could not create, which no loaded program uses, is not among them.
    /// </summary>
    public IReadOnlyList<BuiltMap> Contents { get; }

    /// <summary>
    /// The object's programs that did not load, in object order, each with why: a type XdpGate does not run (a tp_btf
    /// or tc sibling), or its refusal. Empty for a built-in.
    /// </summary>
    public IEnumerable<(string Program, string Why)> ProgramsNotLoaded => loaded is null ? []
        : loaded.Object.Programs.Where(p => !loaded.Programs.ContainsKey(p.Name))
            .Select(p => (p.Name, loaded.Refused.TryGetValue(p.Name, out var refusal) ? $"refused: {refusal}" : loaded.Unloaded[p.Name]));

    /// <summary>The maps taken over from the program this one replaced (its state lives on), by name.</summary>
    public IReadOnlyList<string> Kept => loaded?.Kept ?? [];

    /// <summary>The built-in this is, with its section; null for an object.</summary>
    public IBuiltinConfig? Builtin => Config.Program.Builtin;

    /// <summary>Per-CPU map slots: one per worker, and at least one per CPU of the machine (a program may ask for its CPU).</summary>
    public static int PossibleCpus(AppConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Math.Max(config.Workers.Cpus.Count, Environment.ProcessorCount);
    }

    /// <summary>Reads and checks the config file <paramref name="path"/>, then builds its program: what `check` prints.</summary>
    public static BuildResult Read(string path, Func<string, uint?>? interfaces = null, bool requireInterfaces = true)
    {
        var read = ConfigReader.ReadFile(path, interfaces, requireInterfaces);
        return new BuildResult(read.Config is { } config ? Build(config, read.Diagnostics) : null, read.Diagnostics);
    }

    /// <summary>
    /// Builds the program of a valid config. An object program keeps the maps of <paramref name="previous"/> (the one
    /// serving) that it declares alike, so its state (flow tables, counters) survives a reload; the maps its maps file
    /// fills are the config's and are made anew, so they switch with the program, all at once. Returns null after
    /// adding to <paramref name="diagnostics"/> every problem found, at its position in the config.
    /// </summary>
    public static BuiltProgram? Build(AppConfig config, ConfigDiagnostics diagnostics, BuiltProgram? previous = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var program = config.Program;
        if (program.Builtin is { } builtin)
            return BuildBuiltin(config, builtin, diagnostics);
        if (program.Object is not { } path)
        {
            diagnostics.Error(program.ObjectAt, "the program has neither a built-in nor an object");
            return null;
        }
        BpfObject obj;
        try
        {
            obj = ObjectFiles.Open(path);
        }
        catch (BpfLoadException e)
        {
            diagnostics.Error(program.ObjectAt, $"program object: {e.Message}");
            return null;
        }
        var settings = Settings(obj, program, diagnostics, out var mapsJson, out var configMaps);
        if (settings is null)
            return null;
        LoadedObject loaded;
        try
        {
            var reuse = previous?.loaded?.Maps.Where(m => !configMaps.Contains(m.Key)).ToDictionary();
            loaded = obj.Load(PossibleCpus(config), settings, reuse: reuse, program: program.Name);
        }
        catch (BpfLoadException e)
        {
            diagnostics.Error(program.ObjectAt, $"program: {e.Message}");
            return null;
        }
        try
        {
            var written = mapsJson is null ? new Dictionary<string, int>() : MapsInit.Apply(mapsJson, program.MapsFile!, loaded.Maps, loaded.Programs);
            return new BuiltProgram(config, ObjectFiles.Select(loaded, program.Name), loaded.Maps, loaded, written);
        }
        catch (FormatException e)
        {
            loaded.Dispose();
            diagnostics.Error(program.MapsAt, e.Message);
            return null;
        }
        catch (BpfLoadException e)
        {
            loaded.Dispose();
            diagnostics.Error(program.ObjectAt, $"program: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// A program made in memory (benchmarks and tests that generate their programs) as the appliance's program for
    /// <paramref name="config"/>. Its maps stay its maker's: disposing the result frees nothing.
    /// </summary>
    public static BuiltProgram Generated(AppConfig config, BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(program);
        return new BuiltProgram(config, program, program.Maps.DistinctBy(m => m.Name).ToDictionary(m => m.Name), null, new Dictionary<string, int>());
    }

    private static BuiltProgram? BuildBuiltin(AppConfig config, IBuiltinConfig builtin, ConfigDiagnostics diagnostics)
    {
        LoadedObject loaded;
        try
        {
            loaded = builtin.Open().Load(PossibleCpus(config));
        }
        catch (BpfLoadException e)
        {
            diagnostics.Error(config.Program.BuiltinAt, $"the built-in {builtin.Builtin} does not load: {e.Message}");
            return null;
        }
        try
        {
            var written = builtin.WriteMaps(loaded.Maps);
            return new BuiltProgram(config, loaded.Programs[builtin.Program], loaded.Maps, loaded, written);
        }
        catch (BuiltinConfigException e)
        {
            loaded.Dispose();
            diagnostics.Error(config.Program.BuiltinAt, $"the {builtin.Builtin} section does not fit its program: {e.Message}");
            return null;
        }
    }

    /// <summary>The object's `.rodata` values, after checking the program's name, every setting and the maps file; null when any is wrong.</summary>
    private static Dictionary<string, byte[]>? Settings(BpfObject obj, ProgramConfig program, ConfigDiagnostics diagnostics,
        out string? mapsJson, out IReadOnlyList<string> configMaps)
    {
        var errors = diagnostics.Items.Count;
        mapsJson = null;
        configMaps = [];
        if (program.Name is { } name)
        {
            var named = obj.FindProgram(name);
            if (named is null)
                diagnostics.Error(program.NameAt, $"{program.ObjectText} has no program or section '{name}' (programs: {string.Join(", ", obj.Programs.Select(p => p.Name))})");
            else if (named.NotLoadable is { } why)
                diagnostics.Error(program.NameAt, $"{program.ObjectText}: program '{named.Name}' cannot run here: {why}");
        }
        var rodata = new Dictionary<string, byte[]>();
        foreach (var setting in program.Rodata)
        {
            var variable = obj.RodataVariables.FirstOrDefault(v => v.Name == setting.Variable);
            if (variable is null)
            {
                diagnostics.Error(setting.VariableAt, $"no read-only global '{setting.Variable}' in {program.ObjectText} (rodata: {string.Join(", ", obj.RodataVariables.Select(v => v.Name))})");
                continue;
            }
            try
            {
                rodata[setting.Variable] = RodataValues.Parse(setting.Value, variable);
            }
            catch (FormatException e)
            {
                diagnostics.Error(setting.ValueAt, e.Message);
            }
        }
        if (program.MapsFile is { } file)
        {
            try
            {
                mapsJson = File.ReadAllText(file);
                configMaps = MapsInit.MapNames(mapsJson, file);
            }
            catch (FileNotFoundException)
            {
                diagnostics.Error(program.MapsAt, $"map contents file '{file}' does not exist");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                diagnostics.Error(program.MapsAt, $"map contents file '{file}' cannot be read: {e.Message}");
            }
            catch (FormatException e)
            {
                diagnostics.Error(program.MapsAt, e.Message);
            }
        }
        return diagnostics.Items.Skip(errors).Any(d => d.Severity == Severity.Error) ? null : rodata;
    }

    public void Dispose() => loaded?.Dispose();
}

/// <summary>A config that cannot be set up (invalid, or its program, ports or workers fail); the message names the config and the cause.</summary>
public sealed class ConfigBuildException : Exception
{
    public ConfigBuildException(string message) : base(message)
    {
    }

    public ConfigBuildException(string message, Exception inner) : base(message, inner)
    {
    }
}
