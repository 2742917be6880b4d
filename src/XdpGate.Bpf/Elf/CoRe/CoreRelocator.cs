using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Elf.BtfKinds;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>An instruction a CO-RE relocation could not be resolved for, poisoned as libbpf does, and why.</summary>
internal readonly record struct CorePoison(CodeFunction Function, int Local, string Reason);

/// <summary>
/// Applies the object's CO-RE relocations (.BTF.ext core_relo) to its code before linking, as libbpf's
/// bpf_object__relocate_core: each relocation's local access is matched against the candidates of the target BTF
/// that share its type's essential name, every matching candidate must agree, and the instruction's immediate,
/// offset (and load size) or 64-bit immediate is rewritten with the target's value. A field or enumerator the target
/// lacks poisons the instruction into a call of helper 0xbad2310: dead code behind bpf_core_field_exists() is pruned
/// by the verifier, and a reachable one is refused there, naming the relocation.
/// </summary>
internal sealed class CoreRelocator
{
    private readonly Btf local;
    private readonly Func<CoreTarget> targetSource;
    private CoreTarget? target;

    private CoreRelocator(Btf local, Func<CoreTarget> target)
    {
        this.local = local;
        targetSource = target;
    }

    private CoreTarget Target => target ??= targetSource();

    /// <summary>Relocates every record of <paramref name="ext"/> in <paramref name="code"/>; gives the poisoned instructions.</summary>
    public static List<CorePoison> Apply(ElfFile file, CodeSections code, Btf btf, BtfExt ext, Func<CoreTarget> target)
    {
        var relocator = new CoreRelocator(btf, target);
        var poisons = new List<CorePoison>();
        foreach (var (sectionName, records) in ext.CoreRelocations)
        {
            var section = file.FindSection(sectionName)
                ?? throw new BpfLoadException($"'.BTF.ext' core_relo: section '{sectionName}' does not exist");
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                // Code outside every function belongs to no program, as for ELF relocations.
                if (code.FindContaining(section.Index, record.Instruction) is not { } function)
                    continue;
                var where = $"section '{sectionName}': instruction {record.Instruction} (function '{function.Name}'): CO-RE relocation #{i}";
                var local = record.Instruction - function.Start;
                var slots = function.Instructions[local].code == (BPF_LD | BPF_IMM | BPF_DW) ? 2 : 1;
                if (relocator.Relocate(function.Instructions, local, record, where) is { } reason)
                {
                    // Both slots of a poisoned lddw become calls; either may be where the verifier stops.
                    for (var slot = 0; slot < slots; slot++)
                        poisons.Add(new CorePoison(function, local + slot, reason));
                }
            }
        }
        return poisons;
    }

    /// <summary>The poisoned instructions of a linked program, by program counter, with why each is poisoned.</summary>
    public static Dictionary<int, string> PoisonsOf(ObjectProgram program, CodeFunction entry, IEnumerable<CorePoison> poisons)
    {
        var byPc = new Dictionary<int, string>();
        foreach (var poison in poisons)
        {
            int? start = poison.Function == entry ? 0
                : poison.Function.IsSubprogram ? program.Functions.Where(f => f.InstructionIndex > 0 && f.Name == poison.Function.Name).Select(f => (int?)f.InstructionIndex).FirstOrDefault()
                : null;
            if (start is { } at)
                byPc[at + poison.Local] = poison.Reason;
        }
        return byPc;
    }

    /// <summary>Patches one instruction; gives the reason when it was poisoned instead, throws when the relocation is wrong.</summary>
    private string? Relocate(bpf_insn[] instructions, int pc, BtfCoreRecord record, string where)
    {
        var kind = (bpf_core_relo_kind)record.Kind;
        var type = local.Type(record.TypeId, where);
        CoreSpec localSpec;
        try
        {
            localSpec = CoreSpec.Parse(local, record.TypeId, record.Access, kind);
        }
        catch (BpfLoadException e)
        {
            throw new BpfLoadException($"{where}: {kind.Name()} of {Describe(type)}: {e.Message}", e);
        }
        var what = $"{kind.Name()} of {Describe(type)}{localSpec.Path()}";
        where = $"{where}: {what}";

        CoreResult result;
        if (kind == bpf_core_relo_kind.BPF_CORE_TYPE_ID_LOCAL)
        {
            // Nothing to look up: the program asks for its own BTF's id, which the linker may have changed.
            result = new CoreResult { Original = record.TypeId, New = record.TypeId, Validate = false };
        }
        else
        {
            if (type.Name.Length == 0)
                throw new BpfLoadException($"{where}: relocations of anonymous types are not supported (libbpf refuses them too)");
            result = Resolve(localSpec, type, where);
        }
        return CorePatch.Patch(instructions, pc, result, where) ? $"CO-RE relocation {what}: {result.PoisonReason ?? CorePatch.SizeMismatch}" : null;
    }

    private CoreResult Resolve(CoreSpec localSpec, BtfType type, string where)
    {
        CoreResult? chosen = null;
        long chosenBitOffset = 0;
        var candidates = Target.Candidates(type);
        foreach (var candidate in candidates)
        {
            if (CoreSpec.Match(localSpec, Target.Btf, candidate) is not { } candidateSpec)
                continue;
            var result = CoreCalculation.Calculate(localSpec, candidateSpec, where);
            if (chosen is null)
            {
                (chosen, chosenBitOffset) = (result, candidateSpec.BitOffset);
            }
            else if (candidateSpec.BitOffset != chosenBitOffset)
            {
                throw new BpfLoadException($"{where}: the candidates of {Target.Description} disagree on the field's offset (bit {chosenBitOffset} and bit {candidateSpec.BitOffset})");
            }
            else if (result.Poison != chosen.Value.Poison || result.New != chosen.Value.New)
            {
                throw new BpfLoadException($"{where}: the candidates of {Target.Description} disagree on the value ({chosen.Value.New} and {result.New})");
            }
        }
        if (chosen is { } found)
            return found;
        var missing = candidates.Count == 0
            ? $"no {Describe(type, essential: true)} in {Target.Description}"
            : localSpec.Kind.IsEnumvalBased() ? $"no such enumerator in {Target.Description}"
            : localSpec.Kind.IsFieldBased() ? $"no such field in {Target.Description}"
            : $"no compatible type in {Target.Description}";
        return CoreCalculation.Calculate(localSpec, null, where) with { PoisonReason = missing };
    }

    /// <summary>"struct iphdr", "enum xdp_action", "typedef u32": the type as C names it.</summary>
    private static string Describe(BtfType type, bool essential = false)
    {
        var name = essential ? CoreTypes.EssentialName(type.Name).ToString() : type.Name;
        var keyword = type.Kind switch
        {
            BTF_KIND_STRUCT => "struct",
            BTF_KIND_UNION => "union",
            BTF_KIND_ENUM or BTF_KIND_ENUM64 => "enum",
            BTF_KIND_FWD => type.KindFlag ? "union" : "struct",
            _ => KindName(type.Kind).ToLowerInvariant(),
        };
        return name.Length == 0 ? $"anonymous {keyword} [{type.Id}]" : $"{keyword} {name}";
    }
}
