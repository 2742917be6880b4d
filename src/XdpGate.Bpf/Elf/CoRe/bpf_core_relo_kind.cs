namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>The kinds of CO-RE relocation (<c>enum bpf_core_relo_kind</c> of uapi/linux/bpf.h), numbers as the kernel has them.</summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
internal enum bpf_core_relo_kind : uint
{
    BPF_CORE_FIELD_BYTE_OFFSET = 0,
    BPF_CORE_FIELD_BYTE_SIZE = 1,
    BPF_CORE_FIELD_EXISTS = 2,
    BPF_CORE_FIELD_SIGNED = 3,
    BPF_CORE_FIELD_LSHIFT_U64 = 4,
    BPF_CORE_FIELD_RSHIFT_U64 = 5,
    BPF_CORE_TYPE_ID_LOCAL = 6,
    BPF_CORE_TYPE_ID_TARGET = 7,
    BPF_CORE_TYPE_EXISTS = 8,
    BPF_CORE_TYPE_SIZE = 9,
    BPF_CORE_ENUMVAL_EXISTS = 10,
    BPF_CORE_ENUMVAL_VALUE = 11,
    BPF_CORE_TYPE_MATCHES = 12,
}
#pragma warning restore CA1707, IDE1006

internal static class CoreReloKinds
{
    public static bool IsFieldBased(this bpf_core_relo_kind kind) => kind <= bpf_core_relo_kind.BPF_CORE_FIELD_RSHIFT_U64;

    public static bool IsTypeBased(this bpf_core_relo_kind kind) =>
        kind is bpf_core_relo_kind.BPF_CORE_TYPE_ID_LOCAL or bpf_core_relo_kind.BPF_CORE_TYPE_ID_TARGET or bpf_core_relo_kind.BPF_CORE_TYPE_EXISTS
            or bpf_core_relo_kind.BPF_CORE_TYPE_SIZE or bpf_core_relo_kind.BPF_CORE_TYPE_MATCHES;

    public static bool IsEnumvalBased(this bpf_core_relo_kind kind) =>
        kind is bpf_core_relo_kind.BPF_CORE_ENUMVAL_EXISTS or bpf_core_relo_kind.BPF_CORE_ENUMVAL_VALUE;

    /// <summary>The kind's name in messages: its kernel name without the BPF_CORE_ prefix, lower case ("field_byte_offset").</summary>
    public static string Name(this bpf_core_relo_kind kind) =>
        Enum.IsDefined(kind) ? kind.ToString()["BPF_CORE_".Length..].ToLowerInvariant() : $"kind {(uint)kind}";
}
