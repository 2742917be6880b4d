using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// The kernel's check_alu_op and adjust_ptr_min_max_vals, the refusals: instructions it never runs, and what a
/// program may do with a pointer in arithmetic (only add or subtract a bounded scalar, and only to pointers that can
/// move), where unprivileged loaders may not turn an address into a number.
/// </summary>
internal static class AluChecks
{
    /// <summary>An operation with an immediate operand: no division by zero, no shift by the width or more.</summary>
    public static void Immediate(in CheckSite at, byte op, int imm, bool is64)
    {
        if (op is BPF_DIV or BPF_MOD && imm == 0)
            throw at.Refuse(VerifierRule.InvalidInstruction, "div by zero");
        if (op is BPF_LSH or BPF_RSH or BPF_ARSH && (uint)imm >= (is64 ? 64u : 32u))
            throw at.Refuse(VerifierRule.InvalidInstruction, $"invalid shift {imm}");
    }

    /// <summary>A byte swap or negation of <paramref name="value"/> in register <paramref name="d"/>.</summary>
    public static void Unary(in CheckSite at, int d, in Reg value)
    {
        if (value.IsPointer && at.Strict)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic prohibited", d);
    }

    /// <summary>A copy of part of the pointer in register <paramref name="s"/> (32 bits, or sign-extended).</summary>
    public static void PartialPointerCopy(in CheckSite at, int s)
    {
        // A meaningless number to a privileged loader; to any other, the address.
        if (at.Strict)
            throw at.Refuse(VerifierRule.PointerLeak, $"R{s} partial copy of pointer", s);
    }

    /// <summary>An operation on two pointers, or 32 bits of one: only a subtraction, only where addresses may be seen.</summary>
    public static void PointerDifference(in CheckSite at, byte op, bool twoPointers, int d, int s)
    {
        if (op == BPF_SUB && !at.Strict)
            return;
        throw at.Refuse(VerifierRule.PointerArithmetic,
            twoPointers ? $"R{d} pointer {Name(op)} pointer prohibited" : $"R{d} 32-bit pointer arithmetic prohibited", d, s);
    }

    /// <summary>
    /// A 64-bit operation between the pointer and the scalar in <paramref name="d"/> and <paramref name="s"/> (one of
    /// each): the pointer's kind, the operator, and the scalar's bounds.
    /// </summary>
    public static void PointerOffset(in CheckSite at, byte op, int d, int s, in Reg dst, in Reg src)
    {
        var ptr = dst.IsPointer ? dst : src;
        var kind = Reg.KindName(ptr.Kind);
        if (ptr.MaybeNull)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic on {kind} prohibited, null-check it first", d, s);
        if (ptr.Kind is RegKind.PacketEnd or RegKind.MapPtr or RegKind.Func)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"R{d} pointer arithmetic on {kind} prohibited", d, s);
        if (op == BPF_SUB && !dst.IsPointer)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"R{d} tried to subtract pointer from scalar", d, s);
        if (op is not (BPF_ADD or BPF_SUB))
        {
            throw at.Refuse(VerifierRule.PointerArithmetic, op is BPF_AND or BPF_OR or BPF_XOR
                ? $"R{d} bitwise operator {Name(op)} on pointer prohibited"
                : $"R{d} pointer arithmetic with {Name(op)} operator prohibited", d, s);
        }
        var v = (dst.IsPointer ? src : dst).Var;
        if (v.IsConst)
        {
            var value = (long)v.ConstValue;
            if (value >= AccessChecks.MaxVarOff || value <= -AccessChecks.MaxVarOff)
                throw at.Refuse(VerifierRule.PointerArithmetic, $"math between {kind} pointer and {value} is not allowed", d, s);
            return;
        }
        if (v.SMin == long.MinValue)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"math between {kind} pointer and register with unbounded min value is not allowed", d, s);
        if (v.SMin >= AccessChecks.MaxVarOff || v.SMin <= -AccessChecks.MaxVarOff)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"value {v.SMin} makes {kind} pointer be out of bounds", d, s);
    }

    /// <summary>The fixed offset <paramref name="off"/> a constant moved a pointer of kind <paramref name="kind"/> to.</summary>
    public static void FixedOffset(in CheckSite at, int d, int s, RegKind kind, long off)
    {
        if (off >= AccessChecks.MaxVarOff || off <= -AccessChecks.MaxVarOff)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"{Reg.KindName(kind)} pointer offset {off} is not allowed", d, s);
    }

    /// <summary>The pointer <paramref name="moved"/> a scalar that is not constant moved: its variable part still bounded.</summary>
    public static void VariableOffset(in CheckSite at, int d, int s, in Reg moved)
    {
        var min = moved.Var.SMin;
        if (min == long.MinValue || min <= -AccessChecks.MaxVarOff || min >= AccessChecks.MaxVarOff)
            throw at.Refuse(VerifierRule.PointerArithmetic, $"math between {Reg.KindName(moved.Kind)} pointer and register with unbounded min value is not allowed", d, s);
    }

    private static string Name(byte op) => Syntax.AluOperator(op, 0) ?? "?";
}
