using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Testing.Fixtures;

/// <summary>
/// An object's maps and programs in our engine, set up like <see cref="KernelObjectLoad"/> sets them up in the
/// kernel: maps from MapFactory (per-CPU maps with a slot per possible CPU), programs from BpfProgram.Load.
/// </summary>
public sealed class EngineObjectLoad : IObjectSetup, IDisposable
{
    private readonly BpfMap[] maps;
    private readonly Dictionary<string, BpfProgram> programs = new(StringComparer.Ordinal);

    public EngineObjectLoad(IReadOnlyList<MapDefinition> definitions, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        maps = [.. definitions.Select(d => MapFactory.Create(d, possibleCpus))];
    }

    public IReadOnlyList<BpfMap> Maps => maps;

    public BpfProgram Program(string name) => programs.TryGetValue(name, out var program)
        ? program
        : throw new ArgumentException($"no program '{name}' is loaded; loaded: {string.Join(", ", programs.Keys)}", nameof(name));

    public void Update(int map, byte[] key, byte[] value)
    {
        var result = maps[map].Update(key, value);
        if (result != 0)
            throw new InvalidOperationException($"engine map '{maps[map].Name}': update of key {Convert.ToHexString(key)} failed with {ErrnoText.Name(result)}");
    }

    public void Freeze(int map)
    {
        var result = maps[map].Freeze();
        if (result != 0)
            throw new InvalidOperationException($"engine map '{maps[map].Name}': freezing failed with {ErrnoText.Name(result)}");
    }

    /// <param name="globalFunctions">Functions verified on their own from their prototypes, as the kernel does (none: all inline).</param>
    /// <param name="corePoisons">Instructions poisoned for unresolved CO-RE relocations (<see cref="ObjectProgram.CorePoisons"/>).</param>
    public void Load(string name, bpf_insn[] instructions, bpf_prog_type type = bpf_prog_type.BPF_PROG_TYPE_XDP,
        IReadOnlyList<GlobalFunction>? globalFunctions = null, IReadOnlyDictionary<int, string>? corePoisons = null) =>
        programs.Add(name, BpfProgram.Load(instructions, new ProgramOptions
        {
            Name = name, Type = type, Maps = maps, GlobalFunctions = globalFunctions ?? [], CorePoisons = corePoisons ?? new Dictionary<int, string>(),
        }));

    public void Load(BpfObject obj, ObjectProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        Load(program.Name, [.. program.Instructions], program.Type, program.GlobalFunctions, program.CorePoisons);
    }

    public void SetTailCall(int map, uint slot, string program)
    {
        var result = ((ProgArrayMap)maps[map]).SetProgram(slot, Program(program));
        if (result != 0)
            throw new InvalidOperationException($"engine prog array '{maps[map].Name}': slot {slot} refused {program} with {ErrnoText.Name(result)}");
    }

    public void Dispose()
    {
        foreach (var map in maps)
            map.Dispose();
    }
}
