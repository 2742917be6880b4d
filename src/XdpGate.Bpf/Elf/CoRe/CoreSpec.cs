using System.Globalization;
using System.Text;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>One high-level step of an access: a named member (type, member index, name) or an array index (no name).</summary>
internal readonly record struct CoreAccessor(uint TypeId, int Index, string? Name);

/// <summary>
/// A CO-RE access as libbpf's bpf_core_spec holds it, for the local or a target BTF: the root type, the named
/// members and array indexes the access goes through (anonymous members skipped), the raw access string's numbers,
/// and the bit offset they add up to. Type-based relocations have no accessors; enumerator ones have one.
/// </summary>
internal sealed class CoreSpec
{
    /// <summary>libbpf's BPF_CORE_SPEC_MAX_LEN: how deep an access may nest.</summary>
    private const int MaxLength = 64;

    private CoreSpec(Btf btf, uint rootTypeId, bpf_core_relo_kind kind)
    {
        Btf = btf;
        RootTypeId = rootTypeId;
        Kind = kind;
    }

    public Btf Btf { get; }
    public uint RootTypeId { get; }
    public bpf_core_relo_kind Kind { get; }
    public List<CoreAccessor> Accessors { get; } = [];
    public List<int> Raw { get; } = [];
    public long BitOffset { get; private set; }

    /// <summary>Reads <paramref name="access"/> ("0:1:2") against local type <paramref name="typeId"/>, as libbpf's bpf_core_parse_spec; throws saying what does not fit.</summary>
    public static CoreSpec Parse(Btf btf, uint typeId, string access, bpf_core_relo_kind kind)
    {
        var spec = new CoreSpec(btf, typeId, kind);
        if (access.Length == 0 || access[0] == ':')
            throw new BpfLoadException($"access string \"{access}\" is empty or starts with ':'");
        if (kind.IsTypeBased())
        {
            return access == "0" ? spec : throw new BpfLoadException($"access string \"{access}\" of a type relocation must be \"0\"");
        }
        foreach (var part in access.Split(':'))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw new BpfLoadException($"access string \"{access}\": '{part}' is not an index");
            if (spec.Raw.Count == MaxLength)
                throw new BpfLoadException($"access string \"{access}\" nests deeper than {MaxLength}");
            spec.Raw.Add(index);
        }

        const string where = "CO-RE access";
        var type = btf.SkipModsAndTypedefs(typeId, where);
        var id = type.Id;
        var first = spec.Raw[0];
        if (kind.IsEnumvalBased())
        {
            if (type.Kind is not (BTF_KIND_ENUM or BTF_KIND_ENUM64) || spec.Raw.Count > 1 || first >= type.Vlen)
                throw new BpfLoadException($"access string \"{access}\" does not name one enumerator of {type}");
            spec.Accessors.Add(new CoreAccessor(id, first, type.Enumerators[first].Name));
            return spec;
        }
        if (!kind.IsFieldBased())
            throw new BpfLoadException($"unknown relocation kind {(uint)kind}");

        spec.Accessors.Add(new CoreAccessor(id, first, null));
        spec.BitOffset = first * (long)btf.ResolveSize(id, where) * 8;
        for (var i = 1; i < spec.Raw.Count; i++)
        {
            type = btf.SkipModsAndTypedefs(id, where);
            id = type.Id;
            var index = spec.Raw[i];
            if (type.Kind is BTF_KIND_STRUCT or BTF_KIND_UNION)
            {
                if (index >= type.Vlen)
                    throw new BpfLoadException($"access string \"{access}\": {type} has no member {index}");
                var member = type.Members[index];
                spec.BitOffset += member.BitOffset;
                if (member.Name.Length > 0)
                    spec.Accessors.Add(new CoreAccessor(id, index, member.Name));
                id = member.Type;
            }
            else if (type.Kind == BTF_KIND_ARRAY)
            {
                var element = btf.SkipModsAndTypedefs(type.Array.Type, where);
                if (!IsFlexibleArray(btf, spec.Accessors[^1], type.Array) && index >= type.Array.Nelems)
                    throw new BpfLoadException($"access string \"{access}\": index {index} is past the end of {type} ({type.Array.Nelems} elements)");
                id = element.Id;
                spec.Accessors.Add(new CoreAccessor(id, index, null));
                spec.BitOffset += index * (long)btf.ResolveSize(id, where) * 8;
            }
            else
            {
                throw new BpfLoadException($"access string \"{access}\": step {i} reaches {type}, which is neither a struct, a union nor an array");
            }
        }
        return spec;
    }

    /// <summary>
    /// The target spec of <paramref name="local"/> in candidate <paramref name="targetId"/>, as libbpf's bpf_core_spec_match:
    /// null when the candidate does not have the access (a member missing or incompatible, an index out of bounds).
    /// </summary>
    public static CoreSpec? Match(CoreSpec local, Btf target, uint targetId)
    {
        var spec = new CoreSpec(target, targetId, local.Kind);
        const string where = "CO-RE target";
        if (local.Kind.IsTypeBased())
        {
            var matches = local.Kind == bpf_core_relo_kind.BPF_CORE_TYPE_MATCHES
                ? CoreTypes.Match(local.Btf, local.RootTypeId, target, targetId, behindPointer: false, level: 32)
                : CoreTypes.AreCompatible(local.Btf, local.RootTypeId, target, targetId, level: 32);
            return matches ? spec : null;
        }

        if (local.Kind.IsEnumvalBased())
        {
            var type = target.SkipModsAndTypedefs(targetId, where);
            if (type.Kind is not (BTF_KIND_ENUM or BTF_KIND_ENUM64))
                return null;
            var wanted = CoreTypes.EssentialName(local.Accessors[0].Name!);
            for (var i = 0; i < type.Enumerators.Length; i++)
            {
                if (CoreTypes.EssentialName(type.Enumerators[i].Name).SequenceEqual(wanted))
                {
                    spec.Accessors.Add(new CoreAccessor(type.Id, i, type.Enumerators[i].Name));
                    spec.Raw.Add(i);
                    return spec;
                }
            }
            return null;
        }

        var id = targetId;
        for (var i = 0; i < local.Accessors.Count; i++)
        {
            var accessor = local.Accessors[i];
            var type = target.SkipModsAndTypedefs(id, where);
            id = type.Id;
            if (accessor.Name is not null)
            {
                if (!spec.MatchMember(local.Btf, accessor, type, out id))
                    return null;
                continue;
            }
            // The first accessor indexes the root itself; later ones index an array member.
            if (i > 0)
            {
                if (type.Kind != BTF_KIND_ARRAY)
                    return null;
                if (!IsFlexibleArray(target, spec.Accessors[^1], type.Array) && accessor.Index >= type.Array.Nelems)
                    return null;
                id = target.SkipModsAndTypedefs(type.Array.Type, where).Id;
            }
            if (spec.Raw.Count == MaxLength)
                throw new BpfLoadException($"the target's access nests deeper than {MaxLength}");
            spec.Accessors.Add(new CoreAccessor(id, accessor.Index, null));
            spec.Raw.Add(accessor.Index);
            spec.BitOffset += accessor.Index * (long)target.ResolveSize(id, where) * 8;
        }
        return spec;
    }

    /// <summary>
    /// Finds the local accessor's member by name in target composite <paramref name="type"/>, searching anonymous
    /// members depth first (libbpf's bpf_core_match_member); the member's type must be compatible with the local one.
    /// </summary>
    private bool MatchMember(Btf local, CoreAccessor accessor, BtfType type, out uint next)
    {
        next = 0;
        if (type.Kind is not (BTF_KIND_STRUCT or BTF_KIND_UNION))
            return false;
        var localMember = local.Type(accessor.TypeId, "CO-RE access").Members[accessor.Index];
        for (var i = 0; i < type.Members.Length; i++)
        {
            var member = type.Members[i];
            if (Raw.Count == MaxLength)
                throw new BpfLoadException($"the target's access nests deeper than {MaxLength}");
            BitOffset += member.BitOffset;
            Raw.Add(i);
            if (member.Name.Length == 0)
            {
                var inner = Btf.SkipModsAndTypedefs(member.Type, "CO-RE target");
                if (MatchMember(local, accessor, inner, out next))
                    return true;
            }
            else if (member.Name == localMember.Name)
            {
                next = member.Type;
                if (CoreTypes.FieldsAreCompatible(local, localMember.Type, Btf, member.Type))
                {
                    Accessors.Add(new CoreAccessor(type.Id, i, member.Name));
                    return true;
                }
                BitOffset -= member.BitOffset;
                Raw.RemoveAt(Raw.Count - 1);
                return false;
            }
            BitOffset -= member.BitOffset;
            Raw.RemoveAt(Raw.Count - 1);
        }
        return false;
    }

    /// <summary>A zero-length array that is the last member of the struct holding it (libbpf's is_flex_arr).</summary>
    private static bool IsFlexibleArray(Btf btf, CoreAccessor holder, BtfArray array) =>
        holder.Name is not null && array.Nelems == 0 && holder.Index == btf.Type(holder.TypeId, "CO-RE access").Vlen - 1;

    /// <summary>The access in C syntax after the root type: ".h.saddr", "[2].len", "::XDP_PASS".</summary>
    public string Path()
    {
        if (Kind.IsTypeBased())
            return "";
        if (Kind.IsEnumvalBased())
            return "::" + Accessors[0].Name;
        var path = new StringBuilder();
        for (var i = 0; i < Accessors.Count; i++)
        {
            if (Accessors[i].Name is { } name)
                path.Append('.').Append(name);
            else if (i > 0 || Accessors[i].Index > 0)
                path.Append('[').Append(Accessors[i].Index.ToString(CultureInfo.InvariantCulture)).Append(']');
        }
        return path.ToString();
    }
}
