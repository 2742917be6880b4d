using System.Numerics;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's is_branch_taken and reg_set_min_max: whether a conditional jump between two scalars must, cannot
/// or may be taken, and what each side of it teaches about both operands.
/// </summary>
public static class ScalarBranch
{
    // regs_refine_cond_op's name for the not-taken side of JSET: no bit of src is set in dst.
    private const byte JsetNone = BPF_JSET | BPF_X;

    /// <summary>
    /// For a conditional jump <paramref name="op"/> (BPF_JEQ..BPF_JSLE, not JA/CALL/EXIT) of width 32 or 64:
    /// true when it is always taken, false when never, null when it depends on the values.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="op"/> is not a conditional jump.</exception>
    public static bool? IsTaken(byte op, in Scalar dst, in Scalar src, bool is32)
    {
        CheckOp(op);
        var a = Operand.Of(dst, is32);
        var b = Operand.Of(src, is32);
        switch (op)
        {
            case BPF_JEQ:
            case BPF_JNE:
                bool? equal = null;
                if (a.Bits.IsConst && b.Bits.IsConst)
                    equal = a.Bits.Value == b.Bits.Value;
                else if (!Tnum.Overlaps(a.Bits, b.Bits) || a.UMin > b.UMax || a.UMax < b.UMin || a.SMin > b.SMax || a.SMax < b.SMin)
                    equal = false;
                // A 64-bit comparison can also be settled by the subregisters alone.
                else if (!is32 && (dst.U32Min > src.U32Max || dst.U32Max < src.U32Min || dst.S32Min > src.S32Max || dst.S32Max < src.S32Min))
                    equal = false;
                return op == BPF_JEQ ? equal : !equal;
            case BPF_JSET:
                if (!b.Bits.IsConst)
                    (a, b) = (b, a);
                if (!b.Bits.IsConst)
                    return null;
                if ((a.Bits.Value & b.Bits.Value) != 0)
                    return true;
                if ((a.Bits.Max & b.Bits.Value) == 0)
                    return false;
                return null;
            case BPF_JGT: return Decide(a.UMin > b.UMax, a.UMax <= b.UMin);
            case BPF_JGE: return Decide(a.UMin >= b.UMax, a.UMax < b.UMin);
            case BPF_JLT: return Decide(a.UMax < b.UMin, a.UMin >= b.UMax);
            case BPF_JLE: return Decide(a.UMax <= b.UMin, a.UMin > b.UMax);
            case BPF_JSGT: return Decide(a.SMin > b.SMax, a.SMax <= b.SMin);
            case BPF_JSGE: return Decide(a.SMin >= b.SMax, a.SMax < b.SMin);
            case BPF_JSLT: return Decide(a.SMax < b.SMin, a.SMin >= b.SMax);
            default: return Decide(a.SMax <= b.SMin, a.SMin > b.SMax); // BPF_JSLE
        }
    }

    /// <summary>
    /// Narrows dst and src to the values for which the jump goes the <paramref name="taken"/> way.
    /// Returns false when no values can (the branch is dead).
    /// </summary>
    /// <remarks>
    /// A side that <see cref="IsTaken"/> already decides is left as it is (the kernel follows it without refining);
    /// the side it rules out is dead. Otherwise the kernel's regs_refine_cond_op and reg_bounds_sync run, and a
    /// side whose bounds contradict each other afterwards is dead too. dst and src must be different registers:
    /// a comparison of a register with itself teaches nothing and the caller must not refine it.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="op"/> is not a conditional jump.</exception>
    public static bool Refine(byte op, ref Scalar dst, ref Scalar src, bool is32, bool taken)
    {
        var decided = IsTaken(op, dst, src, is32);
        if (decided.HasValue)
            return decided.Value == taken;
        RefineOp(taken ? op : Reverse(op), ref dst, ref src, is32);
        dst.Sync();
        src.Sync();
        return dst.IsConsistent && src.IsConsistent;
    }

    private static void CheckOp(byte op)
    {
        if (op is not (BPF_JEQ or BPF_JGT or BPF_JGE or BPF_JSET or BPF_JNE or BPF_JSGT or BPF_JSGE or BPF_JLT or BPF_JLE or BPF_JSLT or BPF_JSLE))
            throw new ArgumentOutOfRangeException(nameof(op), $"0x{op:x2} is not a conditional jump");
    }

    private static bool? Decide(bool always, bool never) => always ? true : never ? false : null;

    /// <summary>The jump that is taken exactly when <paramref name="op"/> is not (rev_opcode).</summary>
    private static byte Reverse(byte op) => op switch
    {
        BPF_JEQ => BPF_JNE,
        BPF_JNE => BPF_JEQ,
        BPF_JSET => JsetNone,
        BPF_JGT => BPF_JLE,
        BPF_JLE => BPF_JGT,
        BPF_JGE => BPF_JLT,
        BPF_JLT => BPF_JGE,
        BPF_JSGT => BPF_JSLE,
        BPF_JSLE => BPF_JSGT,
        BPF_JSGE => BPF_JSLT,
        _ => BPF_JSGE, // BPF_JSLT
    };

    /// <summary>regs_refine_cond_op: what <c>a op b</c> being true says about a and b.</summary>
    private static void RefineOp(byte op, ref Scalar a, ref Scalar b, bool is32)
    {
        // a > b is b < a: the greater-than forms reuse the less-than ones with the operands swapped.
        switch (op)
        {
            case BPF_JGT: RefineOp(BPF_JLT, ref b, ref a, is32); return;
            case BPF_JGE: RefineOp(BPF_JLE, ref b, ref a, is32); return;
            case BPF_JSGT: RefineOp(BPF_JSLT, ref b, ref a, is32); return;
            case BPF_JSGE: RefineOp(BPF_JSLE, ref b, ref a, is32); return;
            case BPF_JEQ: RefineEqual(ref a, ref b, is32); return;
            case BPF_JNE:
            case BPF_JSET:
            case JsetNone:
                // These learn only against a constant, whichever side it is on.
                if (!IsConst(b, is32))
                {
                    if (!IsConst(a, is32))
                        return;
                    RefineAgainstConst(op, ref b, ConstValue(a, is32), is32);
                    return;
                }
                RefineAgainstConst(op, ref a, ConstValue(b, is32), is32);
                return;
        }
        // Unsigned wrap-around of the ±1 only happens where IsTaken has decided the jump already.
        var strict = op is BPF_JLT or BPF_JSLT;
        var unsigned = op is BPF_JLE or BPF_JLT;
        if (is32 && unsigned)
            RefineLess(ref a.U32Max, a.U32Min, ref b.U32Min, b.U32Max, strict);
        else if (is32)
            RefineLess(ref a.S32Max, a.S32Min, ref b.S32Min, b.S32Max, strict);
        else if (unsigned)
            RefineLess(ref a.UMax, a.UMin, ref b.UMin, b.UMax, strict);
        else
            RefineLess(ref a.SMax, a.SMin, ref b.SMin, b.SMax, strict);
    }

    /// <summary>a &lt;= b (a &lt; b when <paramref name="strict"/>) in one of the four views: a is at most b's
    /// maximum, b at least a's minimum.</summary>
    private static void RefineLess<T>(ref T aMax, T aMin, ref T bMin, T bMax, bool strict) where T : IBinaryInteger<T>
    {
        var step = strict ? T.One : T.Zero;
        aMax = T.Min(aMax, bMax - step);
        bMin = T.Max(aMin + step, bMin);
    }

    /// <summary>Equal values: each operand takes the other's bounds and known bits.</summary>
    private static void RefineEqual(ref Scalar a, ref Scalar b, bool is32)
    {
        if (is32)
        {
            a.U32Min = b.U32Min = Math.Max(a.U32Min, b.U32Min);
            a.U32Max = b.U32Max = Math.Min(a.U32Max, b.U32Max);
            a.S32Min = b.S32Min = Math.Max(a.S32Min, b.S32Min);
            a.S32Max = b.S32Max = Math.Min(a.S32Max, b.S32Max);
            var low = Tnum.Intersect(a.Bits.Subreg, b.Bits.Subreg);
            a.Bits = a.Bits.WithSubreg(low);
            b.Bits = b.Bits.WithSubreg(low);
            return;
        }
        a.UMin = b.UMin = Math.Max(a.UMin, b.UMin);
        a.UMax = b.UMax = Math.Min(a.UMax, b.UMax);
        a.SMin = b.SMin = Math.Max(a.SMin, b.SMin);
        a.SMax = b.SMax = Math.Min(a.SMax, b.SMax);
        a.Bits = b.Bits = Tnum.Intersect(a.Bits, b.Bits);
    }

    private static void RefineAgainstConst(byte op, ref Scalar a, ulong value, bool is32)
    {
        switch (op)
        {
            case BPF_JNE:
                // Only a constant at an end of a range can be cut off it.
                if (is32)
                {
                    if (a.U32Min == (uint)value) a.U32Min++;
                    if (a.U32Max == (uint)value) a.U32Max--;
                    if (a.S32Min == (int)value) a.S32Min++;
                    if (a.S32Max == (int)value) a.S32Max--;
                }
                else
                {
                    if (a.UMin == value) a.UMin++;
                    if (a.UMax == value) a.UMax--;
                    if (a.SMin == (long)value) a.SMin++;
                    if (a.SMax == (long)value) a.SMax--;
                }
                return;
            case BPF_JSET:
                // Some bit of value is set: that teaches a known bit only when value has one bit.
                if (value == 0 || (value & (value - 1)) != 0)
                    return;
                a.Bits = is32 ? a.Bits.WithSubreg(a.Bits.Subreg | Tnum.Const(value)) : a.Bits | Tnum.Const(value);
                return;
            default: // JsetNone: every bit of value is clear.
                a.Bits = is32 ? a.Bits.WithSubreg(a.Bits.Subreg & Tnum.Const(~value)) : a.Bits & Tnum.Const(~value);
                // The kernel then drops the bounds and rebuilds them from the bits alone (its log shows the loss),
                // which keeps bounds and bits from contradicting each other.
                a.MarkUnbounded64();
                a.MarkUnbounded32();
                return;
        }
    }

    private static bool IsConst(in Scalar r, bool is32) => is32 ? r.Bits.SubregIsConst : r.Bits.IsConst;

    private static ulong ConstValue(in Scalar r, bool is32) => is32 ? (uint)r.Bits.Value : r.Bits.Value;

    /// <summary>One operand as the comparison sees it: the subregister's bounds (widened to 64) for a 32-bit jump.</summary>
    private readonly record struct Operand(Tnum Bits, ulong UMin, ulong UMax, long SMin, long SMax)
    {
        public static Operand Of(in Scalar r, bool is32) => is32
            ? new(r.Bits.Subreg, r.U32Min, r.U32Max, r.S32Min, r.S32Max)
            : new(r.Bits, r.UMin, r.UMax, r.SMin, r.SMax);
    }
}
