using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Scalars;
using XdpGate.Bpf.Verifier.Transfer;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>Loads, stores and atomics through each kind of pointer: the access checked (<see cref="AccessChecks"/>), then what it reads or leaves.</summary>
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
        AccessChecks.Atomic(At, insn, size, target, value);
        // Read-modify-write: the memory must be readable and writable; what is left there is unknown. Proven as loads
        // and stores are (map values, the stack at a constant offset), the alignment check then holds at run time too:
        // every map value and stack frame starts 8-byte aligned.
        var old = Access(d, insn.off, size, write: false, default, signed: false);
        Access(d, insn.off, size, write: true, Reg.Unknown, signed: false);
        if ((insn.imm & BPF_FETCH) != 0)
            Set(insn.imm == BPF_CMPXCHG ? 0 : s, old.IsPointer ? Reg.Unknown : Reg.Of(ScalarAlu.Load(size)));
    }

    /// <summary>
    /// An access of <paramref name="size"/> bytes at <paramref name="off"/> from register <paramref name="b"/>; a load
    /// returns what it reads, a store writes <paramref name="value"/>.
    /// </summary>
    /// <param name="from">The register a store writes, when it is one (a spill of it links the two).</param>
    private Reg Access(int b, int off, int size, bool write, Reg value, bool signed, int from = -1)
    {
        var ptr = Read(b);
        AccessChecks.Access(At, program.Type, b, ptr, off, size, write, value, signed);
        findings.Access(pc, ptr);
        if (ptr.Kind == RegKind.Stack)
            return StackAccess(ptr, off, size, write, value, signed, from);
        if (write)
            return default;
        return ptr.Kind switch
        {
            RegKind.Ctx => ContextLoad(off, size),
            RegKind.MapValue when FrozenMapRead.Reads(ptr) => FrozenMapRead.Load(ptr, off, size, signed),
            _ => Reg.Of(ScalarAlu.Load(size, signed)),
        };
    }

    private Reg ContextLoad(int off, int size)
    {
        var field = ContextAccess.Check(program.Type, off, size, write: false, devmapAttach: false)!.Value;
        // Packet pointers loaded from the context all start with id 0, so a check through one proves the others.
        return field == RegKind.Scalar ? Reg.Of(ScalarAlu.Load(size)) : Reg.Pointer(field);
    }
}
