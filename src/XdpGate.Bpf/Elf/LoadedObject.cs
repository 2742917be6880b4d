using System.Text.RegularExpressions;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// An object after load: its maps created (global data holding its initial values, program arrays holding their
/// initial programs) and every program validated and bound to them. Disposing frees the maps.
/// </summary>
public sealed partial class LoadedObject : IDisposable
{
    private readonly BpfMap[] maps;
    private int disposed;

    private LoadedObject(BpfObject source, BpfMap[] maps, Dictionary<string, BpfProgram> programs, IReadOnlyList<string> kept)
    {
        Object = source;
        this.maps = maps;
        Maps = maps.ToDictionary(m => m.Name);
        Programs = programs;
        Kept = kept;
    }

    public BpfObject Object { get; }

    /// <summary>Maps by name: C names, and section names (".rodata", ".data", ".bss", ...) for global data.</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps { get; }

    /// <summary>Programs by C function name.</summary>
    public IReadOnlyDictionary<string, BpfProgram> Programs { get; }

    /// <summary>The maps this load took over from an earlier one instead of creating them, by name.</summary>
    public IReadOnlyList<string> Kept { get; }

    internal static LoadedObject Create(BpfObject source, int possibleCpus, byte[][] initialData, VerificationLevel verification,
        IReadOnlyDictionary<string, BpfMap>? reuse)
    {
        var maps = new List<BpfMap>();
        var kept = new List<string>();
        var zeroKey = new byte[4];
        try
        {
            for (var i = 0; i < source.Maps.Count; i++)
            {
                var declared = source.Maps[i];
                if (Reusable(declared, possibleCpus, reuse) is { } earlier)
                {
                    maps.Add(earlier.AddOwner());
                    kept.Add(declared.Name);
                    continue;
                }
                var map = MapFactory.Create(declared.Definition, possibleCpus);
                maps.Add(map);
                if (declared.Kind == ObjectMapKind.GlobalData)
                {
                    var status = map.Update(zeroKey, initialData[i]);
                    if (status != 0)
                        throw new BpfLoadException($"map '{declared.Name}': writing its initial value failed ({ErrnoText.Name(-status)})");
                    if (declared.FrozenOnLoad && (status = map.Freeze()) != 0)
                        throw new BpfLoadException($"map '{declared.Name}': freezing it failed ({ErrnoText.Name(-status)})");
                }
            }

            var programs = new Dictionary<string, BpfProgram>();
            foreach (var program in source.Programs)
            {
                try
                {
                    programs[program.Name] = BpfProgram.Load(program.Instructions.ToArray(), new ProgramOptions
                    {
                        Name = program.Name,
                        Type = program.Type,
                        Maps = maps,
                        LineInfo = program.LineInfo,
                        GlobalFunctions = program.GlobalFunctions,
                        CorePoisons = program.CorePoisons,
                        Verification = verification,
                    });
                }
                catch (BpfLoadException e)
                {
                    throw new BpfLoadException($"program '{program.Name}' (section '{program.Section}'): {WithSourceLocation(e.Message, program)}", e);
                }
            }

            for (var i = 0; i < source.Maps.Count; i++)
            {
                if (source.Maps[i].ProgramSlots.Count > 0 && maps[i] is not ProgArrayMap)
                    throw new BpfLoadException($"map '{source.Maps[i].Name}': has initial program slots but is {maps[i].Type}");
                foreach (var slot in source.Maps[i].ProgramSlots)
                {
                    var status = ((ProgArrayMap)maps[i]).SetProgram(slot.Index, programs[slot.Program]);
                    if (status != 0)
                        throw new BpfLoadException($"map '{source.Maps[i].Name}': putting program '{slot.Program}' in slot {slot.Index} failed ({ErrnoText.Name(-status)}; a program array holds programs of one type)");
                }
            }
            return new LoadedObject(source, [.. maps], programs, kept);
        }
        catch
        {
            foreach (var map in maps)
                map.Dispose();
            throw;
        }
    }

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
