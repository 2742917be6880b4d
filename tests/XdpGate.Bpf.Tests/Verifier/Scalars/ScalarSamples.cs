using System.Globalization;
using XdpGate.Bpf.Verifier.Scalars;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// Random abstract scalars together with concrete values they hold. XDPGATE_SCALAR_SEED overrides the fixed seed
/// (the failing seed is in every assertion message), XDPGATE_SCALAR_CASES the number of abstract cases per test.
/// </summary>
internal static class ScalarSamples
{
    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_SCALAR_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261125;

    public static int Cases => int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_SCALAR_CASES"), CultureInfo.InvariantCulture, out var n) ? n : 400;

    /// <summary>A value biased to where bounds arithmetic breaks: small, signed and unsigned edges of 32 and 64 bits, sparse bits.</summary>
    public static ulong Value(Random random) => random.Next(10) switch
    {
        0 => (ulong)random.Next(17),
        1 => (ulong)random.Next(256),
        2 => (ulong)-random.Next(1, 300),
        3 => Edge(random) + (ulong)random.Next(-3, 4),
        4 => (ulong)random.NextInt64() & ((1UL << random.Next(1, 64)) - 1),
        5 => (ulong)random.NextInt64() & (ulong)random.NextInt64() & (ulong)random.NextInt64(),
        6 => (ulong)random.Next(64),
        7 => (ulong)(long)random.Next(int.MinValue, int.MaxValue),
        _ => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63),
    };

    private static ulong Edge(Random random) => random.Next(6) switch
    {
        0 => 0x7fff_ffff,
        1 => 0x8000_0000,
        2 => 0xffff_ffff,
        3 => 0x1_0000_0000,
        4 => 0x7fff_ffff_ffff_ffff,
        _ => 0x8000_0000_0000_0000,
    };

    /// <summary>A set of one to four values, often clustered so that bounds stay tight, and a scalar holding them.</summary>
    public static (Scalar Abstract, ulong[] Members) Make(Random random)
    {
        var members = new ulong[random.Next(1, 5)];
        var clustered = random.Next(2) == 0;
        var spread = 1UL << random.Next(1, 20);
        members[0] = Value(random);
        for (var i = 1; i < members.Length; i++)
            members[i] = clustered ? members[0] + (ulong)random.NextInt64() % spread : Value(random);
        var scalar = Hull(members);
        // Forget one part now and then, so the other parts and Sync must carry the knowledge.
        switch (random.Next(8))
        {
            case 0: scalar.Bits = Tnum.Unknown; break;
            case 1: (scalar.SMin, scalar.SMax) = (long.MinValue, long.MaxValue); break;
            case 2: (scalar.UMin, scalar.UMax) = (0, ulong.MaxValue); break;
            case 3: (scalar.S32Min, scalar.S32Max, scalar.U32Min, scalar.U32Max) = (int.MinValue, int.MaxValue, 0, uint.MaxValue); break;
        }
        scalar.Sync();
        return (scalar, members);
    }

    /// <summary>The tightest bounds and known bits of <paramref name="values"/>, taken separately in each domain.</summary>
    public static Scalar Hull(IReadOnlyList<ulong> values)
    {
        var s = Scalar.Const(values[0]);
        foreach (var v in values)
        {
            s.Bits = Tnum.Union(s.Bits, Tnum.Const(v));
            s.UMin = Math.Min(s.UMin, v);
            s.UMax = Math.Max(s.UMax, v);
            s.SMin = Math.Min(s.SMin, (long)v);
            s.SMax = Math.Max(s.SMax, (long)v);
            s.U32Min = Math.Min(s.U32Min, (uint)v);
            s.U32Max = Math.Max(s.U32Max, (uint)v);
            s.S32Min = Math.Min(s.S32Min, (int)v);
            s.S32Max = Math.Max(s.S32Max, (int)v);
        }
        return s;
    }

    /// <summary>The given members plus a few more drawn from the scalar itself (any value it holds must be covered).</summary>
    public static List<ulong> Concretes(Random random, in Scalar scalar, ulong[] members)
    {
        var all = new List<ulong>(members);
        var width = scalar.UMax - scalar.UMin + 1;
        for (var attempt = 0; attempt < 12 && all.Count < members.Length + 3; attempt++)
        {
            var draw = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            var candidate = random.Next(2) == 0 ? scalar.Bits.Value | (draw & scalar.Bits.Mask)
                : width == 0 ? draw : scalar.UMin + draw % width;
            if (scalar.Contains(candidate))
                all.Add(candidate);
        }
        return all;
    }

    public static string Describe(in Scalar s) =>
        $"{s} [bits {s.Bits} u {s.UMin:x}..{s.UMax:x} s {s.SMin}..{s.SMax} u32 {s.U32Min:x}..{s.U32Max:x} s32 {s.S32Min}..{s.S32Max}]";
}
