using System.Runtime.CompilerServices;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>The kernel's check_mem_access: loads, stores and atomics through each kind of pointer.</summary>
internal sealed partial class Exploration
{
    private void Load(bpf_insn insn)
    {
        var size = SizeInBytes(Size(insn.code));
        var value = Access(insn.src_reg, insn.off, size, write: false, default, signed: Mode(insn.code) == BPF_MEMSX);
        Set(insn.dst_reg, value);
    }

    private void Store(bpf_insn insn)
    {
        var size = SizeInBytes(Size(insn.code));
        int d = insn.dst_reg, s = insn.src_reg;
        if (Class(insn.code) == BPF_ST)
        {
            Access(d, insn.off, size, write: true, Immediate(insn.imm, true), signed: false);
            return;
        }

        // The kernel checks the stored register before the address (check_store_reg, check_atomic).
        var value = Read(s);
        var target = Read(d);
        if (Mode(insn.code) != BPF_ATOMIC)
        {
            Access(d, insn.off, size, write: true, value, signed: false, from: s);
            return;
        }

        if (insn.imm == BPF_CMPXCHG)
            Read(0);
        if (target.Kind is RegKind.Ctx or RegKind.Packet or RegKind.PacketMeta)
            throw Fail(target.Kind == RegKind.Ctx ? VerifierRule.InvalidContextAccess : VerifierRule.InvalidPacketAccess,
                $"BPF_ATOMIC stores into R{d} {Reg.KindName(target.Kind)} is not allowed", d);
        if (value.IsPointer && Strict)
            throw Fail(VerifierRule.PointerLeak, $"R{s} leaks addr into mem", s);
        // Atomics must be aligned to their size whatever the architecture allows for plain accesses.
        var bits = target.Var.Bits;
        if (((bits.Value + (ulong)(long)target.Off + (ulong)(long)insn.off) & (ulong)(size - 1)) != 0 || (bits.Mask & (ulong)(size - 1)) != 0)
            throw Fail(target.Kind == RegKind.Stack ? VerifierRule.InvalidStackAccess : VerifierRule.InvalidMapValueAccess,
                $"misaligned access off {target.Off}+{insn.off} size {size}", d);
        // Read-modify-write: the memory must be readable and writable; what is left there is unknown. Atomics keep their
        // run-time check, which also proves alignment.
        findings.KeepRunTimeCheck(pc);
        var old = Access(d, insn.off, size, write: false, default, signed: false);
        Access(d, insn.off, size, write: true, Reg.Unknown, signed: false);
        if ((insn.imm & BPF_FETCH) != 0)
            Set(insn.imm == BPF_CMPXCHG ? 0 : s, old.IsPointer ? Reg.Unknown : Reg.Of(LoadedValue(size, false)));
    }

    /// <summary>
    /// Checks an access of <paramref name="size"/> bytes at <paramref name="off"/> from register <paramref name="b"/>;
    /// a load returns what it reads, a store writes <paramref name="value"/>.
    /// </summary>
    /// <param name="from">The register a store writes, when it is one (a spill of it links the two).</param>
    private Reg Access(int b, int off, int size, bool write, Reg value, bool signed, int from = -1)
    {
        var ptr = Read(b);
        findings.Access(pc, ptr);
        if (write && value.IsPointer && Strict && ptr.Kind is not RegKind.Stack)
        {
            throw Fail(VerifierRule.PointerLeak, ptr.Kind switch
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
                return ContextLoad(b, ptr, off, size, write);
            case RegKind.Packet:
            case RegKind.PacketMeta:
                CheckPacket(b, ptr, off, size);
                return write ? default : Reg.Of(LoadedValue(size, signed));
            case RegKind.MapValue:
                CheckRegion(b, ptr, off, size, ptr.Map!.ValueSize, write, VerifierRule.InvalidMapValueAccess, "map value", "value_size");
                return write ? default : MapValueLoad(b, ptr, off, size, signed);
            case RegKind.Mem:
                CheckRegion(b, ptr, off, size, ptr.MemSize, write, VerifierRule.InvalidMapValueAccess, "memory", "mem_size");
                return write ? default : Reg.Of(LoadedValue(size, signed));
            case RegKind.Stack:
                return StackAccess(b, ptr, off, size, write, value, signed, from);
            case RegKind.MapValueOrNull:
            case RegKind.MemOrNull:
                throw Fail(VerifierRule.PossiblyNullPointer, $"R{b} invalid mem access '{Reg.KindName(ptr.Kind)}'", b);
            default:
                throw Fail(VerifierRule.ScalarDereference, $"R{b} invalid mem access '{Reg.KindName(ptr.Kind)}'", b);
        }
    }

    /// <summary>
    /// The kernel's bpf_map_direct_read: a load at a constant offset from a map the program cannot write and user
    /// space can no longer write (BPF_F_RDONLY_PROG and frozen, as libbpf leaves .rodata) is the constant there now,
    /// so branches on <c>volatile const</c> knobs are decided and the disabled side is never explored.
    /// </summary>
    private unsafe Reg MapValueLoad(int b, in Reg ptr, int off, int size, bool signed)
    {
        var map = ptr.Map!;
        // The kernel asks the map type for a direct address: plain arrays have one (per-CPU arrays and others do not).
        if (!ptr.Var.IsConst || (map.Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) == 0 || !map.IsFrozen
            || map.Type != bpf_map_type.BPF_MAP_TYPE_ARRAY || map is not IDirectValueMap direct)
            return Reg.Of(LoadedValue(size, signed));
        var mapOff = (long)ptr.Off + off + (long)ptr.Var.ConstValue;
        var address = direct.DirectValueAddress((uint)mapOff);
        // array_map_direct_value_addr serves only single-element arrays, and the kernel refuses the load otherwise.
        if (address == 0)
            throw Fail(VerifierRule.InvalidMapValueAccess,
                $"direct read of frozen read-only map '{map.Name}' at off={mapOff} not supported (max_entries {map.MaxEntries}, only 1 is)", b);
        var p = (byte*)address;
        var value = size switch
        {
            1 => signed ? (ulong)(long)*(sbyte*)p : *p,
            2 => signed ? (ulong)(long)Unsafe.ReadUnaligned<short>(p) : Unsafe.ReadUnaligned<ushort>(p),
            4 => signed ? (ulong)(long)Unsafe.ReadUnaligned<int>(p) : Unsafe.ReadUnaligned<uint>(p),
            _ => Unsafe.ReadUnaligned<ulong>(p),
        };
        return Reg.Const(value);
    }

    private Reg ContextLoad(int b, Reg ptr, int off, int size, bool write)
    {
        if (ptr.Off != 0)
            throw Fail(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{b} off={ptr.Off} disallowed", b);
        if (!ptr.Var.IsConst)
            throw Fail(VerifierRule.InvalidContextAccess, $"variable ctx access var_off=({ptr.Var.Bits.Value:x}; {ptr.Var.Bits.Mask:x}) disallowed", b);
        var kind = ContextAccess.Check(program.Type, off, size, write, devmapAttach: false)
            ?? throw Fail(VerifierRule.InvalidContextAccess, $"invalid bpf_context access off={off} size={size}", b);
        if (write)
            return default;
        // Packet pointers loaded from the context all start with id 0, so a check through one proves the others.
        return kind == RegKind.Scalar ? Reg.Of(LoadedValue(size, false)) : Reg.Pointer(kind);
    }

    /// <summary>The kernel's check_packet_access: the fixed offset inside the range proven against data_end.</summary>
    private void CheckPacket(int b, in Reg ptr, int off, int size)
    {
        if (ptr.Var.SMin < 0)
            throw Fail(VerifierRule.InvalidPacketAccess, $"R{b} min value is negative, either use unsigned index or do a if (index >=0) check.", b);
        var start = (long)ptr.Off + off;
        if (start < 0 || start + size > ptr.Range)
            throw Fail(VerifierRule.InvalidPacketAccess,
                $"invalid access to packet, off={start} size={size}, R{b}(id={ptr.Id},off={ptr.Off},r={ptr.Range}) (check it against data_end first)", b);
    }

    /// <summary>The kernel's check_mem_region_access for map values and helper memory: every offset the pointer may have, inside the region.</summary>
    private void CheckRegion(int b, in Reg ptr, int off, int size, int regionSize, bool write, VerifierRule rule, string what, string sizeName)
    {
        var fixedOff = (long)ptr.Off + off;
        var v = ptr.Var;
        if (v.SMin < 0 && (v.SMin == long.MinValue || fixedOff + v.SMin < 0))
            throw Fail(rule, $"R{b} min value is negative, either use unsigned index or do a if (index >=0) check.", b);
        var low = fixedOff + v.SMin;
        if (low < 0 || size <= 0 || low + size > regionSize)
            throw Fail(rule, $"invalid access to {what}, {sizeName}={regionSize} off={low} size={size}", b);
        if (v.UMax >= MaxVarOff)
            throw Fail(rule, $"R{b} unbounded memory access, make sure to bounds check any such access", b);
        var high = fixedOff + (long)v.UMax;
        if (high < 0 || high + size > regionSize)
            throw Fail(rule, $"invalid access to {what}, {sizeName}={regionSize} off={high} size={size}", b);
        if (write && ptr.Kind == RegKind.MapValue && (ptr.Map!.Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) != 0)
            throw Fail(rule, $"write into map forbidden, value_size={regionSize} off={fixedOff} size={size}", b);
    }
}
