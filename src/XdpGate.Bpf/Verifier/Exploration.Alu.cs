using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>The kernel's check_alu_op and adjust_ptr_min_max_vals: arithmetic on scalars and what is allowed on pointers.</summary>
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
            if (value.IsPointer)
            {
                if (Strict)
                    throw Fail(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic prohibited", d);
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

        if (!isX && op is BPF_DIV or BPF_MOD && insn.imm == 0)
            throw Fail(VerifierRule.InvalidInstruction, "div by zero");
        if (!isX && op is BPF_LSH or BPF_RSH or BPF_ARSH && (uint)insn.imm >= (is64 ? 64u : 32u))
            throw Fail(VerifierRule.InvalidInstruction, $"invalid shift {insn.imm}");

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
            // A partial or sign-extended copy of a pointer is a meaningless number; unprivileged it would leak the address.
            if (Strict)
                throw Fail(VerifierRule.PointerLeak, $"R{s} partial copy of pointer", s);
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
        var name = Syntax.AluOperator(op, 0) ?? "?";
        if (dst.IsPointer && src.IsPointer)
        {
            // Two pointers: only subtraction, giving an unknown number, and only where addresses may be seen.
            if (op == BPF_SUB && !Strict)
            {
                Set(d, Reg.Unknown);
                return;
            }
            throw Fail(VerifierRule.PointerArithmetic, $"R{d} pointer {name} pointer prohibited", d, s);
        }
        if (!is64)
        {
            if (op == BPF_SUB && !Strict)
            {
                Set(d, Reg.Unknown);
                return;
            }
            throw Fail(VerifierRule.PointerArithmetic, $"R{d} 32-bit pointer arithmetic prohibited", d, s);
        }

        var ptr = dst.IsPointer ? dst : src;
        var offset = dst.IsPointer ? src : dst;
        // The scalar becomes part of the pointer's offset: its value matters (the kernel marks it precise).
        if (Source(insn.code) == BPF_X)
            NeedPrecise(dst.IsPointer ? s : d);
        var kind = Reg.KindName(ptr.Kind);
        if (ptr.MaybeNull)
            throw Fail(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic on {kind} prohibited, null-check it first", d, s);
        if (ptr.Kind is RegKind.PacketEnd or RegKind.MapPtr or RegKind.Func)
            throw Fail(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic on {kind} prohibited", d, s);
        if (op == BPF_SUB && !dst.IsPointer)
            throw Fail(VerifierRule.PointerArithmetic, $"R{d} tried to subtract pointer from scalar", d, s);
        if (op is not (BPF_ADD or BPF_SUB))
        {
            throw Fail(VerifierRule.PointerArithmetic, op is BPF_AND or BPF_OR or BPF_XOR
                ? $"R{d} bitwise operator {name} on pointer prohibited"
                : $"R{d} pointer arithmetic with {name} operator prohibited", d, s);
        }

        var v = offset.Var;
        if (v.IsConst)
        {
            var value = (long)v.ConstValue;
            if (value >= AccessChecks.MaxVarOff || value <= -AccessChecks.MaxVarOff)
                throw Fail(VerifierRule.PointerArithmetic, $"math between {kind} pointer and {value} is not allowed", d, s);
            var off = ptr.Off + (op == BPF_ADD ? value : -value);
            if (off >= AccessChecks.MaxVarOff || off <= -AccessChecks.MaxVarOff)
                throw Fail(VerifierRule.PointerArithmetic, $"{kind} pointer offset {off} is not allowed", d, s);
            ptr.Off = (int)off;
            Set(d, ptr);
            return;
        }
        if (v.SMin == long.MinValue)
            throw Fail(VerifierRule.PointerArithmetic, $"math between {kind} pointer and register with unbounded min value is not allowed", d, s);
        if (v.SMin >= AccessChecks.MaxVarOff || v.SMin <= -AccessChecks.MaxVarOff)
            throw Fail(VerifierRule.PointerArithmetic, $"value {v.SMin} makes {kind} pointer be out of bounds", d, s);
        ptr.Var = ScalarAlu.Apply(op, ptr.Var, v, true);
        if (ptr.Var.SMin == long.MinValue || ptr.Var.SMin <= -AccessChecks.MaxVarOff || ptr.Var.SMin >= AccessChecks.MaxVarOff)
            throw Fail(VerifierRule.PointerArithmetic, $"math between {kind} pointer and register with unbounded min value is not allowed", d, s);
        if (ptr.IsPacket)
        {
            // Something unknown was added: the proven range no longer applies to this pointer.
            ptr.Id = NewId();
            ptr.Range = 0;
        }
        Set(d, ptr);
    }
}
