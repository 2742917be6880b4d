using System.Globalization;
using System.Text;

namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>The verifier log's form of a scalar (kernel/bpf/log.c), so our messages read like the kernel's.</summary>
public partial struct Scalar
{
    /// <summary>
    /// A constant as its number (<c>255</c>, <c>-1</c>, <c>0x10000</c>); otherwise
    /// <c>scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))</c>: bounds that say nothing are
    /// left out, equal minima (and equal maxima) of the same sign are printed once under all their names.
    /// </summary>
    public override readonly string ToString()
    {
        if (Bits.IsConst)
            return SignedNumber((long)Bits.Value);
        // Signed 32-bit bounds too large for decimal are printed as their u32 bits, not sign-extended to 64.
        Span<(string Name, ulong Value, bool Omit)> bounds =
        [
            ("smin", (ulong)SMin, SMin == long.MinValue),
            ("smax", (ulong)SMax, SMax == long.MaxValue),
            ("umin", UMin, UMin == 0),
            ("umax", UMax, UMax == ulong.MaxValue),
            ("smin32", IsSignedDecimal(S32Min) ? (ulong)(long)S32Min : (uint)S32Min, S32Min == int.MinValue),
            ("smax32", IsSignedDecimal(S32Max) ? (ulong)(long)S32Max : (uint)S32Max, S32Max == int.MaxValue),
            ("umin32", U32Min, U32Min == 0),
            ("umax32", U32Max, U32Max == uint.MaxValue),
        ];
        var text = new StringBuilder("scalar(");
        var separator = "";
        for (var i = 0; i < bounds.Length; i++)
        {
            if (bounds[i].Omit)
                continue;
            var negative = IsNegativeSigned(bounds[i]);
            text.Append(separator).Append(bounds[i].Name).Append('=');
            separator = ",";
            // Minima sit at even places and maxima at odd ones: a bound joins later ones of its own kind.
            for (var j = i + 2; j < bounds.Length; j += 2)
            {
                if (bounds[j].Omit || bounds[j].Value != bounds[i].Value || IsNegativeSigned(bounds[j]) != negative)
                    continue;
                bounds[j].Omit = true;
                text.Append(bounds[j].Name).Append('=');
            }
            text.Append(bounds[i].Name[0] == 's' ? SignedNumber((long)bounds[i].Value) : UnsignedNumber(bounds[i].Value));
        }
        if (!Bits.IsUnknown)
            text.Append(separator).Append("var_off=").Append(Bits.ToString());
        return text.Append(')').ToString();
    }

    private static bool IsNegativeSigned((string Name, ulong Value, bool Omit) bound) => bound.Name[0] == 's' && (long)bound.Value < 0;

    private static bool IsSignedDecimal(long value) => value is >= short.MinValue and <= short.MaxValue;

    private static string SignedNumber(long value) =>
        IsSignedDecimal(value) ? value.ToString(CultureInfo.InvariantCulture) : Tnum.Hex((ulong)value);

    private static string UnsignedNumber(ulong value) =>
        value <= ushort.MaxValue ? value.ToString(CultureInfo.InvariantCulture) : Tnum.Hex(value);
}
