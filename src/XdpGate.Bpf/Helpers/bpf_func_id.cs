namespace XdpGate.Bpf.Helpers;

/// <summary>Helper ids with the kernel's numbers (<c>enum bpf_func_id</c>), for the helpers the XDP engine provides.</summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public enum bpf_func_id
{
    BPF_FUNC_unspec = 0,
    BPF_FUNC_map_lookup_elem = 1,
    BPF_FUNC_map_update_elem = 2,
    BPF_FUNC_map_delete_elem = 3,
    BPF_FUNC_ktime_get_ns = 5,
    BPF_FUNC_trace_printk = 6,
    BPF_FUNC_get_prandom_u32 = 7,
    BPF_FUNC_get_smp_processor_id = 8,
    BPF_FUNC_tail_call = 12,
    BPF_FUNC_redirect = 23,
    BPF_FUNC_csum_diff = 28,
    BPF_FUNC_xdp_adjust_head = 44,
    BPF_FUNC_redirect_map = 51,
    BPF_FUNC_xdp_adjust_meta = 54,
    BPF_FUNC_xdp_adjust_tail = 65,
    BPF_FUNC_jiffies64 = 118,
    BPF_FUNC_ktime_get_boot_ns = 125,
    BPF_FUNC_ringbuf_output = 130,
    BPF_FUNC_ringbuf_reserve = 131,
    BPF_FUNC_ringbuf_submit = 132,
    BPF_FUNC_ringbuf_discard = 133,
    BPF_FUNC_loop = 181,
    BPF_FUNC_xdp_get_buff_len = 188,
    BPF_FUNC_xdp_load_bytes = 189,
    BPF_FUNC_xdp_store_bytes = 190,
}
#pragma warning restore CA1707, IDE1006
