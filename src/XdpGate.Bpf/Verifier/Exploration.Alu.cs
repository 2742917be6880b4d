using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's check_alu_op and adjust_ptr_min_max_vals: arithmetic on scalars, and on pointers what the checks allow
/// (<see cref="AluChecks"/>).
/// </summary>
internal sealed partial class Exploration
{
    private void Alu(bpf_insn insn)
    {
        var is64 = Class(insn.code) == BPF_ALU64;
        var op = Op(insn.code);
        var isX = Source(insn.code) == BPF_X;
        int d = insn.dst_reg, s = insn.src_reg;

        if (op is BPF_END or BPF_NEG)
        {
            var value = Read(d);
            AluChecks.Unary(At, d, value);
            if (value.IsPointer)
            {
                Set(d, Reg.Unknown);
                return;
            }
            Set(d, Reg.Of(op == BPF_END
                ? ScalarAlu.Endian(value.Var, insn.imm, swap: is64 || Source(insn.code) == BPF_TO_BE)
                : ScalarAlu.Apply(BPF_NEG, value.Var, value.Var, is64)));
            return;
        }

        if (op == BPF_MOV)
        {
            Move(insn, is64, isX, d, s);
            return;
        }

        if (!isX)
            AluChecks.Immediate(At, op, insn.imm, is64);

        // The kernel checks the source operand before the destination, so a refusal names the same register.
        var src = isX ? Read(s) : Immediate(insn.imm, true);
        var dst = Read(d);
        if (!dst.IsPointer && !src.IsPointer)
        {
            Set(d, Reg.Of(ScalarAlu.Apply(op, dst.Var, src.Var, is64, insn.off)));
            return;
        }
        PointerAlu(insn, op, is64, d, s, dst, src);
    }

    private void Move(bpf_insn insn, bool is64, bool isX, int d, int s)
    {
        if (!isX)
        {
            Set(d, Immediate(insn.imm, is64));
            return;
        }
        var src = Read(s);
        if (src.IsPointer)
        {
            if (is64 && insn.off == 0)
            {
                Set(d, src);
                return;
            }
            AluChecks.PartialPointerCopy(At, s);
            Set(d, Reg.Unknown);
            return;
        }
        if (is64 && insn.off == 0)
        {
            // Copies share an id, so what a branch learns about one reaches the other (the kernel's find_equal_scalars).
            if (src.Id == 0)
                cur.Regs[s].Id = src.Id = NewId();
            Set(d, src);
            return;
        }
        Set(d, Reg.Of(ScalarAlu.Apply(BPF_MOV, Scalar.Unknown, src.Var, is64, insn.off)));
    }

    private void PointerAlu(bpf_insn insn, byte op, bool is64, int d, int s, Reg dst, Reg src)
    {
        if ((dst.IsPointer && src.IsPointer) || !is64)
        {
            // Two pointers, or 32 bits of one: a subtraction gives an unknown number.
            AluChecks.PointerDifference(At, op, twoPointers: dst.IsPointer && src.IsPointer, d, s);
            Set(d, Reg.Unknown);
            return;
        }

        var ptr = dst.IsPointer ? dst : src;
        var offset = (dst.IsPointer ? src : dst).Var;
        // The scalar becomes part of the pointer's offset: its value matters (the kernel marks it precise).
        if (Source(insn.code) == BPF_X)
            NeedPrecise(dst.IsPointer ? s : d);
        AluChecks.PointerOffset(At, op, d, s, dst, src);
        if (offset.IsConst)
        {
            var value = (long)offset.ConstValue;
            var off = ptr.Off + (op == BPF_ADD ? value : -value);
            AluChecks.FixedOffset(At, d, s, ptr.Kind, off);
            ptr.Off = (int)off;
            Set(d, ptr);
            return;
        }
        ptr.Var = ScalarAlu.Apply(op, ptr.Var, offset, true);
        AluChecks.VariableOffset(At, d, s, ptr);
        if (ptr.IsPacket)
        {
            // Something unknown was added: the proven range no longer applies to this pointer.
            ptr.Id = NewId();
            ptr.Range = 0;
        }
        Set(d, ptr);
    }
}
