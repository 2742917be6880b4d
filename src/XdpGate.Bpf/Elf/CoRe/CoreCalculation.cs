using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>
/// libbpf's bpf_core_calc_relo and its helpers: from the local spec and the matched target spec (or none), the value
/// the compiler wrote and the value the target needs, for field, type and enumerator relocations.
/// </summary>
internal static class CoreCalculation
{
    /// <summary>libbpf's bpf_core_calc_relo: the value the compiler wrote (local) and the one to write (target, null when none matched).</summary>
    public static CoreResult Calculate(CoreSpec localSpec, CoreSpec? targetSpec, string where)
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
}

/// <summary>libbpf's bpf_core_relo_res: the value the instruction must hold, the one to write, and whether to check, poison or resize.</summary>
internal readonly record struct CoreResult
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
