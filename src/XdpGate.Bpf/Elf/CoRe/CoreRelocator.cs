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
        return Patch(instructions, pc, result, where) ? $"CO-RE relocation {what}: {result.PoisonReason ?? SizeMismatch}" : null;
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
            var result = Calculate(localSpec, candidateSpec, where);
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
        return Calculate(localSpec, null, where) with { PoisonReason = missing };
    }

    /// <summary>libbpf's bpf_core_calc_relo: the value the compiler wrote (local) and the one to write (target, null when none matched).</summary>
    private static CoreResult Calculate(CoreSpec localSpec, CoreSpec? targetSpec, string where)
    {
        var kind = localSpec.Kind;
        if (kind.IsFieldBased())
        {
            var original = Field(kind, localSpec, where);
            var result = Field(kind, targetSpec, where);
            if (result.Poison)
                return new CoreResult { Original = original.Value, Poison = true, Validate = original.Validate };
            var failSizeAdjust = false;
            if (original.Size != result.Size)
            {
                // Only a pointer or an unsigned integer reads the same through a narrower or wider load.
                var o = localSpec.Btf.Type(original.TypeId, where);
                var n = targetSpec!.Btf.Type(result.TypeId, where);
                failSizeAdjust = !((o.Kind == BTF_KIND_PTR && n.Kind == BTF_KIND_PTR)
                    || (o.Kind == BTF_KIND_INT && n.Kind == BTF_KIND_INT && CoreTypes.IntEncoding(o) != BTF_INT_SIGNED && CoreTypes.IntEncoding(n) != BTF_INT_SIGNED));
            }
            return new CoreResult
            {
                Original = original.Value, New = result.Value, Validate = original.Validate, OriginalSize = original.Size, NewSize = result.Size,
                FailSizeAdjust = failSizeAdjust,
            };
        }
        if (kind.IsTypeBased())
            return new CoreResult { Original = TypeValue(localSpec, where), New = TypeValue(targetSpec, where), Validate = kind != bpf_core_relo_kind.BPF_CORE_TYPE_ID_TARGET };
        var enumOriginal = EnumValue(localSpec);
        return targetSpec is null && kind == bpf_core_relo_kind.BPF_CORE_ENUMVAL_VALUE
            ? new CoreResult { Original = enumOriginal, Poison = true, Validate = true }
            : new CoreResult { Original = enumOriginal, New = EnumValue(targetSpec), Validate = true };
    }

    private readonly record struct FieldValue(ulong Value, uint Size, uint TypeId, bool Validate, bool Poison);

    /// <summary>libbpf's bpf_core_calc_field_relo for one side.</summary>
    private static FieldValue Field(bpf_core_relo_kind kind, CoreSpec? spec, string where)
    {
        if (kind == bpf_core_relo_kind.BPF_CORE_FIELD_EXISTS)
            return new FieldValue(spec is null ? 0UL : 1UL, 0, 0, true, false);
        if (spec is null)
            return new FieldValue(0, 0, 0, false, true);

        var accessor = spec.Accessors[^1];
        var btf = spec.Btf;
        if (accessor.Name is null)
        {
            // An array element: the element's offset, or its size.
            return kind switch
            {
                bpf_core_relo_kind.BPF_CORE_FIELD_BYTE_OFFSET => new FieldValue((ulong)(spec.BitOffset / 8), ElementSize(btf, accessor.TypeId, where), accessor.TypeId, true, false),
                bpf_core_relo_kind.BPF_CORE_FIELD_BYTE_SIZE => new FieldValue(btf.ResolveSize(accessor.TypeId, where), 0, 0, true, false),
                _ => throw new BpfLoadException($"{where}: cannot be applied to an array element"),
            };
        }

        var holder = btf.Type(accessor.TypeId, where);
        var member = holder.Members[accessor.Index];
        var memberType = btf.SkipModsAndTypedefs(member.Type, where);
        var bitOffset = (ulong)spec.BitOffset;
        ulong bitSize = member.BitfieldSize;
        ulong byteSize, byteOffset;
        var bitfield = bitSize > 0;
        if (bitfield)
        {
            // The smallest aligned load that holds the whole bitfield.
            byteSize = memberType.SizeOrType;
            byteOffset = bitOffset / 8 / byteSize * byteSize;
            while (bitOffset + bitSize - byteOffset * 8 > byteSize * 8)
            {
                if (byteSize >= 8)
                    throw new BpfLoadException($"{where}: the bitfield cannot be read with one 64-bit load");
                byteSize *= 2;
                byteOffset = bitOffset / 8 / byteSize * byteSize;
            }
        }
        else
        {
            byteSize = btf.ResolveSize(memberType.Id, where);
            byteOffset = bitOffset / 8;
            bitSize = byteSize * 8;
        }

        return kind switch
        {
            // Bitfield offsets and sizes are the compiler's choice and may differ from ours; they are not checked.
            bpf_core_relo_kind.BPF_CORE_FIELD_BYTE_OFFSET => bitfield
                ? new FieldValue(byteOffset, 0, 0, false, false)
                : new FieldValue(byteOffset, ElementSize(btf, memberType.Id, where), memberType.Id, true, false),
            bpf_core_relo_kind.BPF_CORE_FIELD_BYTE_SIZE => new FieldValue(byteSize, 0, 0, !bitfield, false),
            bpf_core_relo_kind.BPF_CORE_FIELD_SIGNED => new FieldValue(
                (CoreTypes.IsEnum(memberType) && memberType.KindFlag) || (memberType.Kind == BTF_KIND_INT && (CoreTypes.IntEncoding(memberType) & BTF_INT_SIGNED) != 0) ? 1UL : 0UL,
                0, 0, true, false),
            bpf_core_relo_kind.BPF_CORE_FIELD_LSHIFT_U64 => new FieldValue(64 - (bitOffset + bitSize - byteOffset * 8), 0, 0, !bitfield, false),
            bpf_core_relo_kind.BPF_CORE_FIELD_RSHIFT_U64 => new FieldValue(64 - bitSize, 0, 0, true, false),
            _ => throw new BpfLoadException($"{where}: unknown field relocation"),
        };
    }

    /// <summary>The size a load of the field reads: an array's element, not the whole array.</summary>
    private static uint ElementSize(Btf btf, uint typeId, string where)
    {
        var type = btf.SkipModsAndTypedefs(typeId, where);
        while (type.Kind == BTF_KIND_ARRAY)
            type = btf.SkipModsAndTypedefs(type.Array.Type, where);
        return btf.ResolveSize(type.Id, where);
    }

    private static ulong TypeValue(CoreSpec? spec, string where) => spec is null ? 0 : spec.Kind switch
    {
        bpf_core_relo_kind.BPF_CORE_TYPE_ID_TARGET => spec.RootTypeId,
        bpf_core_relo_kind.BPF_CORE_TYPE_EXISTS or bpf_core_relo_kind.BPF_CORE_TYPE_MATCHES => 1,
        bpf_core_relo_kind.BPF_CORE_TYPE_SIZE => spec.Btf.ResolveSize(spec.RootTypeId, where),
        _ => throw new BpfLoadException($"{where}: unknown type relocation"),
    };

    private static ulong EnumValue(CoreSpec? spec)
    {
        if (spec?.Kind == bpf_core_relo_kind.BPF_CORE_ENUMVAL_EXISTS)
            return 1;
        if (spec is null)
            return 0;
        var accessor = spec.Accessors[0];
        return (ulong)spec.Btf.Type(accessor.TypeId, "CO-RE enumerator").Enumerators[accessor.Index].Value;
    }

    private const string SizeMismatch = "the target field has another size, and only pointers and unsigned integers may be read with another load size";

    /// <summary>
    /// libbpf's bpf_core_patch_insn: the immediate of an ALU op, the offset of a load or store, or an lddw's 64-bit
    /// value; true when the instruction was poisoned instead.
    /// </summary>
    private static bool Patch(bpf_insn[] instructions, int pc, CoreResult result, string where)
    {
        ref var insn = ref instructions[pc];
        var isLddw = insn.code == (BPF_LD | BPF_IMM | BPF_DW);
        if (isLddw && pc + 1 >= instructions.Length)
            throw new BpfLoadException($"{where}: the lddw's second slot is past the end of the function");
        if (result.Poison || (result.FailSizeAdjust && Class(insn.code) is BPF_LDX or BPF_ST or BPF_STX))
        {
            if (isLddw)
                Poison(ref instructions[pc + 1]);
            Poison(ref insn);
            return true;
        }

        switch (Class(insn.code))
        {
            case BPF_ALU or BPF_ALU64:
                if (Source(insn.code) != BPF_K)
                    throw new BpfLoadException($"{where}: the ALU instruction takes a register, not an immediate to patch");
                if (result.Validate && (ulong)(long)insn.imm != result.Original)
                    throw new BpfLoadException($"{where}: the instruction's immediate is {insn.imm}, the local BTF says {result.Original}");
                insn.imm = (int)result.New;
                break;
            case BPF_LDX or BPF_ST or BPF_STX:
                if (result.Validate && (ulong)(long)insn.off != result.Original)
                    throw new BpfLoadException($"{where}: the instruction's offset is {insn.off}, the local BTF says {result.Original}");
                if (result.New > (ulong)short.MaxValue)
                    throw new BpfLoadException($"{where}: offset {result.New} does not fit a load or store");
                insn.off = (short)result.New;
                if (result.NewSize != result.OriginalSize)
                {
                    var size = SizeBytes(insn.code);
                    if (size != result.OriginalSize)
                        throw new BpfLoadException($"{where}: the instruction accesses {size} bytes, the local field has {result.OriginalSize}");
                    insn.code = (byte)(Mode(insn.code) | SizeCode(result.NewSize, where) | Class(insn.code));
                }
                break;
            case BPF_LD when isLddw:
                ref var next = ref instructions[pc + 1];
                if (insn.src_reg != 0 || insn.off != 0 || next.code != 0 || next.dst_reg != 0 || next.src_reg != 0 || next.off != 0)
                    throw new BpfLoadException($"{where}: the lddw has an unexpected form");
                var value = (uint)insn.imm | ((ulong)(uint)next.imm << 32);
                if (result.Validate && value != result.Original)
                    throw new BpfLoadException($"{where}: the lddw loads {value}, the local BTF says {result.Original}");
                insn.imm = (int)result.New;
                next.imm = (int)(result.New >> 32);
                break;
            default:
                throw new BpfLoadException($"{where}: instruction code 0x{insn.code:x2} is not one a CO-RE relocation can patch (ALU immediate, load, store, lddw)");
        }
        return false;
    }

    private static void Poison(ref bpf_insn insn) => insn = new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, ObjectProgram.CorePoisonHelper);

    private static int SizeBytes(byte code) => Size(code) switch
    {
        BPF_B => 1,
        BPF_H => 2,
        BPF_W => 4,
        _ => 8,
    };

    private static byte SizeCode(uint bytes, string where) => bytes switch
    {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => throw new BpfLoadException($"{where}: the target field is {bytes} bytes, which no load or store reads"),
    };

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

    private readonly record struct CoreResult
    {
        public ulong Original { get; init; }
        public ulong New { get; init; }
        public bool Validate { get; init; }
        public bool Poison { get; init; }
        public string? PoisonReason { get; init; }
        public bool FailSizeAdjust { get; init; }
        public uint OriginalSize { get; init; }
        public uint NewSize { get; init; }
    }
}
