namespace XdpGate.Bpf.Elf;

/// <summary>The numbers of <c>uapi/linux/btf.h</c>: the BTF magic, the type kinds and VAR linkages, with their kernel names.</summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
internal static class BtfKinds
{
    public const ushort BTF_MAGIC = 0xeb9f;
    public const byte BTF_VERSION = 1;

    public const int BTF_KIND_UNKN = 0;
    public const int BTF_KIND_INT = 1;
    public const int BTF_KIND_PTR = 2;
    public const int BTF_KIND_ARRAY = 3;
    public const int BTF_KIND_STRUCT = 4;
    public const int BTF_KIND_UNION = 5;
    public const int BTF_KIND_ENUM = 6;
    public const int BTF_KIND_FWD = 7;
    public const int BTF_KIND_TYPEDEF = 8;
    public const int BTF_KIND_VOLATILE = 9;
    public const int BTF_KIND_CONST = 10;
    public const int BTF_KIND_RESTRICT = 11;
    public const int BTF_KIND_FUNC = 12;
    public const int BTF_KIND_FUNC_PROTO = 13;
    public const int BTF_KIND_VAR = 14;
    public const int BTF_KIND_DATASEC = 15;
    public const int BTF_KIND_FLOAT = 16;
    public const int BTF_KIND_DECL_TAG = 17;
    public const int BTF_KIND_TYPE_TAG = 18;
    public const int BTF_KIND_ENUM64 = 19;

    /// <summary>The INT encoding bit of signed integers (BTF_INT_ENCODING of the word after an INT's header).</summary>
    public const int BTF_INT_SIGNED = 1 << 0;

    public const uint BTF_VAR_STATIC = 0;
    public const uint BTF_VAR_GLOBAL_ALLOCATED = 1;
    public const uint BTF_VAR_GLOBAL_EXTERN = 2;

    /// <summary>FUNC linkage, kept in the FUNC's vlen.</summary>
    public const int BTF_FUNC_STATIC = 0;
    public const int BTF_FUNC_GLOBAL = 1;
    public const int BTF_FUNC_EXTERN = 2;

    /// <summary>libbpf's limit on chains of typedefs and modifiers (and nested arrays) when resolving a type.</summary>
    public const int MAX_RESOLVE_DEPTH = 32;

    public static string KindName(int kind) => kind switch
    {
        BTF_KIND_UNKN => "UNKN",
        BTF_KIND_INT => "INT",
        BTF_KIND_PTR => "PTR",
        BTF_KIND_ARRAY => "ARRAY",
        BTF_KIND_STRUCT => "STRUCT",
        BTF_KIND_UNION => "UNION",
        BTF_KIND_ENUM => "ENUM",
        BTF_KIND_FWD => "FWD",
        BTF_KIND_TYPEDEF => "TYPEDEF",
        BTF_KIND_VOLATILE => "VOLATILE",
        BTF_KIND_CONST => "CONST",
        BTF_KIND_RESTRICT => "RESTRICT",
        BTF_KIND_FUNC => "FUNC",
        BTF_KIND_FUNC_PROTO => "FUNC_PROTO",
        BTF_KIND_VAR => "VAR",
        BTF_KIND_DATASEC => "DATASEC",
        BTF_KIND_FLOAT => "FLOAT",
        BTF_KIND_DECL_TAG => "DECL_TAG",
        BTF_KIND_TYPE_TAG => "TYPE_TAG",
        BTF_KIND_ENUM64 => "ENUM64",
        _ => $"kind {kind}",
    };
}
#pragma warning restore CA1707, IDE1006
