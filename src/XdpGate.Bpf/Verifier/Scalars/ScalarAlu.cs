using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's adjust_scalar_min_max_vals and friends: what is known about <c>dst op src</c> from what is known
/// about dst and src. Every result must contain every value the real operation can produce (soundness).
/// </summary>
/// <remarks>
/// Each bound is computed the kernel's way, including where the kernel gives up (division, modulo, shifts by an
/// amount that is not a constant below the width), so that programs pass or fail here as they do in the kernel.
/// The 32-bit bounds of a 64-bit operation are tracked alongside, since later 32-bit jumps and ops read them.
/// Each operation has a 32-bit and a 64-bit body (Add32/Add64, And32/And64, ...) because the kernel has: they mirror
/// its scalar32_min_max_* and scalar_min_max_* twins line for line, which keeps them checkable against it.
/// </remarks>
public static partial class ScalarAlu
{
    /// <summary>
    /// dst = dst op src for a BPF_ALU/BPF_ALU64 <paramref name="op"/> (BPF_ADD..BPF_ARSH, BPF_MOV, BPF_NEG;
    /// <paramref name="offset"/> is the instruction's off: signed div/mod when 1, movsx width in bits when 8/16/32).
    /// A 32-bit operation zero-extends its result to 64 bits, as the ISA does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="op"/> is not an ALU operation on two scalars.</exception>
    public static Scalar Apply(byte op, in Scalar dst, in Scalar src, bool is64, short offset = 0)
    {
        if (op == BPF_MOV)
            return Move(src, is64, offset);
        if (op is BPF_DIV or BPF_MOD)
            return Scalar.Unknown;
        if (op is BPF_LSH or BPF_RSH or BPF_ARSH && !IsShiftAmount(src, is64))
            return Scalar.Unknown;

        var r = dst;
        switch (op)
        {
            case BPF_ADD:
                Add32(ref r, src);
                Add64(ref r, src);
                r.Bits += src.Bits;
                break;
            case BPF_SUB:
                Sub32(ref r, src);
                Sub64(ref r, src);
                r.Bits -= src.Bits;
                break;
            case BPF_NEG:
                // 0 - dst, whatever src is.
                r = Scalar.Const(0);
                Sub32(ref r, dst);
                Sub64(ref r, dst);
                r.Bits = -dst.Bits;
                break;
            case BPF_MUL:
                r.Bits *= src.Bits;
                Mul32(ref r, src);
                Mul64(ref r, src);
                break;
            case BPF_AND:
                r.Bits &= src.Bits;
                And32(ref r, src);
                And64(ref r, src);
                break;
            case BPF_OR:
                r.Bits |= src.Bits;
                Or32(ref r, src);
                Or64(ref r, src);
                break;
            case BPF_XOR:
                r.Bits ^= src.Bits;
                Xor32(ref r, src);
                Xor64(ref r, src);
                break;
            case BPF_LSH:
                if (is64) Lsh64(ref r, src);
                else Lsh32(ref r, src);
                break;
            case BPF_RSH:
                if (is64) Rsh64(ref r, src);
                else Rsh32(ref r, src);
                break;
            case BPF_ARSH:
                if (is64) Arsh64(ref r, src);
                else Arsh32(ref r, src);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), $"0x{op:x2} is not a BPF_ALU operation on two scalars");
        }
        if (!is64)
            ZeroExtend(ref r);
        r.Sync();
        return r;
    }

    /// <summary>is_safe_to_compute_dst_reg_range for shifts: a constant amount below the width.</summary>
    private static bool IsShiftAmount(in Scalar src, bool is64)
    {
        var isConst = is64
            ? src.Bits.IsConst && src.SMin == src.SMax && src.UMin == src.UMax
            : src.Bits.SubregIsConst && src.S32Min == src.S32Max && src.U32Min == src.U32Max;
        // The kernel checks the full 64-bit maximum even for a 32-bit shift.
        return isConst && src.UMax < (is64 ? 64UL : 32UL);
    }

    /// <summary>zext_32_to_64: the 64-bit value is the subregister.</summary>
    private static void ZeroExtend(ref Scalar r)
    {
        r.Bits = r.Bits.Subreg;
        r.UMin = r.U32Min;
        r.UMax = r.U32Max;
        // The s32 bounds carry over only when both are non-negative; otherwise the tnum recovers what it can.
        if (r.S32Min >= 0 && r.S32Max >= 0)
        {
            r.SMin = r.S32Min;
            r.SMax = r.S32Max;
        }
        else
        {
            r.SMin = 0;
            r.SMax = uint.MaxValue;
        }
    }

    private static void Add32(ref Scalar r, in Scalar src)
    {
        if (AddOverflows(r.S32Min, src.S32Min, out var smin) | AddOverflows(r.S32Max, src.S32Max, out var smax))
            (smin, smax) = (int.MinValue, int.MaxValue);
        (r.S32Min, r.S32Max) = (smin, smax);
        // When every sum wraps, or none does, the wrapped ends still bound the sums.
        var minWraps = r.U32Min + src.U32Min < r.U32Min;
        var maxWraps = r.U32Max + src.U32Max < r.U32Max;
        (r.U32Min, r.U32Max) = !minWraps && maxWraps ? (0u, uint.MaxValue) : (r.U32Min + src.U32Min, r.U32Max + src.U32Max);
    }

    private static void Add64(ref Scalar r, in Scalar src)
    {
        if (AddOverflows(r.SMin, src.SMin, out var smin) | AddOverflows(r.SMax, src.SMax, out var smax))
            (smin, smax) = (long.MinValue, long.MaxValue);
        (r.SMin, r.SMax) = (smin, smax);
        var minWraps = r.UMin + src.UMin < r.UMin;
        var maxWraps = r.UMax + src.UMax < r.UMax;
        (r.UMin, r.UMax) = !minWraps && maxWraps ? (0UL, ulong.MaxValue) : (r.UMin + src.UMin, r.UMax + src.UMax);
    }

    private static void Sub32(ref Scalar r, in Scalar src)
    {
        if (SubOverflows(r.S32Min, src.S32Max, out var smin) | SubOverflows(r.S32Max, src.S32Min, out var smax))
            (smin, smax) = (int.MinValue, int.MaxValue);
        (r.S32Min, r.S32Max) = (smin, smax);
        var minWraps = r.U32Min < src.U32Max;
        var maxWraps = r.U32Max < src.U32Min;
        (r.U32Min, r.U32Max) = minWraps && !maxWraps ? (0u, uint.MaxValue) : (r.U32Min - src.U32Max, r.U32Max - src.U32Min);
    }

    private static void Sub64(ref Scalar r, in Scalar src)
    {
        if (SubOverflows(r.SMin, src.SMax, out var smin) | SubOverflows(r.SMax, src.SMin, out var smax))
            (smin, smax) = (long.MinValue, long.MaxValue);
        (r.SMin, r.SMax) = (smin, smax);
        var minWraps = r.UMin < src.UMax;
        var maxWraps = r.UMax < src.UMin;
        (r.UMin, r.UMax) = minWraps && !maxWraps ? (0UL, ulong.MaxValue) : (r.UMin - src.UMax, r.UMax - src.UMin);
    }

    private static void Mul32(ref Scalar r, in Scalar src)
    {
        var umax = (ulong)r.U32Max * src.U32Max;
        var umin = (ulong)r.U32Min * src.U32Min;
        (r.U32Min, r.U32Max) = umax > uint.MaxValue || umin > uint.MaxValue ? (0u, uint.MaxValue) : ((uint)umin, (uint)umax);
        // Products of the signed ends; any of them outside s32 means the bounds say nothing.
        long a = (long)r.S32Min * src.S32Min, b = (long)r.S32Min * src.S32Max, c = (long)r.S32Max * src.S32Min, d = (long)r.S32Max * src.S32Max;
        long lo = Math.Min(Math.Min(a, b), Math.Min(c, d)), hi = Math.Max(Math.Max(a, b), Math.Max(c, d));
        (r.S32Min, r.S32Max) = lo < int.MinValue || hi > int.MaxValue ? (int.MinValue, int.MaxValue) : ((int)lo, (int)hi);
    }

    private static void Mul64(ref Scalar r, in Scalar src)
    {
        var umaxHigh = Math.BigMul(r.UMax, src.UMax, out var umax);
        var uminHigh = Math.BigMul(r.UMin, src.UMin, out var umin);
        (r.UMin, r.UMax) = umaxHigh != 0 || uminHigh != 0 ? (0UL, ulong.MaxValue) : (umin, umax);
        Int128 a = (Int128)r.SMin * src.SMin, b = (Int128)r.SMin * src.SMax, c = (Int128)r.SMax * src.SMin, d = (Int128)r.SMax * src.SMax;
        Int128 lo = Int128.Min(Int128.Min(a, b), Int128.Min(c, d)), hi = Int128.Max(Int128.Max(a, b), Int128.Max(c, d));
        (r.SMin, r.SMax) = lo < long.MinValue || hi > long.MaxValue ? (long.MinValue, long.MaxValue) : ((long)lo, (long)hi);
    }

    private static bool AddOverflows(int a, int b, out int sum)
    {
        sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0;
    }

    private static bool AddOverflows(long a, long b, out long sum)
    {
        sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0;
    }

    private static bool SubOverflows(int a, int b, out int difference)
    {
        difference = a - b;
        return ((a ^ b) & (a ^ difference)) < 0;
    }

    private static bool SubOverflows(long a, long b, out long difference)
    {
        difference = a - b;
        return ((a ^ b) & (a ^ difference)) < 0;
    }
}
