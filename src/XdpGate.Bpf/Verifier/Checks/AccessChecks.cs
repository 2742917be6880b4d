using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Transfer;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// The kernel's check_mem_access and check_atomic, the refusals: what a load, store or atomic may reach through each
/// kind of pointer (context fields, packet bytes proven against data_end, map values and helper memory in bounds, the
/// stack), and what it may store there.
/// </summary>
internal static class AccessChecks
{
    /// <summary>The kernel's BPF_MAX_VAR_OFF: pointer offsets beyond it are refused outright, and bounds beyond it are no bounds.</summary>
    public const long MaxVarOff = 1 << 29;

    /// <summary>
    /// An access of <paramref name="size"/> bytes at <paramref name="off"/> from register <paramref name="b"/>, which
    /// holds <paramref name="ptr"/>; a store writes <paramref name="value"/>. Stack accesses are <see cref="StackChecks"/>'.
    /// </summary>
    public static void Access(in CheckSite at, bpf_prog_type type, int b, in Reg ptr, int off, int size, bool write, in Reg value, bool signed)
    {
        if (write && value.IsPointer && at.Strict && ptr.Kind is not RegKind.Stack)
        {
            throw at.Refuse(VerifierRule.PointerLeak, ptr.Kind switch
            {
                RegKind.Ctx => $"R{b} leaks addr into ctx",
                RegKind.MapValue => $"R{b} leaks addr into map",
                RegKind.Packet or RegKind.PacketMeta => $"R{b} leaks addr into packet",
                _ => $"R{b} leaks addr into mem",
            }, b);
        }
        switch (ptr.Kind)
        {
            case RegKind.Ctx:
                Context(at, type, b, ptr, off, size, write);
                break;
            case RegKind.Packet:
            case RegKind.PacketMeta:
                Packet(at, b, ptr, off, size);
                break;
            case RegKind.MapValue:
                Region(at, b, ptr, off, size, write);
                // array_map_direct_value_addr serves only single-element arrays, and the kernel refuses the load otherwise.
                if (!write && FrozenMapRead.Reads(ptr) && FrozenMapRead.Address(ptr, off) == 0)
                    throw at.Refuse(VerifierRule.InvalidMapValueAccess,
                        $"direct read of frozen read-only map '{ptr.Map!.Name}' at off={FrozenMapRead.Offset(ptr, off)} not supported (max_entries {ptr.Map.MaxEntries}, only 1 is)", b);
                break;
            case RegKind.Mem:
                Region(at, b, ptr, off, size, write);
                break;
            case RegKind.Stack:
                StackChecks.Access(at, b, ptr, off, size, write, value, signed);
                break;
            case RegKind.MapValueOrNull:
            case RegKind.MemOrNull:
                throw at.Refuse(VerifierRule.PossiblyNullPointer, $"R{b} invalid mem access '{Reg.KindName(ptr.Kind)}'", b);
            default:
                throw at.Refuse(VerifierRule.ScalarDereference, $"R{b} invalid mem access '{Reg.KindName(ptr.Kind)}'", b);
        }
    }

    /// <summary>
    /// An atomic on <paramref name="target"/> with <paramref name="value"/> from the instruction's registers, before its
    /// read and its write are checked as accesses.
    /// </summary>
    public static void Atomic(in CheckSite at, bpf_insn insn, int size, in Reg target, in Reg value)
    {
        int d = insn.dst_reg, s = insn.src_reg;
        if (target.Kind is RegKind.Ctx or RegKind.Packet or RegKind.PacketMeta)
            throw at.Refuse(target.Kind == RegKind.Ctx ? VerifierRule.InvalidContextAccess : VerifierRule.InvalidPacketAccess,
                $"BPF_ATOMIC stores into R{d} {Reg.KindName(target.Kind)} is not allowed", d);
        if (value.IsPointer && at.Strict)
            throw at.Refuse(VerifierRule.PointerLeak, $"R{s} leaks addr into mem", s);
        // Atomics must be aligned to their size whatever the architecture allows for plain accesses.
        var bits = target.Var.Bits;
        if (((bits.Value + (ulong)(long)target.Off + (ulong)(long)insn.off) & (ulong)(size - 1)) != 0 || (bits.Mask & (ulong)(size - 1)) != 0)
            throw at.Refuse(target.Kind == RegKind.Stack ? VerifierRule.InvalidStackAccess : VerifierRule.InvalidMapValueAccess,
                $"misaligned access off {target.Off}+{insn.off} size {size}", d);
    }

    private static void Context(in CheckSite at, bpf_prog_type type, int b, in Reg ptr, int off, int size, bool write)
    {
        if (ptr.Off != 0)
            throw at.Refuse(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{b} off={ptr.Off} disallowed", b);
        if (!ptr.Var.IsConst)
            throw at.Refuse(VerifierRule.InvalidContextAccess, $"variable ctx access var_off=({ptr.Var.Bits.Value:x}; {ptr.Var.Bits.Mask:x}) disallowed", b);
        if (ContextAccess.Check(type, off, size, write, devmapAttach: false) is null)
            throw at.Refuse(VerifierRule.InvalidContextAccess, $"invalid bpf_context access off={off} size={size}", b);
    }

    /// <summary>The kernel's check_packet_access: the fixed offset inside the range proven against data_end.</summary>
    public static void Packet(in CheckSite at, int b, in Reg ptr, int off, int size)
    {
        if (ptr.Var.SMin < 0)
            throw at.Refuse(VerifierRule.InvalidPacketAccess, $"R{b} min value is negative, either use unsigned index or do a if (index >=0) check.", b);
        var start = (long)ptr.Off + off;
        if (start < 0 || start + size > ptr.Range)
            throw at.Refuse(VerifierRule.InvalidPacketAccess,
                $"invalid access to packet, off={start} size={size}, R{b}(id={ptr.Id},off={ptr.Off},r={ptr.Range}) (check it against data_end first)", b);
    }

    /// <summary>
    /// The kernel's check_mem_region_access for a map value or helper memory: every offset the pointer may have,
    /// inside the region.
    /// </summary>
    public static void Region(in CheckSite at, int b, in Reg ptr, int off, int size, bool write)
    {
        var (regionSize, what, sizeName) = ptr.Kind == RegKind.MapValue
            ? (ptr.Map!.ValueSize, "map value", "value_size")
            : (ptr.MemSize, "memory", "mem_size");
        const VerifierRule rule = VerifierRule.InvalidMapValueAccess;
        var fixedOff = (long)ptr.Off + off;
        var v = ptr.Var;
        if (v.SMin < 0 && (v.SMin == long.MinValue || fixedOff + v.SMin < 0))
            throw at.Refuse(rule, $"R{b} min value is negative, either use unsigned index or do a if (index >=0) check.", b);
        var low = fixedOff + v.SMin;
        if (low < 0 || size <= 0 || low + size > regionSize)
            throw at.Refuse(rule, $"invalid access to {what}, {sizeName}={regionSize} off={low} size={size}", b);
        if (v.UMax >= MaxVarOff)
            throw at.Refuse(rule, $"R{b} unbounded memory access, make sure to bounds check any such access", b);
        var high = fixedOff + (long)v.UMax;
        if (high < 0 || high + size > regionSize)
            throw at.Refuse(rule, $"invalid access to {what}, {sizeName}={regionSize} off={high} size={size}", b);
        // BPF_F_RDONLY_PROG, and devmaps, whose values the kernel makes read-only to programs (dev_map_alloc): the regions
        // the run-time check refuses to write, which a proven access does without.
        if (write && ptr.Kind == RegKind.MapValue && !ptr.Map!.ValueRegion.Writable)
            throw at.Refuse(rule, $"write into map forbidden, value_size={regionSize} off={fixedOff} size={size}", b);
    }
}
