using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Verifier;

/// <summary>The kernel's enum bpf_arg_type, for the argument kinds our helpers take.</summary>
internal enum ArgKind : byte
{
    None,
    Anything,
    ConstMapPtr,
    MapKey,
    MapValue,
    /// <summary>A map value the helper fills (ARG_PTR_TO_MAP_VALUE | MEM_UNINIT).</summary>
    WriteMapValue,
    /// <summary>Memory the helper reads, sized by the next argument (ARG_PTR_TO_MEM | MEM_RDONLY).</summary>
    ReadMem,
    /// <summary>Memory the helper may read or be given null (csum_diff's buffers).</summary>
    ReadMemOrNull,
    /// <summary>Memory the helper writes, sized by the next argument (ARG_PTR_TO_UNINIT_MEM).</summary>
    WriteMem,
    ConstSize,
    ConstSizeOrZero,
    /// <summary>A constant allocation size (ringbuf_reserve).</summary>
    ConstAllocSize,
    Ctx,
    /// <summary>A ring buffer record to release (submit, discard).</summary>
    ReleaseMem,
    Func,
    StackOrNull,
}

internal enum RetKind : byte
{
    Integer,
    Void,
    MapValueOrNull,
    /// <summary>A ring buffer record of the size given in r2, or null; the caller must release it.</summary>
    AllocMemOrNull,
}

/// <summary>A helper's kernel prototype (struct bpf_func_proto): argument kinds, return kind, and whether it moves packet data.</summary>
internal sealed record HelperPrototype(string Name, RetKind Ret, ArgKind[] Args, bool ChangesPacket = false)
{
    /// <summary>False for kernel helpers this engine does not provide (their calls are refused after verification).</summary>
    public bool Provided { get; init; } = true;

    /// <summary>Whether the helper writes the memory argument <paramref name="i"/> points at (for a size, the memory before it).</summary>
    public bool Writes(int i) =>
        Args[i] == ArgKind.WriteMapValue || (Args[i] is ArgKind.ConstSize or ArgKind.ConstSizeOrZero && Args[i - 1] == ArgKind.WriteMem);
}

/// <summary>The prototypes of the helpers in <see cref="Helpers.HelperTable"/>, as the kernel declares them.</summary>
internal static class HelperPrototypes
{
    private static readonly Dictionary<int, HelperPrototype> Table = new()
    {
        [(int)BPF_FUNC_map_lookup_elem] = new("bpf_map_lookup_elem", RetKind.MapValueOrNull, [ArgKind.ConstMapPtr, ArgKind.MapKey]),
        [(int)BPF_FUNC_map_update_elem] = new("bpf_map_update_elem", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.MapKey, ArgKind.MapValue, ArgKind.Anything]),
        [(int)BPF_FUNC_map_delete_elem] = new("bpf_map_delete_elem", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.MapKey]),
        // Known to the kernel but not provided here: prototypes kept so their map checks refuse as the kernel does.
        [87] = new("bpf_map_push_elem", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.MapValue, ArgKind.Anything]) { Provided = false },
        [88] = new("bpf_map_pop_elem", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.WriteMapValue]) { Provided = false },
        [89] = new("bpf_map_peek_elem", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.WriteMapValue]) { Provided = false },
        [(int)BPF_FUNC_ktime_get_ns] = new("bpf_ktime_get_ns", RetKind.Integer, []),
        [(int)BPF_FUNC_trace_printk] = new("bpf_trace_printk", RetKind.Integer, [ArgKind.ReadMem, ArgKind.ConstSize]),
        [(int)BPF_FUNC_get_prandom_u32] = new("bpf_get_prandom_u32", RetKind.Integer, []),
        [(int)BPF_FUNC_get_smp_processor_id] = new("bpf_get_smp_processor_id", RetKind.Integer, []),
        [(int)BPF_FUNC_tail_call] = new("bpf_tail_call", RetKind.Void, [ArgKind.Ctx, ArgKind.ConstMapPtr, ArgKind.Anything]),
        [(int)BPF_FUNC_redirect] = new("bpf_redirect", RetKind.Integer, [ArgKind.Anything, ArgKind.Anything]),
        [(int)BPF_FUNC_csum_diff] = new("bpf_csum_diff", RetKind.Integer, [ArgKind.ReadMemOrNull, ArgKind.ConstSizeOrZero, ArgKind.ReadMemOrNull, ArgKind.ConstSizeOrZero, ArgKind.Anything]),
        [(int)BPF_FUNC_xdp_adjust_head] = new("bpf_xdp_adjust_head", RetKind.Integer, [ArgKind.Ctx, ArgKind.Anything], ChangesPacket: true),
        [(int)BPF_FUNC_redirect_map] = new("bpf_redirect_map", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.Anything, ArgKind.Anything]),
        [(int)BPF_FUNC_xdp_adjust_meta] = new("bpf_xdp_adjust_meta", RetKind.Integer, [ArgKind.Ctx, ArgKind.Anything], ChangesPacket: true),
        [(int)BPF_FUNC_xdp_adjust_tail] = new("bpf_xdp_adjust_tail", RetKind.Integer, [ArgKind.Ctx, ArgKind.Anything], ChangesPacket: true),
        [(int)BPF_FUNC_jiffies64] = new("bpf_jiffies64", RetKind.Integer, []),
        [(int)BPF_FUNC_ktime_get_boot_ns] = new("bpf_ktime_get_boot_ns", RetKind.Integer, []),
        [(int)BPF_FUNC_ringbuf_output] = new("bpf_ringbuf_output", RetKind.Integer, [ArgKind.ConstMapPtr, ArgKind.ReadMem, ArgKind.ConstSizeOrZero, ArgKind.Anything]),
        [(int)BPF_FUNC_ringbuf_reserve] = new("bpf_ringbuf_reserve", RetKind.AllocMemOrNull, [ArgKind.ConstMapPtr, ArgKind.ConstAllocSize, ArgKind.Anything]),
        [(int)BPF_FUNC_ringbuf_submit] = new("bpf_ringbuf_submit", RetKind.Void, [ArgKind.ReleaseMem, ArgKind.Anything]),
        [(int)BPF_FUNC_ringbuf_discard] = new("bpf_ringbuf_discard", RetKind.Void, [ArgKind.ReleaseMem, ArgKind.Anything]),
        [(int)BPF_FUNC_loop] = new("bpf_loop", RetKind.Integer, [ArgKind.Anything, ArgKind.Func, ArgKind.StackOrNull, ArgKind.Anything]),
        [(int)BPF_FUNC_xdp_get_buff_len] = new("bpf_xdp_get_buff_len", RetKind.Integer, [ArgKind.Ctx]),
        [(int)BPF_FUNC_xdp_load_bytes] = new("bpf_xdp_load_bytes", RetKind.Integer, [ArgKind.Ctx, ArgKind.Anything, ArgKind.WriteMem, ArgKind.ConstSize]),
        [(int)BPF_FUNC_xdp_store_bytes] = new("bpf_xdp_store_bytes", RetKind.Integer, [ArgKind.Ctx, ArgKind.Anything, ArgKind.ReadMem, ArgKind.ConstSize]),
    };

    public static HelperPrototype? Get(int id) => Table.GetValueOrDefault(id);

    /// <summary>
    /// The kernel's check_map_func_compatibility, both ways: maps that only some helpers take (program arrays, ring
    /// buffers, device maps), and helpers that only take some maps. Null when the pair is allowed.
    /// </summary>
    public static bool MapFits(bpf_map_type map, int helper)
    {
        var fn = (Helpers.bpf_func_id)helper;
        var isRingbufHelper = fn is BPF_FUNC_ringbuf_output or BPF_FUNC_ringbuf_reserve;
        var isDevMap = map is bpf_map_type.BPF_MAP_TYPE_DEVMAP or bpf_map_type.BPF_MAP_TYPE_DEVMAP_HASH;
        var isQueueHelper = helper is 87 or 88 or 89;
        var mapSide = map switch
        {
            bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY => fn == BPF_FUNC_tail_call,
            bpf_map_type.BPF_MAP_TYPE_RINGBUF => isRingbufHelper,
            _ when isDevMap => fn is BPF_FUNC_redirect_map or BPF_FUNC_map_lookup_elem,
            bpf_map_type.BPF_MAP_TYPE_QUEUE or bpf_map_type.BPF_MAP_TYPE_STACK => isQueueHelper,
            _ => true,
        };
        var helperSide = fn switch
        {
            BPF_FUNC_tail_call => map == bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY,
            BPF_FUNC_redirect_map => isDevMap,
            _ when isRingbufHelper => map == bpf_map_type.BPF_MAP_TYPE_RINGBUF,
            _ when isQueueHelper => map is bpf_map_type.BPF_MAP_TYPE_QUEUE or bpf_map_type.BPF_MAP_TYPE_STACK,
            _ => true,
        };
        return mapSide && helperSide;
    }
}
