using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Helpers;

/// <summary>
/// The helpers programs may call, by kernel id: which program types may use each, and the function that runs it.
/// Every helper takes the VM (its processor id, frame and fault state) and r1-r5, and returns r0.
/// </summary>
public static unsafe class HelperTable
{
    private const int Size = 256;

    /// <summary>Indexed by helper id; null for ids the interpreter implements itself (tail_call, loop) or that do not exist.</summary>
    internal static readonly delegate*<BpfVm, ulong, ulong, ulong, ulong, ulong, ulong>[] Functions =
        new delegate*<BpfVm, ulong, ulong, ulong, ulong, ulong, ulong>[Size];

    private static readonly Availability[] Available = new Availability[Size];

    private enum Availability : byte
    {
        None,
        AnyProgram,
        /// <summary>Needs an xdp_buff context (adjust_*, redirect, xdp_*_bytes).</summary>
        XdpOnly,
    }

    static HelperTable()
    {
        Add(BPF_FUNC_map_lookup_elem, &MapHelpers.Lookup);
        Add(BPF_FUNC_map_update_elem, &MapHelpers.Update);
        Add(BPF_FUNC_map_delete_elem, &MapHelpers.Delete);
        Add(BPF_FUNC_ktime_get_ns, &ClockHelpers.KtimeGetNs);
        Add(BPF_FUNC_trace_printk, &TracePrintk.Call);
        Add(BPF_FUNC_get_prandom_u32, &ClockHelpers.GetPrandomU32);
        Add(BPF_FUNC_get_smp_processor_id, &ClockHelpers.GetSmpProcessorId);
        Add(BPF_FUNC_tail_call, null);
        Add(BPF_FUNC_csum_diff, &ChecksumHelpers.CsumDiff);
        Add(BPF_FUNC_jiffies64, &ClockHelpers.Jiffies64);
        Add(BPF_FUNC_ktime_get_boot_ns, &ClockHelpers.KtimeGetBootNs);
        Add(BPF_FUNC_ringbuf_output, &RingBufferHelpers.Output);
        Add(BPF_FUNC_ringbuf_reserve, &RingBufferHelpers.Reserve);
        Add(BPF_FUNC_ringbuf_submit, &RingBufferHelpers.Submit);
        Add(BPF_FUNC_ringbuf_discard, &RingBufferHelpers.Discard);
        Add(BPF_FUNC_loop, null);
        Add(BPF_FUNC_redirect, &XdpHelpers.Redirect, Availability.XdpOnly);
        Add(BPF_FUNC_redirect_map, &XdpHelpers.RedirectMap, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_adjust_head, &XdpHelpers.AdjustHead, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_adjust_meta, &XdpHelpers.AdjustMeta, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_adjust_tail, &XdpHelpers.AdjustTail, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_get_buff_len, &XdpHelpers.GetBuffLen, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_load_bytes, &XdpHelpers.LoadBytes, Availability.XdpOnly);
        Add(BPF_FUNC_xdp_store_bytes, &XdpHelpers.StoreBytes, Availability.XdpOnly);
    }

    private static void Add(bpf_func_id id, delegate*<BpfVm, ulong, ulong, ulong, ulong, ulong, ulong> function,
        Availability availability = Availability.AnyProgram)
    {
        Functions[(int)id] = function;
        Available[(int)id] = availability;
    }

    /// <summary>Whether a program of <paramref name="type"/> may call helper <paramref name="id"/>.</summary>
    public static bool IsAvailable(int id, bpf_prog_type type) => (uint)id < Size && Available[id] switch
    {
        Availability.AnyProgram => true,
        Availability.XdpOnly => type == bpf_prog_type.BPF_PROG_TYPE_XDP,
        _ => false,
    };

    /// <summary>The helper's kernel name without the bpf_ prefix (e.g. map_lookup_elem), or null if there is no such helper here.</summary>
    public static string? Name(int id) =>
        (uint)id < Size && Available[id] != Availability.None ? ((bpf_func_id)id).ToString()["BPF_FUNC_".Length..] : null;

    /// <summary>bpftool's spelling: bpf_map_lookup_elem#1.</summary>
    public static string? Describe(int id) => Name(id) is { } name ? $"bpf_{name}#{id}" : null;
}
