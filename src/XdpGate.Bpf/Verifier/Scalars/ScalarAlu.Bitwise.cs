namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// AND, OR, XOR and the shifts. The caller has already combined the known bits for AND/OR/XOR; bounds come from
/// those bits plus what the operands' bounds add. Shifts run only with a constant amount below the width.
/// </summary>
public static partial class ScalarAlu
{
    private static void And32(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown32(ref r, src))
            return;
        var bits = r.Bits.Subreg;
        // The known ones are the least; the result is no more than either operand.
        r.U32Min = (uint)bits.Value;
        r.U32Max = Math.Min(r.U32Max, src.U32Max);
        SignedFromUnsigned32(ref r);
    }

    private static void And64(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown64(ref r, src))
            return;
        r.UMin = r.Bits.Value;
        r.UMax = Math.Min(r.UMax, src.UMax);
        SignedFromUnsigned64(ref r);
        r.UpdateBounds();
    }

    private static void Or32(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown32(ref r, src))
            return;
        var bits = r.Bits.Subreg;
        // No less than either operand; the unknowns all set are the most.
        r.U32Min = Math.Max(r.U32Min, src.U32Min);
        r.U32Max = (uint)bits.Max;
        SignedFromUnsigned32(ref r);
    }

    private static void Or64(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown64(ref r, src))
            return;
        r.UMin = Math.Max(r.UMin, src.UMin);
        r.UMax = r.Bits.Max;
        SignedFromUnsigned64(ref r);
        r.UpdateBounds();
    }

    private static void Xor32(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown32(ref r, src))
            return;
        var bits = r.Bits.Subreg;
        r.U32Min = (uint)bits.Value;
        r.U32Max = (uint)bits.Max;
        SignedFromUnsigned32(ref r);
    }

    private static void Xor64(ref Scalar r, in Scalar src)
    {
        if (MarkedKnown64(ref r, src))
            return;
        r.UMin = r.Bits.Value;
        r.UMax = r.Bits.Max;
        SignedFromUnsigned64(ref r);
        r.UpdateBounds();
    }

    // scalar32_min_max_and/or/xor begin alike: with both operands known the result is the combined known bits.
    private static bool MarkedKnown32(ref Scalar r, in Scalar src)
    {
        var bits = r.Bits.Subreg;
        if (!src.Bits.SubregIsConst || !bits.IsConst)
            return false;
        r.MarkKnown32((uint)bits.Value);
        return true;
    }

    private static bool MarkedKnown64(ref Scalar r, in Scalar src)
    {
        if (!src.Bits.IsConst || !r.Bits.IsConst)
            return false;
        r.MarkKnown(r.Bits.Value);
        return true;
    }

    /// <summary>The unsigned range is also the signed one when it does not cross the sign bit.</summary>
    private static void SignedFromUnsigned32(ref Scalar r) =>
        (r.S32Min, r.S32Max) = (int)r.U32Min <= (int)r.U32Max ? ((int)r.U32Min, (int)r.U32Max) : (int.MinValue, int.MaxValue);

    private static void SignedFromUnsigned64(ref Scalar r) =>
        (r.SMin, r.SMax) = (long)r.UMin <= (long)r.UMax ? ((long)r.UMin, (long)r.UMax) : (long.MinValue, long.MaxValue);

    private static void Lsh32(ref Scalar r, in Scalar src)
    {
        var subreg = r.Bits.Subreg;
        var amount = (int)src.U32Min;
        LshBounds32(ref r, amount);
        r.Bits = subreg.Lshift(amount).Subreg;
        // The upper half is rebuilt from the subregister when the result is zero-extended.
        r.MarkUnbounded64();
        r.UpdateBounds32();
    }

    private static void Lsh64(ref Scalar r, in Scalar src)
    {
        var amount = (int)src.UMin;
        // The 64-bit bounds read the subregister's bounds before the shift changes them.
        LshBounds64(ref r, amount);
        LshBounds32(ref r, amount);
        r.Bits = r.Bits.Lshift(amount);
        r.UpdateBounds();
    }

    private static void LshBounds32(ref Scalar r, int amount)
    {
        // Shifting loses the sign; a bit shifted out of the top loses everything.
        (r.S32Min, r.S32Max) = (int.MinValue, int.MaxValue);
        if (amount > 31 || r.U32Max > 1UL << (31 - amount))
            (r.U32Min, r.U32Max) = (0u, uint.MaxValue);
        else
            (r.U32Min, r.U32Max) = (r.U32Min << amount, r.U32Max << amount);
    }

    private static void LshBounds64(ref Scalar r, int amount)
    {
        // << 32 is how compilers sign-extend a subregister (<< 32 then s>> 32), and it is monotonic in the s32 value.
        (r.SMin, r.SMax) = amount == 32 ? ((long)r.S32Min << 32, (long)r.S32Max << 32) : (long.MinValue, long.MaxValue);
        if (r.UMax > 1UL << (63 - amount))
            (r.UMin, r.UMax) = (0UL, ulong.MaxValue);
        else
            (r.UMin, r.UMax) = (r.UMin << amount, r.UMax << amount);
    }

    private static void Rsh32(ref Scalar r, in Scalar src)
    {
        var amount = (int)src.U32Min;
        (r.S32Min, r.S32Max) = (int.MinValue, int.MaxValue);
        r.Bits = r.Bits.Subreg.Rshift(amount);
        (r.U32Min, r.U32Max) = (r.U32Min >> amount, r.U32Max >> amount);
        r.MarkUnbounded64();
        r.UpdateBounds32();
    }

    private static void Rsh64(ref Scalar r, in Scalar src)
    {
        var amount = (int)src.UMin;
        // A logical shift of a possibly negative value says nothing of the sign: rebuild it from the bits.
        (r.SMin, r.SMax) = (long.MinValue, long.MaxValue);
        r.Bits = r.Bits.Rshift(amount);
        (r.UMin, r.UMax) = (r.UMin >> amount, r.UMax >> amount);
        // The subregister receives bits from the upper half: rebuild it from the bits too.
        r.MarkUnbounded32();
        r.UpdateBounds();
    }

    private static void Arsh32(ref Scalar r, in Scalar src)
    {
        var amount = (int)src.U32Min;
        (r.S32Min, r.S32Max) = (r.S32Min >> amount, r.S32Max >> amount);
        r.Bits = r.Bits.Subreg.Arshift(amount, 32);
        (r.U32Min, r.U32Max) = (0u, uint.MaxValue);
        r.MarkUnbounded64();
        r.UpdateBounds32();
    }

    private static void Arsh64(ref Scalar r, in Scalar src)
    {
        var amount = (int)src.UMin;
        (r.SMin, r.SMax) = (r.SMin >> amount, r.SMax >> amount);
        r.Bits = r.Bits.Arshift(amount, 64);
        (r.UMin, r.UMax) = (0UL, ulong.MaxValue);
        r.MarkUnbounded32();
        r.UpdateBounds();
    }
}
