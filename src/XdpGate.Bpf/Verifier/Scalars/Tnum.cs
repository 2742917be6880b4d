using System.Buffers.Binary;
using System.Numerics;

namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's <c>struct tnum</c>: a 64-bit value of which the bits set in <see cref="Mask"/> are unknown and
/// the others equal <see cref="Value"/>'s (Value and Mask never share a bit).
/// </summary>
/// <remarks>
/// Every operation is the kernel's (kernel/bpf/tnum.c) so that what the verifier learns matches the kernel's
/// log bit for bit; each result describes every concrete result of the operation on members of the operands.
/// </remarks>
public readonly record struct Tnum(ulong Value, ulong Mask)
{
    public static Tnum Unknown => new(0, ulong.MaxValue);

    public static Tnum Const(ulong value) => new(value, 0);

    public bool IsConst => Mask == 0;

    public bool IsUnknown => Mask == ulong.MaxValue;

    /// <summary>The largest member: every unknown bit set.</summary>
    public ulong Max => Value | Mask;

    /// <summary>Whether the concrete <paramref name="value"/> is one this tnum describes.</summary>
    public bool Contains(ulong value) => (value & ~Mask) == Value;

    /// <summary>The kernel's tnum_in(this, b): every value of <paramref name="b"/> is a value of this one.</summary>
    public bool Includes(Tnum b) => (b.Mask & ~Mask) == 0 && (b.Value & ~Mask) == Value;

    /// <summary>The smallest tnum holding every value of [<paramref name="min"/>, <paramref name="max"/>] (tnum_range).</summary>
    public static Tnum Range(ulong min, ulong max)
    {
        var bits = 64 - BitOperations.LeadingZeroCount(min ^ max);
        if (bits > 63)
            return Unknown;
        var delta = (1UL << bits) - 1;
        return new(min & ~delta, delta);
    }

    public Tnum Lshift(int shift) => new(Value << shift, Mask << shift);

    public Tnum Rshift(int shift) => new(Value >> shift, Mask >> shift);

    /// <summary>Arithmetic right shift of the low <paramref name="width"/> (32 or 64) bits; a 32-bit result is zero-extended.</summary>
    public Tnum Arshift(int shift, int width) => width == 32
        ? new((uint)((int)(uint)Value >> shift), (uint)((int)(uint)Mask >> shift))
        : new((ulong)((long)Value >> shift), (ulong)((long)Mask >> shift));

    public static Tnum operator +(Tnum a, Tnum b)
    {
        var sm = a.Mask + b.Mask;
        var sv = a.Value + b.Value;
        // Bits where adding the unknowns as all-ones changes the carry chain are unknown.
        var mu = ((sm + sv) ^ sv) | a.Mask | b.Mask;
        return new(sv & ~mu, mu);
    }

    public static Tnum operator -(Tnum a, Tnum b)
    {
        var dv = a.Value - b.Value;
        var mu = ((dv + a.Mask) ^ (dv - b.Mask)) | a.Mask | b.Mask;
        return new(dv & ~mu, mu);
    }

    /// <summary>Two's complement negation (tnum_neg: 0 - a).</summary>
    public static Tnum operator -(Tnum a) => Const(0) - a;

    public static Tnum operator &(Tnum a, Tnum b)
    {
        var v = a.Value & b.Value;
        return new(v, (a.Value | a.Mask) & (b.Value | b.Mask) & ~v);
    }

    public static Tnum operator |(Tnum a, Tnum b)
    {
        var v = a.Value | b.Value;
        return new(v, (a.Mask | b.Mask) & ~v);
    }

    public static Tnum operator ^(Tnum a, Tnum b)
    {
        var mu = a.Mask | b.Mask;
        return new((a.Value ^ b.Value) & ~mu, mu);
    }

    /// <summary>Long multiplication over the bits of <paramref name="a"/>; an unknown bit takes the union of adding b and not.</summary>
    public static Tnum operator *(Tnum a, Tnum b)
    {
        var acc = Const(0);
        while (a.Value != 0 || a.Mask != 0)
        {
            if ((a.Value & 1) != 0)
                acc += b;
            else if ((a.Mask & 1) != 0)
                acc = Union(acc, acc + b);
            a = a.Rshift(1);
            b = b.Lshift(1);
        }
        return acc;
    }

    /// <summary>
    /// Values satisfying both (tnum_intersect). Where the two disagree on a known bit the set is empty; the kernel
    /// then returns a known 1, so check <see cref="Overlaps"/> first when emptiness matters.
    /// </summary>
    public static Tnum Intersect(Tnum a, Tnum b)
    {
        var mu = a.Mask & b.Mask;
        return new((a.Value | b.Value) & ~mu, mu);
    }

    /// <summary>Values of either (tnum_union).</summary>
    public static Tnum Union(Tnum a, Tnum b)
    {
        var mu = (a.Value ^ b.Value) | a.Mask | b.Mask;
        return new(a.Value & b.Value & ~mu, mu);
    }

    /// <summary>Whether the two may share a value: no bit known in both with different values (tnum_overlap).</summary>
    public static bool Overlaps(Tnum a, Tnum b)
    {
        var known = ~a.Mask & ~b.Mask;
        return (a.Value & known) == (b.Value & known);
    }

    /// <summary>The low <paramref name="bytes"/> bytes, the rest known zero (tnum_cast).</summary>
    public Tnum Cast(int bytes)
    {
        var keep = bytes >= 8 ? ulong.MaxValue : (1UL << (bytes * 8)) - 1;
        return new(Value & keep, Mask & keep);
    }

    /// <summary>The low 32 bits, zero-extended.</summary>
    public Tnum Subreg => Cast(4);

    /// <summary>The high 32 bits, the low ones known zero.</summary>
    public Tnum ClearSubreg => Rshift(32).Lshift(32);

    /// <summary>This tnum's high 32 bits with <paramref name="subreg"/>'s low 32 bits.</summary>
    public Tnum WithSubreg(Tnum subreg) => ClearSubreg | subreg.Subreg;

    public Tnum ConstSubreg(uint value) => WithSubreg(Const(value));

    public bool SubregIsConst => (uint)Mask == 0;

    public Tnum Bswap16() => new(BinaryPrimitives.ReverseEndianness((ushort)Value), BinaryPrimitives.ReverseEndianness((ushort)Mask));

    public Tnum Bswap32() => new(BinaryPrimitives.ReverseEndianness((uint)Value), BinaryPrimitives.ReverseEndianness((uint)Mask));

    public Tnum Bswap64() => new(BinaryPrimitives.ReverseEndianness(Value), BinaryPrimitives.ReverseEndianness(Mask));

    /// <summary>
    /// The smallest member greater than <paramref name="z"/> (tnum_step); <see cref="Value"/> when z is below every
    /// member and <see cref="Max"/> when none is greater.
    /// </summary>
    public ulong Step(ulong z)
    {
        if (z >= Max)
            return Max;
        if (z < Value)
            return Value;
        // Members are Value + s for submasks s of Mask: find the smallest submask above d by counting up through
        // the mask bits only, with every bit below d's highest non-mask bit filled so no carry stops there.
        var d = z - Value;
        var stray = d & ~Mask;
        var fill = stray == 0 ? 0 : ulong.MaxValue >> BitOperations.LeadingZeroCount(stray);
        return Value | (((d | fill | ~Mask) + 1) & Mask);
    }

    /// <summary>The kernel's tnum_strn form, as in the verifier log's <c>var_off=(0x0; 0xff)</c>.</summary>
    public override string ToString() => $"({Hex(Value)}; {Hex(Mask)})";

    /// <summary>The kernel's tnum_sbin form: 64 characters, most significant first, x for an unknown bit.</summary>
    public string ToBinaryString() => string.Create(64, this, static (chars, t) =>
    {
        for (var bit = 0; bit < 64; bit++)
        {
            var m = 1UL << (63 - bit);
            chars[bit] = (t.Mask & m) != 0 ? 'x' : (t.Value & m) != 0 ? '1' : '0';
        }
    });

    /// <summary>printf's %#llx as the kernel prints it (0 too is 0x0).</summary>
    internal static string Hex(ulong value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}
