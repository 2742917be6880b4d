using System.Text.RegularExpressions;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// An object after load: its maps created (global data holding its initial values, program arrays holding their
/// initial programs) and its programs validated and bound to them. As libbpf loads an object: every map is created
/// (one whose type the engine lacks is left out, refusing the programs that use it), and the programs that load are the
/// ones XdpGate runs (XDP, socket filters); the others (tp_btf, tc, kprobe, ...) stay unloaded. A program that cannot
/// load is refused alone, naming why, and its siblings load; only a program asked for by name must load.
/// Disposing frees the maps.
/// </summary>
public sealed partial class LoadedObject : IDisposable
{
    private readonly BpfMap[] maps;
    private int disposed;

    private LoadedObject(BpfObject source, BpfMap[] maps, Dictionary<string, BpfProgram> programs, IReadOnlyList<string> kept,
        Dictionary<string, string> refused, Dictionary<string, string> unloaded, Dictionary<string, string> mapsNotCreated)
    {
        Object = source;
        this.maps = maps;
        Maps = maps.ToDictionary(m => m.Name);
        Programs = programs;
        Kept = kept;
        Refused = refused;
        Unloaded = unloaded;
        MapsNotCreated = mapsNotCreated;
    }

    public BpfObject Object { get; }

    /// <summary>Maps by name: C names, and section names (".rodata", ".data", ".bss", ...) for global data.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps { get; }

    /// <summary>The loaded programs by C function name.</summary>
    public IReadOnlyDictionary<string, BpfProgram> Programs { get; }

    /// <summary>The maps this load took over from an earlier one instead of creating them, by name.</summary>
    public IReadOnlyList<string> Kept { get; }

    /// <summary>Programs this load tried and could not load, by name, with the reason (naming the program and its section).</summary>
    public IReadOnlyDictionary<string, string> Refused { get; }

    /// <summary>Programs this load left out by design, by name, with why: a type XdpGate does not run.</summary>
    public IReadOnlyDictionary<string, string> Unloaded { get; }

    /// <summary>Maps of a type the engine lacks, by name, with the reason; the programs that use one are refused, the others load.</summary>
    public IReadOnlyDictionary<string, string> MapsNotCreated { get; }

    internal static LoadedObject Create(BpfObject source, int possibleCpus, byte[][] initialData, VerificationLevel verification,
        IReadOnlyDictionary<string, BpfMap>? reuse, string? wanted)
    {
        var (selected, unloaded) = Select(source, wanted);
        var refused = new Dictionary<string, string>();
        foreach (var program in selected.Where(p => p.Refusal is not null).ToList())
        {
            refused[program.Name] = Describe(program, program.Refusal!);
            selected.Remove(program);
        }

        var maps = new BpfMap?[source.Maps.Count];
        var kept = new List<string>();
        var notCreated = new Dictionary<string, string>();
        var zeroKey = new byte[4];
        try
        {
            for (var i = 0; i < source.Maps.Count; i++)
            {
                var declared = source.Maps[i];
                if (Reusable(declared, possibleCpus, reuse) is { } earlier)
                {
                    maps[i] = earlier.AddOwner();
                    kept.Add(declared.Name);
                    continue;
                }
                BpfMap map;
                try
                {
                    map = MapFactory.Create(declared.Definition, possibleCpus);
                }
                catch (BpfLoadException e) when (Enum.IsDefined(declared.Definition.Type))
                {
                    // libbpf creates every map and the kernel knows this type: only the programs that use it are refused.
                    notCreated[declared.Name] = e.Message;
                    continue;
                }
                maps[i] = map;
                if (declared.Kind == ObjectMapKind.GlobalData)
                {
                    var status = map.Update(zeroKey, initialData[i]);
                    if (status != 0)
                        throw new BpfLoadException($"map '{declared.Name}': writing its initial value failed ({ErrnoText.Name(-status)})");
                    if (declared.FrozenOnLoad && (status = map.Freeze()) != 0)
                        throw new BpfLoadException($"map '{declared.Name}': freezing it failed ({ErrnoText.Name(-status)})");
                }
            }

            // Indexes of maps not created stay null: a program using one is refused below, before it loads.
            var bound = Array.ConvertAll(maps, m => m!);
            var programs = new Dictionary<string, BpfProgram>();
            foreach (var program in selected)
            {
                var missing = MapsUsedBy(program).Where(m => (uint)m < (uint)maps.Length && maps[m] is null).Select(m => (int?)m).FirstOrDefault();
                if (missing is { } index)
                {
                    refused[program.Name] = Describe(program, notCreated[source.Maps[index].Name]);
                    continue;
                }
                try
                {
                    programs[program.Name] = BpfProgram.Load(program.Instructions.ToArray(), new ProgramOptions
                    {
                        Name = program.Name,
                        Type = program.Type,
                        Maps = bound,
                        LineInfo = program.LineInfo,
                        GlobalFunctions = program.GlobalFunctions,
                        CorePoisons = program.CorePoisons,
                        Verification = verification,
                    });
                }
                catch (BpfLoadException e)
                {
                    refused[program.Name] = Describe(program, WithSourceLocation(e.Message, program));
                }
            }
            if (programs.Count == 0 && refused.Count > 0)
                throw new BpfLoadException(string.Join("; ", refused.Values));
            if (wanted is not null && refused.TryGetValue(source.ProgramNamed(wanted).Name, out var namedRefusal))
                throw new BpfLoadException(namedRefusal);

            for (var i = 0; i < source.Maps.Count; i++)
            {
                if (source.Maps[i].ProgramSlots.Count > 0 && maps[i] is not ProgArrayMap)
                    throw new BpfLoadException($"map '{source.Maps[i].Name}': has initial program slots but is {maps[i]?.Type}");
                foreach (var slot in source.Maps[i].ProgramSlots)
                {
                    // A slot whose program was not loaded stays empty, as a tail call to it then falls through.
                    if (!programs.TryGetValue(slot.Program, out var target))
                        continue;
                    var status = ((ProgArrayMap)maps[i]!).SetProgram(slot.Index, target);
                    if (status != 0)
                        throw new BpfLoadException($"map '{source.Maps[i].Name}': putting program '{slot.Program}' in slot {slot.Index} failed ({ErrnoText.Name(-status)}; a program array holds programs of one type)");
                }
            }
            return new LoadedObject(source, [.. maps.OfType<BpfMap>()], programs, kept, refused, unloaded, notCreated);
        }
        catch
        {
            foreach (var map in maps)
                map?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The programs to load (every program XdpGate runs) and why the others are left out (their type). A named program
    /// (a C function, else a section, as ip link's <c>sec</c> takes it) must be one XdpGate runs; its siblings are
    /// loaded too when they can be, since tail calls and map contents may name them.
    /// </summary>
    private static (List<ObjectProgram> Selected, Dictionary<string, string> Unloaded) Select(BpfObject source, string? wanted)
    {
        if (wanted is not null && source.ProgramNamed(wanted) is { Runs: false } named)
            throw new BpfLoadException($"program '{named.Name}': {named.NotLoadable}");
        var unloaded = new Dictionary<string, string>();
        var selected = new List<ObjectProgram>();
        foreach (var program in source.Programs)
        {
            if (program.Runs)
                selected.Add(program);
            else
                unloaded[program.Name] = program.NotLoadable!;
        }
        return (selected, unloaded);
    }

    /// <summary>The indexes of the object's maps a linked program refers to.</summary>
    private static IEnumerable<int> MapsUsedBy(ObjectProgram program)
    {
        var instructions = program.Instructions;
        for (var pc = 0; pc < instructions.Count; pc++)
        {
            var insn = instructions[pc];
            if (insn.code != (Opcodes.BPF_LD | Opcodes.BPF_IMM | Opcodes.BPF_DW))
                continue;
            if (insn.src_reg is Opcodes.BPF_PSEUDO_MAP_IDX or Opcodes.BPF_PSEUDO_MAP_IDX_VALUE)
                yield return insn.imm;
            pc++;
        }
    }

    private static string Describe(ObjectProgram program, string reason) => $"program '{program.Name}' (section '{program.Section}'): {reason}";

    /// <summary>
    /// The earlier map to keep for <paramref name="declared"/>, as libbpf reuses a pinned map: same name and the same
    /// definition. Global data is the object's own (its .rodata may differ), and a program array holds the earlier
    /// load's programs, so both are always made anew.
    /// </summary>
    private static BpfMap? Reusable(ObjectMap declared, int possibleCpus, IReadOnlyDictionary<string, BpfMap>? reuse) =>
        reuse is not null && declared.Kind != ObjectMapKind.GlobalData && declared.Definition.Type != bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY
            && reuse.TryGetValue(declared.Name, out var earlier) && earlier.Definition == declared.Definition && earlier.PossibleCpus == possibleCpus
            ? earlier
            : null;

    /// <summary>
    /// Instruction errors start "insn N:" (InstructionValidator.Fail); the C line of instruction N is what the
    /// author of the object can act on, so it is added there.
    /// </summary>
    private static string WithSourceLocation(string message, ObjectProgram program)
    {
        var match = InstructionError().Match(message);
        if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out var pc))
            return message;
        var line = program.LineInfo.LastOrDefault(l => l.InstructionIndex <= pc);
        return line is null ? message : $"insn {pc} ({line.Location}):{message[match.Length..]}";
    }

    [GeneratedRegex(@"^insn (\d+):")]
    private static partial Regex InstructionError();

    public void Dispose()
    {
        // A map kept by a later load has one owner more; disposing twice would take that owner's share.
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        foreach (var map in maps)
            map.Dispose();
    }
}
