using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// A member of a STRUCT or UNION (<c>struct btf_member</c>): name, type id, offset in bits, and the bitfield size
/// when the type's kind_flag packs one into the offset word (0 otherwise, as libbpf's btf_member_bitfield_size).
/// </summary>
internal readonly record struct BtfMember(string Name, uint Type, uint BitOffset, uint BitfieldSize = 0);

/// <summary>An enumerator of an ENUM or ENUM64: its name and value (an ENUM's 32-bit value sign-extended, as libbpf reads it).</summary>
internal readonly record struct BtfEnumerator(string Name, long Value);

/// <summary>A parameter of a FUNC_PROTO (<c>struct btf_param</c>): its name and type id.</summary>
internal readonly record struct BtfParam(string Name, uint Type);

/// <summary>The element type, index type and length of an ARRAY (<c>struct btf_array</c>).</summary>
internal readonly record struct BtfArray(uint Type, uint IndexType, uint Nelems);

/// <summary>A variable of a DATASEC (<c>struct btf_var_secinfo</c>): its VAR type id, offset and size in the section.</summary>
internal readonly record struct BtfVarSecinfo(uint Type, uint Offset, uint Size);

/// <summary>
/// One decoded <c>struct btf_type</c> with the kind-specific data that follows it. <see cref="SizeOrType"/> is the
/// header's union: a size for INT, STRUCT, UNION, ENUM, DATASEC and FLOAT, a referenced type id for the others.
/// </summary>
internal sealed class BtfType
{
    public required uint Id { get; init; }
    public required int Kind { get; init; }
    public required string Name { get; init; }
    public required int Vlen { get; init; }
    public required bool KindFlag { get; init; }
    public required uint SizeOrType { get; init; }
    public BtfMember[] Members { get; init; } = [];
    public BtfArray Array { get; init; }
    public BtfVarSecinfo[] Vars { get; init; } = [];
    /// <summary>FUNC_PROTO parameters; the return type is <see cref="SizeOrType"/>.</summary>
    public BtfParam[] Params { get; init; } = [];
    /// <summary>ENUM and ENUM64 enumerators.</summary>
    public BtfEnumerator[] Enumerators { get; init; } = [];
    /// <summary>The word after an INT's header: encoding (bits 24..27), offset (16..23) and bits (0..7).</summary>
    public uint IntData { get; init; }
    /// <summary>VAR linkage (BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN).</summary>
    public uint Linkage { get; init; }

    public bool IsModifierOrTypedef => Kind is BTF_KIND_TYPEDEF or BTF_KIND_VOLATILE or BTF_KIND_CONST or BTF_KIND_RESTRICT or BTF_KIND_TYPE_TAG;

    public override string ToString() =>
        Name.Length > 0 ? $"[{Id}] {KindName(Kind)} '{Name}'" : $"[{Id}] {KindName(Kind)}";
}
