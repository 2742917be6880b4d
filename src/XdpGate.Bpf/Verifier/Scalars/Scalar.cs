namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// What the verifier knows about a scalar register, as the kernel's bpf_reg_state does: known bits and
/// signed/unsigned bounds of the full 64 bits and of the low 32 bits, kept consistent by <see cref="Sync"/>.
/// </summary>
public partial struct Scalar
{
    public Tnum Bits;
    public long SMin, SMax;
    public ulong UMin, UMax;
    public int S32Min, S32Max;
    public uint U32Min, U32Max;

    public static Scalar Unknown => new()
    {
        Bits = Tnum.Unknown,
        SMin = long.MinValue, SMax = long.MaxValue, UMin = 0, UMax = ulong.MaxValue,
        S32Min = int.MinValue, S32Max = int.MaxValue, U32Min = 0, U32Max = uint.MaxValue,
    };

    public static Scalar Const(ulong value) => new()
    {
        Bits = Tnum.Const(value),
        SMin = (long)value, SMax = (long)value, UMin = value, UMax = value,
        S32Min = (int)value, S32Max = (int)value, U32Min = (uint)value, U32Max = (uint)value,
    };

    public readonly bool IsConst => Bits.IsConst;

    public readonly ulong ConstValue => Bits.Value;

    /// <summary>Whether the concrete <paramref name="value"/> satisfies every bound and the known bits.</summary>
    public readonly bool Contains(ulong value) =>
        Bits.Contains(value)
        && (long)value >= SMin && (long)value <= SMax && value >= UMin && value <= UMax
        && (int)value >= S32Min && (int)value <= S32Max && (uint)value >= U32Min && (uint)value <= U32Max;

    /// <summary>
    /// Whether every value this scalar may hold is one <paramref name="old"/> may hold: the kernel's range_within
    /// plus tnum_in, the test state pruning uses to call a new state covered by an explored one.
    /// </summary>
    public readonly bool IsWithin(in Scalar old) =>
        old.Bits.Includes(Bits)
        && old.SMin <= SMin && SMax <= old.SMax && old.UMin <= UMin && UMax <= old.UMax
        && old.S32Min <= S32Min && S32Max <= old.S32Max && old.U32Min <= U32Min && U32Max <= old.U32Max;

    /// <summary>
    /// The kernel's reg_bounds_sanity_check: each minimum at most its maximum, and known bits that make a constant
    /// agree with every bound. After <see cref="Sync"/> a scalar that fails it holds no value at all: the kernel
    /// calls that a verifier bug on a live path; a refined branch that reaches it is dead.
    /// </summary>
    public readonly bool IsConsistent
    {
        get
        {
            if ((Bits.Value & Bits.Mask) != 0 || SMin > SMax || UMin > UMax || S32Min > S32Max || U32Min > U32Max)
                return false;
            if (Bits.IsConst && (UMin != Bits.Value || UMax != Bits.Value || SMin != (long)Bits.Value || SMax != (long)Bits.Value))
                return false;
            var low = (uint)Bits.Value;
            return !Bits.SubregIsConst || (U32Min == low && U32Max == low && S32Min == (int)low && S32Max == (int)low);
        }
    }

    /// <summary>The kernel's reg_bounds_sync: tightens each bound from the others and from the known bits.</summary>
    public void Sync()
    {
        UpdateBounds();
        // Each pass can enable another deduction; the kernel stops after three.
        DeduceBounds();
        DeduceBounds();
        DeduceBounds();
        BoundOffset();
        UpdateBounds();
    }

    /// <summary>dst becomes the constant <paramref name="value"/> in every domain (___mark_reg_known).</summary>
    internal void MarkKnown(ulong value) => this = Const(value);

    /// <summary>Only the low 32 bits become the constant <paramref name="value"/> (__mark_reg32_known).</summary>
    internal void MarkKnown32(uint value)
    {
        Bits = Bits.ConstSubreg(value);
        S32Min = S32Max = (int)value;
        U32Min = U32Max = value;
    }

    internal void MarkUnbounded64()
    {
        SMin = long.MinValue;
        SMax = long.MaxValue;
        UMin = 0;
        UMax = ulong.MaxValue;
    }

    internal void MarkUnbounded32()
    {
        S32Min = int.MinValue;
        S32Max = int.MaxValue;
        U32Min = 0;
        U32Max = uint.MaxValue;
    }

    /// <summary>__update_reg_bounds: bounds from the known bits.</summary>
    internal void UpdateBounds()
    {
        UpdateBounds32();
        UpdateBounds64();
    }

    internal void UpdateBounds32()
    {
        var bits = Bits.Subreg;
        // Smallest signed: sign bit set when unknown, other unknown bits clear; largest the other way round.
        S32Min = Math.Max(S32Min, (int)(uint)(bits.Value | (bits.Mask & 0x8000_0000)));
        S32Max = Math.Min(S32Max, (int)(uint)(bits.Value | (bits.Mask & 0x7fff_ffff)));
        U32Min = Math.Max(U32Min, (uint)bits.Value);
        U32Max = Math.Min(U32Max, (uint)bits.Max);
    }

    private void UpdateBounds64()
    {
        SMin = Math.Max(SMin, (long)(Bits.Value | (Bits.Mask & 0x8000_0000_0000_0000)));
        SMax = Math.Min(SMax, (long)(Bits.Value | (Bits.Mask & 0x7fff_ffff_ffff_ffff)));
        UMin = Math.Max(UMin, Bits.Value);
        UMax = Math.Min(UMax, Bits.Max);

        // When the unsigned range and the bits share a single value, that value is the scalar.
        var next = Bits.Step(UMin);
        var uminIsMember = Bits.Contains(UMin);
        if (uminIsMember && next > UMax)
            MarkKnown(UMin);
        else if (!uminIsMember && next == Bits.Max)
            MarkKnown(Bits.Max);
        else if (!uminIsMember && next <= UMax && Bits.Step(next) > UMax)
            MarkKnown(next);
    }

    /// <summary>__reg_deduce_bounds: signed from unsigned and back, 64 from 32 bits and back.</summary>
    private void DeduceBounds()
    {
        Deduce32();
        Deduce64();
        DeduceMixed();
    }

    // Deduce32 and Deduce64 are the kernel's __reg32_deduce_bounds and __reg64_deduce_bounds, twins kept as it keeps them.
    private void Deduce32()
    {
        // When the 64-bit bounds share their upper half, their lower halves bound the subregister.
        if (UMin >> 32 == UMax >> 32)
        {
            U32Min = Math.Max(U32Min, (uint)UMin);
            U32Max = Math.Min(U32Max, (uint)UMax);
            if ((int)UMin <= (int)UMax)
            {
                S32Min = Math.Max(S32Min, (int)UMin);
                S32Max = Math.Min(S32Max, (int)UMax);
            }
        }
        if (SMin >> 32 == SMax >> 32)
        {
            if ((uint)SMin <= (uint)SMax)
            {
                U32Min = Math.Max(U32Min, (uint)SMin);
                U32Max = Math.Min(U32Max, (uint)SMax);
            }
            if ((int)SMin <= (int)SMax)
            {
                S32Min = Math.Max(S32Min, (int)SMin);
                S32Max = Math.Min(S32Max, (int)SMax);
            }
        }
        // Upper halves of two consecutive numbers with the lower halves crossing from negative to positive: the
        // lower halves still form one s32 range.
        if ((uint)(UMin >> 32) + 1 == (uint)(UMax >> 32) && (int)UMin < 0 && (int)UMax >= 0)
        {
            S32Min = Math.Max(S32Min, (int)UMin);
            S32Max = Math.Min(S32Max, (int)UMax);
        }
        if ((uint)(SMin >> 32) + 1 == (uint)(SMax >> 32) && (int)SMin < 0 && (int)SMax >= 0)
        {
            S32Min = Math.Max(S32Min, (int)SMin);
            S32Max = Math.Min(S32Max, (int)SMax);
        }
        if ((int)U32Min <= (int)U32Max)
        {
            S32Min = Math.Max(S32Min, (int)U32Min);
            S32Max = Math.Min(S32Max, (int)U32Max);
        }
        if ((uint)S32Min <= (uint)S32Max)
        {
            U32Min = Math.Max(U32Min, (uint)S32Min);
            U32Max = Math.Min(U32Max, (uint)S32Max);
        }
        // A signed range across the sign boundary is two unsigned pieces; the unsigned bounds may exclude one.
        else if (U32Max < (uint)S32Min)
        {
            S32Min = (int)U32Min;
            U32Max = Math.Min(U32Max, (uint)S32Max);
        }
        else if ((uint)S32Max < U32Min)
        {
            S32Max = (int)U32Max;
            U32Min = Math.Max(U32Min, (uint)S32Min);
        }
    }

    private void Deduce64()
    {
        if ((long)UMin <= (long)UMax)
        {
            SMin = Math.Max(SMin, (long)UMin);
            SMax = Math.Min(SMax, (long)UMax);
        }
        if ((ulong)SMin <= (ulong)SMax)
        {
            UMin = Math.Max(UMin, (ulong)SMin);
            UMax = Math.Min(UMax, (ulong)SMax);
        }
        // A signed range across the sign boundary is two unsigned pieces; the unsigned bounds may exclude one.
        else if (UMax < (ulong)SMin)
        {
            SMin = (long)UMin;
            UMax = Math.Min(UMax, (ulong)SMax);
        }
        else if ((ulong)SMax < UMin)
        {
            SMax = (long)UMax;
            UMin = Math.Max(UMin, (ulong)SMin);
        }
    }

    private void DeduceMixed()
    {
        const ulong high = 0xffff_ffff_0000_0000;
        UMin = Math.Max(UMin, (UMin & high) | U32Min);
        UMax = Math.Min(UMax, (UMax & high) | U32Max);
        SMin = Math.Max(SMin, (long)(((ulong)SMin & high) | U32Min));
        SMax = Math.Min(SMax, (long)(((ulong)SMax & high) | U32Max));
        // Within s32 and with a non-negative subregister: the value is the subregister (after a sign-extending load).
        if (S32Min >= 0 && SMin >= int.MinValue && SMax <= int.MaxValue)
        {
            SMin = S32Min;
            SMax = S32Max;
            UMin = (ulong)S32Min;
            UMax = (ulong)S32Max;
            Bits = Tnum.Intersect(Bits, Tnum.Range((ulong)SMin, (ulong)SMax));
        }
    }

    /// <summary>__reg_bound_offset: known bits from the unsigned bounds, 64 and 32-bit.</summary>
    private void BoundOffset()
    {
        var bits64 = Tnum.Intersect(Bits, Tnum.Range(UMin, UMax));
        var bits32 = Tnum.Intersect(bits64.Subreg, Tnum.Range(U32Min, U32Max));
        Bits = bits64.ClearSubreg | bits32;
    }
}
