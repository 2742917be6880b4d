namespace XdpGate.Uapi;

/// <summary>Map types with the numbers of the kernel's <c>enum bpf_map_type</c> (uapi/linux/bpf.h).</summary>
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public enum bpf_map_type : uint
{
    BPF_MAP_TYPE_UNSPEC = 0,
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PROG_ARRAY = 3,
    BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
    BPF_MAP_TYPE_PERCPU_HASH = 5,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_STACK_TRACE = 7,
    BPF_MAP_TYPE_CGROUP_ARRAY = 8,
    BPF_MAP_TYPE_LRU_HASH = 9,
    BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
    BPF_MAP_TYPE_LPM_TRIE = 11,
    BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
    BPF_MAP_TYPE_HASH_OF_MAPS = 13,
    BPF_MAP_TYPE_DEVMAP = 14,
    BPF_MAP_TYPE_SOCKMAP = 15,
    BPF_MAP_TYPE_CPUMAP = 16,
    BPF_MAP_TYPE_XSKMAP = 17,
    BPF_MAP_TYPE_SOCKHASH = 18,
    BPF_MAP_TYPE_CGROUP_STORAGE = 19,
    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
    BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
    BPF_MAP_TYPE_QUEUE = 22,
    BPF_MAP_TYPE_STACK = 23,
    BPF_MAP_TYPE_SK_STORAGE = 24,
    BPF_MAP_TYPE_DEVMAP_HASH = 25,
    BPF_MAP_TYPE_STRUCT_OPS = 26,
    BPF_MAP_TYPE_RINGBUF = 27,
    BPF_MAP_TYPE_INODE_STORAGE = 28,
    BPF_MAP_TYPE_TASK_STORAGE = 29,
    BPF_MAP_TYPE_BLOOM_FILTER = 30,
    BPF_MAP_TYPE_USER_RINGBUF = 31,
    BPF_MAP_TYPE_CGRP_STORAGE = 32,
    BPF_MAP_TYPE_ARENA = 33,
}

/// <summary>Flags of map creation and element updates, with the kernel's values.</summary>
public static class MapFlags
{
    // Update flags (bpf_map_update_elem): the syscall ABI's values, from the one place they are written down.
    public const ulong BPF_ANY = bpf_defines.BPF_ANY;
    public const ulong BPF_NOEXIST = bpf_defines.BPF_NOEXIST;
    public const ulong BPF_EXIST = bpf_defines.BPF_EXIST;
    public const ulong BPF_F_LOCK = bpf_defines.BPF_F_LOCK;

    // Creation flags (map_flags).
    public const uint BPF_F_NO_PREALLOC = 1u << 0;
    public const uint BPF_F_NO_COMMON_LRU = 1u << 1;
    public const uint BPF_F_NUMA_NODE = 1u << 2;
    public const uint BPF_F_RDONLY = 1u << 3;
    public const uint BPF_F_WRONLY = 1u << 4;
    public const uint BPF_F_ZERO_SEED = 1u << 6;
    public const uint BPF_F_RDONLY_PROG = 1u << 7;
    public const uint BPF_F_WRONLY_PROG = 1u << 8;
    public const uint BPF_F_MMAPABLE = 1u << 10;
    public const uint BPF_F_INNER_MAP = 1u << 12;

    // bpf_redirect_map flags (above the fallback action in the low bits).
    public const ulong BPF_F_BROADCAST = 1UL << 3;
    public const ulong BPF_F_EXCLUDE_INGRESS = 1UL << 4;
}
#pragma warning restore CA1707, IDE1006
