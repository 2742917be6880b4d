namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's <c>struct tnum</c>: a 64-bit value of which the bits set in <see cref="Mask"/> are unknown and
/// the others equal <see cref="Value"/>'s (Value and Mask never share a bit).
/// </summary>
public readonly record struct Tnum(ulong Value, ulong Mask)
{
    public static Tnum Unknown => new(0, ulong.MaxValue);

    public static Tnum Const(ulong value) => new(value, 0);

    public bool IsConst => Mask == 0;

    public bool IsUnknown => Mask == ulong.MaxValue;

    /// <summary>Whether the concrete <paramref name="value"/> is one this tnum describes.</summary>
    public bool Contains(ulong value) => (value & ~Mask) == Value;

    /// <summary>The kernel's tnum_in(this, b): every value of <paramref name="b"/> is a value of this one.</summary>
    public bool Includes(Tnum b) => (b.Mask & ~Mask) == 0 && (b.Value & ~Mask) == Value;
}
