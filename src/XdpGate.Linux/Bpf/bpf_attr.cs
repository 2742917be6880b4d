using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Linux.Bpf;

// The variants of uapi/linux/bpf.h's `union bpf_attr` that the commands here use, one struct per variant, with the
// header's field names, offsets and sizes (tests/XdpGate.Linux.Tests checks them against the installed header).
// bpf() takes the variant's own size: the kernel zero-fills the rest of its union, and fields that newer kernels
// appended (map_token_fd, log_true_size, prog_token_fd, fd_array_cnt, ...) then read as zero, their "not used" value.
// Pointer fields are __aligned_u64 in the header: user addresses as u64 on every architecture.
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly

/// <summary>The anonymous struct used by BPF_MAP_CREATE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public unsafe struct bpf_attr_map_create
{
    [FieldOffset(0)] public uint map_type;
    [FieldOffset(4)] public uint key_size;
    [FieldOffset(8)] public uint value_size;
    [FieldOffset(12)] public uint max_entries;
    [FieldOffset(16)] public uint map_flags;
    [FieldOffset(20)] public uint inner_map_fd;
    [FieldOffset(24)] public uint numa_node;
    [FieldOffset(28)] public fixed byte map_name[bpf_defines.BPF_OBJ_NAME_LEN];
    [FieldOffset(44)] public uint map_ifindex;
    [FieldOffset(48)] public uint btf_fd;
    [FieldOffset(52)] public uint btf_key_type_id;
    [FieldOffset(56)] public uint btf_value_type_id;
    [FieldOffset(60)] public uint btf_vmlinux_value_type_id;
    [FieldOffset(64)] public ulong map_extra;
}

/// <summary>The anonymous struct used by BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM and BPF_MAP_GET_NEXT_KEY.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct bpf_attr_map_elem
{
    [FieldOffset(0)] public uint map_fd;
    [FieldOffset(8)] public ulong key;
    /// <summary>Shares its place with <see cref="next_key"/> (an anonymous union in the header).</summary>
    [FieldOffset(16)] public ulong value;
    [FieldOffset(16)] public ulong next_key;
    [FieldOffset(24)] public ulong flags;
}

/// <summary>The anonymous struct used by BPF_PROG_LOAD.</summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
public unsafe struct bpf_attr_prog_load
{
    [FieldOffset(0)] public uint prog_type;
    [FieldOffset(4)] public uint insn_cnt;
    [FieldOffset(8)] public ulong insns;
    [FieldOffset(16)] public ulong license;
    [FieldOffset(24)] public uint log_level;
    [FieldOffset(28)] public uint log_size;
    [FieldOffset(32)] public ulong log_buf;
    [FieldOffset(40)] public uint kern_version;
    [FieldOffset(44)] public uint prog_flags;
    [FieldOffset(48)] public fixed byte prog_name[bpf_defines.BPF_OBJ_NAME_LEN];
    [FieldOffset(64)] public uint prog_ifindex;
    [FieldOffset(68)] public uint expected_attach_type;
    [FieldOffset(72)] public uint prog_btf_fd;
    [FieldOffset(76)] public uint func_info_rec_size;
    [FieldOffset(80)] public ulong func_info;
    [FieldOffset(88)] public uint func_info_cnt;
    [FieldOffset(92)] public uint line_info_rec_size;
    [FieldOffset(96)] public ulong line_info;
    [FieldOffset(104)] public uint line_info_cnt;
    [FieldOffset(108)] public uint attach_btf_id;
    /// <summary>Shares its place with <see cref="attach_btf_obj_fd"/> (an anonymous union in the header).</summary>
    [FieldOffset(112)] public uint attach_prog_fd;
    [FieldOffset(112)] public uint attach_btf_obj_fd;
    [FieldOffset(116)] public uint core_relo_cnt;
    [FieldOffset(120)] public ulong fd_array;
    [FieldOffset(128)] public ulong core_relos;
    [FieldOffset(136)] public uint core_relo_rec_size;
}

/// <summary>The anonymous struct used by BPF_BTF_LOAD (the 6.1 fields; later kernels append log_true_size, flags, token fd).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct bpf_attr_btf_load
{
    [FieldOffset(0)] public ulong btf;
    [FieldOffset(8)] public ulong btf_log_buf;
    [FieldOffset(16)] public uint btf_size;
    [FieldOffset(20)] public uint btf_log_size;
    [FieldOffset(24)] public uint btf_log_level;
}

/// <summary>
/// <c>struct bpf_func_info</c>, the record BPF_PROG_LOAD's func_info points at: the instruction where a function
/// starts and its BTF FUNC type id.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct bpf_func_info
{
    public uint insn_off;
    public uint type_id;
}

/// <summary>The struct <c>test</c>, used by BPF_PROG_TEST_RUN (BPF_PROG_RUN).</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
public struct bpf_attr_test
{
    [FieldOffset(0)] public uint prog_fd;
    [FieldOffset(4)] public uint retval;
    /// <summary>Input: length of data_in.</summary>
    [FieldOffset(8)] public uint data_size_in;
    /// <summary>Input: room at data_out; output: the length of the data (ENOSPC when it did not fit).</summary>
    [FieldOffset(12)] public uint data_size_out;
    [FieldOffset(16)] public ulong data_in;
    [FieldOffset(24)] public ulong data_out;
    [FieldOffset(32)] public uint repeat;
    [FieldOffset(36)] public uint duration;
    [FieldOffset(40)] public uint ctx_size_in;
    [FieldOffset(44)] public uint ctx_size_out;
    [FieldOffset(48)] public ulong ctx_in;
    [FieldOffset(56)] public ulong ctx_out;
    [FieldOffset(64)] public uint flags;
    [FieldOffset(68)] public uint cpu;
    [FieldOffset(72)] public uint batch_size;
}
/// <summary>The struct <c>info</c>, used by BPF_OBJ_GET_INFO_BY_FD.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct bpf_attr_info
{
    [FieldOffset(0)] public uint bpf_fd;
    /// <summary>Input: room at info; output: the bytes the kernel filled.</summary>
    [FieldOffset(4)] public uint info_len;
    [FieldOffset(8)] public ulong info;
}

/// <summary>The anonymous struct used by BPF_PROG_GET_FD_BY_ID (and the other *_GET_FD_BY_ID / *_GET_NEXT_ID commands).</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct bpf_attr_get_id
{
    /// <summary>Shares its place with <see cref="prog_id"/> (an anonymous union in the header).</summary>
    [FieldOffset(0)] public uint start_id;
    [FieldOffset(0)] public uint prog_id;
    [FieldOffset(4)] public uint next_id;
    [FieldOffset(8)] public uint open_flags;
}

/// <summary>
/// The struct <c>link_create</c>, used by BPF_LINK_CREATE, at its 6.1 size: the attach-type specific union after
/// <see cref="flags"/> (tcx's relative_fd and expected_revision among them) stays zero, which asks for no ordering.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct bpf_attr_link_create
{
    [FieldOffset(0)] public uint prog_fd;
    [FieldOffset(4)] public uint target_ifindex;
    [FieldOffset(8)] public uint attach_type;
    [FieldOffset(12)] public uint flags;
}

/// <summary>
/// The leading fields of <c>struct bpf_prog_info</c> (through ifindex): the kernel fills only the info_len bytes it
/// is given, so a prefix is a valid request.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct bpf_prog_info
{
    public uint type;
    public uint id;
    public fixed byte tag[8];
    public uint jited_prog_len;
    public uint xlated_prog_len;
    public ulong jited_prog_insns;
    public ulong xlated_prog_insns;
    public ulong load_time;
    public uint created_by_uid;
    public uint nr_map_ids;
    public ulong map_ids;
    public fixed byte name[bpf_defines.BPF_OBJ_NAME_LEN];
    public uint ifindex;
}
#pragma warning restore CA1707, IDE1006
