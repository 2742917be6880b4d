using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>
/// libbpf's rules for when a local type and a target type are the same thing for CO-RE: essential names (a
/// <c>___flavor</c> suffix ignored), kind compatibility, field compatibility and the stricter TYPE_MATCHES relation.
/// </summary>
internal static class CoreTypes
{
    /// <summary>The name without its flavor: everything from the last "X___Y" separator (X, Y not '_') on is dropped.</summary>
    public static ReadOnlySpan<char> EssentialName(string name)
    {
        for (var i = name.Length - 5; i >= 0; i--)
        {
            if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
                return name.AsSpan(0, i + 1);
        }
        return name;
    }

    public static bool IsEnum(BtfType type) => type.Kind is BTF_KIND_ENUM or BTF_KIND_ENUM64;

    public static bool IsComposite(BtfType type) => type.Kind is BTF_KIND_STRUCT or BTF_KIND_UNION;

    /// <summary>libbpf's btf_kind_core_compat: the same kind, or both enums (ENUM and ENUM64 stand for each other).</summary>
    public static bool KindsCompatible(BtfType a, BtfType b) => a.Kind == b.Kind || (IsEnum(a) && IsEnum(b));

    public static int IntEncoding(BtfType type) => (int)(type.IntData >> 24) & 0x0f;

    private static int IntOffset(BtfType type) => (int)(type.IntData >> 16) & 0xff;

    /// <summary>Type-based relocations' compatibility (libbpf's __bpf_core_types_are_compat); names were matched by the caller.</summary>
    public static bool AreCompatible(Btf local, uint localId, Btf target, uint targetId, int level)
    {
        if (!KindsCompatible(local.Type(localId, "CO-RE local"), target.Type(targetId, "CO-RE target")))
            return false;
        for (var depth = 0; depth < MAX_RESOLVE_DEPTH; depth++)
        {
            var l = local.SkipModsAndTypedefs(localId, "CO-RE local");
            var t = target.SkipModsAndTypedefs(targetId, "CO-RE target");
            if (!KindsCompatible(l, t))
                return false;
            switch (l.Kind)
            {
                case BTF_KIND_UNKN or BTF_KIND_STRUCT or BTF_KIND_UNION or BTF_KIND_ENUM or BTF_KIND_FWD or BTF_KIND_ENUM64:
                    return true;
                case BTF_KIND_INT:
                    return IntOffset(l) == 0 && IntOffset(t) == 0;
                case BTF_KIND_PTR:
                    (localId, targetId) = (l.SizeOrType, t.SizeOrType);
                    break;
                case BTF_KIND_ARRAY:
                    (localId, targetId) = (l.Array.Type, t.Array.Type);
                    break;
                case BTF_KIND_FUNC_PROTO:
                    if (l.Params.Length != t.Params.Length)
                        return false;
                    for (var i = 0; i < l.Params.Length; i++)
                    {
                        if (level <= 0)
                            throw new BpfLoadException($"{l} nests function prototypes too deeply");
                        if (!AreCompatible(local, local.SkipModsAndTypedefs(l.Params[i].Type, "CO-RE local").Id,
                                target, target.SkipModsAndTypedefs(t.Params[i].Type, "CO-RE target").Id, level - 1))
                            return false;
                    }
                    (localId, targetId) = (l.SizeOrType, t.SizeOrType);
                    break;
                default:
                    return false;
            }
        }
        throw new BpfLoadException($"type [{localId}] nests more than {MAX_RESOLVE_DEPTH} levels");
    }

    /// <summary>Whether a target member can stand for a local one (libbpf's bpf_core_fields_are_compat).</summary>
    public static bool FieldsAreCompatible(Btf local, uint localId, Btf target, uint targetId)
    {
        for (var depth = 0; depth < MAX_RESOLVE_DEPTH; depth++)
        {
            var l = local.SkipModsAndTypedefs(localId, "CO-RE local");
            var t = target.SkipModsAndTypedefs(targetId, "CO-RE target");
            if (IsComposite(l) && IsComposite(t))
                return true;
            if (!KindsCompatible(l, t))
                return false;
            switch (l.Kind)
            {
                case BTF_KIND_PTR or BTF_KIND_FLOAT:
                    return true;
                case BTF_KIND_FWD or BTF_KIND_ENUM or BTF_KIND_ENUM64:
                    var ln = EssentialName(l.Name);
                    var tn = EssentialName(t.Name);
                    return ln.Length == 0 || tn.Length == 0 || ln.SequenceEqual(tn);
                case BTF_KIND_INT:
                    return IntOffset(l) == 0 && IntOffset(t) == 0;
                case BTF_KIND_ARRAY:
                    (localId, targetId) = (l.Array.Type, t.Array.Type);
                    break;
                default:
                    return false;
            }
        }
        throw new BpfLoadException($"type [{localId}] nests more than {MAX_RESOLVE_DEPTH} levels");
    }

    private static bool NamesMatch(string local, string target) =>
        target.Length == 0 ? local.Length == 0 : EssentialName(local).SequenceEqual(EssentialName(target));

    /// <summary>TYPE_MATCHES (libbpf's __bpf_core_types_match): same kinds, members found by name, sizes and signedness equal.</summary>
    public static bool Match(Btf local, uint localId, Btf target, uint targetId, bool behindPointer, int level)
    {
        if (level <= 0)
            throw new BpfLoadException($"type [{localId}] nests too deeply for type_matches");
        for (var depth = 0; depth < MAX_RESOLVE_DEPTH; depth++)
        {
            var l = local.SkipModsAndTypedefs(localId, "CO-RE local");
            var t = target.SkipModsAndTypedefs(targetId, "CO-RE target");
            if (!NamesMatch(l.Name, t.Name))
                return false;
            switch (l.Kind)
            {
                case BTF_KIND_UNKN:
                    return t.Kind == BTF_KIND_UNKN;
                case BTF_KIND_FWD:
                    if (behindPointer && t.Kind != BTF_KIND_FWD)
                        return (t.Kind == BTF_KIND_STRUCT && !l.KindFlag) || (t.Kind == BTF_KIND_UNION && l.KindFlag);
                    return t.Kind == BTF_KIND_FWD && l.KindFlag == t.KindFlag;
                case BTF_KIND_ENUM or BTF_KIND_ENUM64:
                    return IsEnum(t) && l.SizeOrType == t.SizeOrType && l.Vlen <= t.Vlen
                        && l.Enumerators.All(e => t.Enumerators.Any(te => NamesMatch(e.Name, te.Name)));
                case BTF_KIND_STRUCT or BTF_KIND_UNION:
                    if (behindPointer)
                        return l.Kind == t.Kind || (t.Kind == BTF_KIND_FWD && (l.Kind == BTF_KIND_UNION) == t.KindFlag);
                    return l.Kind == t.Kind && l.Vlen <= t.Vlen && l.Members.All(m => t.Members.Any(tm =>
                        NamesMatch(m.Name, tm.Name) && Match(local, m.Type, target, tm.Type, behindPointer, level - 1)));
                case BTF_KIND_INT:
                    return l.Kind == t.Kind && l.SizeOrType == t.SizeOrType
                        && (IntEncoding(l) & BTF_INT_SIGNED) == (IntEncoding(t) & BTF_INT_SIGNED);
                case BTF_KIND_PTR:
                    if (l.Kind != t.Kind)
                        return false;
                    behindPointer = true;
                    (localId, targetId) = (l.SizeOrType, t.SizeOrType);
                    break;
                case BTF_KIND_ARRAY:
                    if (l.Kind != t.Kind || l.Array.Nelems != t.Array.Nelems)
                        return false;
                    (localId, targetId) = (l.Array.Type, t.Array.Type);
                    break;
                case BTF_KIND_FUNC_PROTO:
                    if (l.Kind != t.Kind || l.Params.Length != t.Params.Length)
                        return false;
                    for (var i = 0; i < l.Params.Length; i++)
                    {
                        if (!Match(local, l.Params[i].Type, target, t.Params[i].Type, behindPointer, level - 1))
                            return false;
                    }
                    (localId, targetId) = (l.SizeOrType, t.SizeOrType);
                    break;
                default:
                    return false;
            }
        }
        throw new BpfLoadException($"type [{localId}] nests more than {MAX_RESOLVE_DEPTH} levels");
    }
}
