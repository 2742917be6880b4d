using System.Text.Json;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Objects;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Config;

/// <summary>A map of the plan: its definition and how many entries the config writes into it before the first packet.</summary>
public sealed record PlannedMap(MapDefinition Definition, int Entries);

/// <summary>What a valid config will load: the program, its maps with their initial entry counts, the rule count.</summary>
public sealed record ConfigPlan(string Program, string Source, IReadOnlyList<PlannedMap> Maps, int Rules)
{
    /// <summary>Compiles the config's program (and its firewall rules) without loading anything into a port.</summary>
    public static ConfigPlan Build(AppConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Program.IsBuiltinFirewall)
        {
            var compiled = RuleCompiler.Compile(config.Firewall);
            var entries = compiled.Plan().ToDictionary(p => p.Map, p => p.Entries);
            var obj = BuiltinFirewall.Open();
            return new ConfigPlan(FirewallMaps.Program, "built-in firewall", PlanMaps(obj, entries), config.Firewall.Rules.Count);
        }
        var program = ObjectFiles.Open(config.Program.Object!);
        var name = config.Program.Name ?? program.Programs[0].Name;
        var counts = config.Program.MapsFile is { } file ? CountEntries(File.ReadAllText(file)) : [];
        foreach (var variable in config.Program.Rodata.Keys)
        {
            var section = program.Variables.First(v => v.Name == variable).Section;
            counts[section] = 1;
        }
        return new ConfigPlan(name, config.Program.Object!, PlanMaps(program, counts), 0);
    }

    private static List<PlannedMap> PlanMaps(BpfObject obj, IReadOnlyDictionary<string, int> entries) =>
        [.. obj.Maps.Select(m => new PlannedMap(m.Definition,
            entries.TryGetValue(m.Name, out var n) ? n : m.Kind == ObjectMapKind.GlobalData ? 1 : m.ProgramSlots.Count))];

    private static Dictionary<string, int> CountEntries(string mapsJson)
    {
        using var document = JsonDocument.Parse(mapsJson);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetArrayLength());
    }
}
