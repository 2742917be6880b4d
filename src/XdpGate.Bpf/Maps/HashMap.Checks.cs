using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

public sealed partial class HashMap
{
    /// <summary>Creation flags a hash map accepts (the kernel's HTAB_CREATE_FLAG_MASK).</summary>
    public const uint CreateFlagMask =
        MapFlags.BPF_F_NO_PREALLOC | MapFlags.BPF_F_NO_COMMON_LRU | MapFlags.BPF_F_NUMA_NODE | AccessFlagMask |
        MapFlags.BPF_F_ZERO_SEED;

    /// <summary>The kernel's BPF_F_ACCESS_MASK.</summary>
    private const uint AccessFlagMask =
        MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY | MapFlags.BPF_F_WRONLY_PROG;

    /// <summary>KMALLOC_MAX_SIZE on x86-64 (order-10 pages), which bounds key_size + value_size.</summary>
    private const ulong KmallocMaxSize = 4ul << 20;

    /// <summary>sizeof(struct htab_elem) on x86-64, subtracted from that bound.</summary>
    private const ulong HtabElemSize = 48;

    /// <summary>PCPU_MIN_UNIT_SIZE, the bound on one CPU's slot of a per-CPU value.</summary>
    private const ulong PcpuMinUnitSize = 32 << 10;

    /// <summary>
    /// htab_map_alloc_check and htab_map_alloc, in the kernel's order. What we deliberately accept: BPF_F_ZERO_SEED
    /// without CAP_SYS_ADMIN (there are no capabilities here), BPF_F_NUMA_NODE (there is one node),
    /// BPF_F_NO_PREALLOC (elements are preallocated anyway; the observable semantics are the same), and
    /// BPF_F_NO_COMMON_LRU (there is one CLOCK for all CPUs, and max_entries is not rounded to the CPU count).
    /// </summary>
    private static MapDefinition Checked(MapDefinition definition, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentOutOfRangeException.ThrowIfLessThan(possibleCpus, 1);
        var type = definition.Type;
        var flags = definition.Flags;
        if (type is not (bpf_map_type.BPF_MAP_TYPE_HASH or bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH
            or bpf_map_type.BPF_MAP_TYPE_LRU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH))
            throw Refused(definition, $"{type} is not a hash map type", Errno.EINVAL);

        var perCpu = type is bpf_map_type.BPF_MAP_TYPE_PERCPU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        var lru = type is bpf_map_type.BPF_MAP_TYPE_LRU_HASH or bpf_map_type.BPF_MAP_TYPE_LRU_PERCPU_HASH;
        var perCpuLru = (flags & MapFlags.BPF_F_NO_COMMON_LRU) != 0;

        if ((flags & ~CreateFlagMask) != 0)
            throw Refused(definition, $"map_flags 0x{flags & ~CreateFlagMask:x} are not valid for {type}", Errno.EINVAL);
        if ((flags & (MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG)) == (MapFlags.BPF_F_RDONLY_PROG | MapFlags.BPF_F_WRONLY_PROG))
            throw Refused(definition, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other", Errno.EINVAL);
        if ((flags & (MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY)) == (MapFlags.BPF_F_RDONLY | MapFlags.BPF_F_WRONLY))
            throw Refused(definition, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other", Errno.EINVAL);
        if (!lru && perCpuLru)
            throw Refused(definition, $"BPF_F_NO_COMMON_LRU needs an LRU map type, not {type}", Errno.EINVAL);
        if (lru && (flags & MapFlags.BPF_F_NO_PREALLOC) != 0)
            throw Refused(definition, $"{type} is always preallocated; BPF_F_NO_PREALLOC is not supported", Errno.ENOTSUPP);
        if ((flags & MapFlags.BPF_F_NUMA_NODE) != 0 && (perCpu || perCpuLru))
            throw Refused(definition, "BPF_F_NUMA_NODE cannot be combined with per-CPU values or per-CPU LRU lists", Errno.EINVAL);
        if (definition.MaxEntries == 0)
            throw Refused(definition, "max_entries must be greater than 0", Errno.EINVAL);
        if (definition.KeySize == 0)
            throw Refused(definition, "key_size must be greater than 0", Errno.EINVAL);
        if (definition.ValueSize == 0)
            throw Refused(definition, "value_size must be greater than 0", Errno.EINVAL);
        if ((ulong)definition.KeySize + definition.ValueSize >= KmallocMaxSize - HtabElemSize)
            throw Refused(definition,
                $"key_size {definition.KeySize} + value_size {definition.ValueSize} must be below {KmallocMaxSize - HtabElemSize}",
                Errno.E2BIG);
        if (perCpu && (ulong)RoundUp8((int)definition.ValueSize) > PcpuMinUnitSize)
            throw Refused(definition, $"value_size {definition.ValueSize} of a per-CPU map exceeds {PcpuMinUnitSize} bytes", Errno.E2BIG);
        if (definition.MaxEntries > 1u << 31)
            throw Refused(definition, $"max_entries {definition.MaxEntries} exceeds 2^31", Errno.E2BIG);

        // Ours, not the kernel's: element indices share 32 bits with the chain terminators' marker bit.
        var elements = (ulong)definition.MaxEntries + (ulong)(perCpu ? 0 : ReplacementReserveFor(possibleCpus));
        if (elements >= NullsBit)
            throw Refused(definition, $"max_entries {definition.MaxEntries} is too many elements to preallocate", Errno.ENOMEM);
        var valueBytes = (UInt128)(ulong)RoundUp8((int)definition.ValueSize) * elements * (ulong)(perCpu ? possibleCpus : 1);
        if (valueBytes > (ulong)nint.MaxValue / 2)
            throw Refused(definition, $"{elements} values of {definition.ValueSize} bytes do not fit in memory", Errno.ENOMEM);
        return definition;
    }

    private static BpfLoadException Refused(MapDefinition definition, string problem, int errno) =>
        new($"map '{definition.Name}': {problem} ({ErrnoText.Name(errno)})");
}
