namespace XdpGate.Uapi;

/// <summary>
/// The #defines of uapi/linux/bpf.h that the engine's maps and the Linux layer's bpf() commands take (names and values
/// as in the header).
/// </summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public static class bpf_defines
{
    /// <summary>Size of map_name and prog_name, including the terminating NUL.</summary>
    public const int BPF_OBJ_NAME_LEN = 16;

    // enum bpf_map_type and enum bpf_prog_type values the Linux layer uses by name (the engine has the whole enums).
    public const uint BPF_MAP_TYPE_ARRAY = 2;
    public const uint BPF_MAP_TYPE_XSKMAP = 17;
    public const uint BPF_PROG_TYPE_SCHED_CLS = 3;
    public const uint BPF_PROG_TYPE_XDP = 6;

    // BPF_MAP_UPDATE_ELEM flags.
    public const ulong BPF_ANY = 0;
    public const ulong BPF_NOEXIST = 1;
    public const ulong BPF_EXIST = 2;
    public const ulong BPF_F_LOCK = 4;

    // BPF_PROG_LOAD prog_flags.
    public const uint BPF_F_STRICT_ALIGNMENT = 1u << 0;
    public const uint BPF_F_ANY_ALIGNMENT = 1u << 1;
    public const uint BPF_F_TEST_RND_HI32 = 1u << 2;
    public const uint BPF_F_TEST_STATE_FREQ = 1u << 3;
    public const uint BPF_F_SLEEPABLE = 1u << 4;
    public const uint BPF_F_XDP_HAS_FRAGS = 1u << 5;

    // BPF_PROG_TEST_RUN flags.
    public const uint BPF_F_TEST_RUN_ON_CPU = 1u << 0;
    public const uint BPF_F_TEST_XDP_LIVE_FRAMES = 1u << 1;
}
#pragma warning restore CA1707, IDE1006
