using Xunit;
using XdpGate.Bpf.Verifier.Scalars;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// Tnum operations against brute force: small random tnums (a few unknown bits, anywhere in 64) are expanded to all
/// their members, and every concrete result must be a member of the abstract one. Seed: <see cref="ScalarSamples"/>.
/// </summary>
public sealed class TnumTests
{
    public static TheoryData<string> Operations() => ["add", "sub", "mul", "and", "or", "xor", "neg", "lsh", "rsh", "arsh64", "arsh32", "union", "bswap16", "bswap32", "bswap64", "cast2"];

    [Theory]
    [MemberData(nameof(Operations))]
    public void Every_concrete_result_is_a_member_of_the_abstract_result(string operation)
    {
        var random = new Random(HashCode.Combine(ScalarSamples.Seed, operation));
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var a = RandomTnum(random);
            var b = RandomTnum(random);
            var shift = random.Next(64);
            var result = Abstract(operation, a, b, shift);
            foreach (var x in Members(a))
            {
                foreach (var y in Members(b))
                {
                    var value = Concrete(operation, x, y, shift);
                    if (!result.Contains(value))
                        Assert.Fail($"seed {ScalarSamples.Seed}: {operation} of {a}, {b} (shift {shift}) = {result} misses 0x{value:x} from 0x{x:x}, 0x{y:x}");
                }
            }
        }
    }

    [Fact]
    public void Intersect_keeps_every_common_member_and_overlap_says_whether_there_is_one()
    {
        var random = new Random(ScalarSamples.Seed);
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var a = RandomTnum(random);
            var b = random.Next(2) == 0 ? RandomTnum(random) : new Tnum(a.Value & ~(uint)random.Next(16), a.Mask | (uint)random.Next(16));
            b = new Tnum(b.Value & ~b.Mask, b.Mask);
            var common = Members(a).Where(b.Contains).ToList();
            Assert.Equal(common.Count > 0, Tnum.Overlaps(a, b));
            var both = Tnum.Intersect(a, b);
            Assert.All(common, v => Assert.True(both.Contains(v)));
        }
    }

    [Fact]
    public void Step_gives_the_next_member_exactly()
    {
        var random = new Random(ScalarSamples.Seed);
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var t = RandomTnum(random);
            var members = Members(t).Order().ToList();
            var z = random.Next(2) == 0 ? members[random.Next(members.Count)] + (ulong)random.Next(-2, 3) : (ulong)random.NextInt64();
            var expected = z >= t.Max ? t.Max : members.First(m => m > z);
            Assert.Equal(expected, t.Step(z));
        }
    }

    [Theory]
    [InlineData(0UL, 255UL, "(0x0; 0xff)")]
    [InlineData(5UL, 5UL, "(0x5; 0x0)")]
    [InlineData(0x100UL, 0x1ffUL, "(0x100; 0xff)")]
    [InlineData(0UL, ulong.MaxValue, "(0x0; 0xffffffffffffffff)")]
    public void Range_covers_its_bounds_with_the_fewest_unknown_bits(ulong min, ulong max, string expected) =>
        Assert.Equal(expected, Tnum.Range(min, max).ToString());

    [Fact]
    public void Binary_form_marks_unknown_bits_with_x() =>
        Assert.Equal(new string('0', 56) + "0xx1xxxx", new Tnum(0x10, 0x6f).ToBinaryString());

    [Fact]
    public void Subregister_helpers_split_and_join_the_halves()
    {
        var t = new Tnum(0x1234_5678_0000_0001, 0x0000_0000_ffff_0000);
        Assert.Equal(new Tnum(0x1, 0xffff_0000), t.Subreg);
        Assert.Equal(new Tnum(0x1234_5678_0000_0000, 0), t.ClearSubreg);
        Assert.Equal(new Tnum(0x1234_5678_0000_0007, 0), t.ConstSubreg(7));
        Assert.Equal(t, t.ClearSubreg.WithSubreg(t.Subreg));
    }

    private static Tnum RandomTnum(Random random)
    {
        ulong mask = 0;
        var unknown = random.Next(0, 6);
        var low = random.Next(3) == 0;
        for (var i = 0; i < unknown; i++)
            mask |= 1UL << (low ? random.Next(8) : random.Next(64));
        var value = random.Next(3) switch { 0 => (ulong)random.Next(256), 1 => (ulong)-random.Next(1, 256), _ => (ulong)random.NextInt64() };
        return new Tnum(value & ~mask, mask);
    }

    private static IEnumerable<ulong> Members(Tnum t)
    {
        // Every submask of the mask, by the standard next-submask walk.
        var s = 0UL;
        do
        {
            yield return t.Value | s;
            s = (s - t.Mask) & t.Mask;
        }
        while (s != 0);
    }

    private static Tnum Abstract(string operation, Tnum a, Tnum b, int shift) => operation switch
    {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "and" => a & b,
        "or" => a | b,
        "xor" => a ^ b,
        "neg" => -a,
        "lsh" => a.Lshift(shift),
        "rsh" => a.Rshift(shift),
        "arsh64" => a.Arshift(shift, 64),
        "arsh32" => a.Arshift(shift & 31, 32),
        "union" => Tnum.Union(a, b),
        "bswap16" => a.Bswap16(),
        "bswap32" => a.Bswap32(),
        "bswap64" => a.Bswap64(),
        _ => a.Cast(2),
    };

    private static ulong Concrete(string operation, ulong x, ulong y, int shift) => operation switch
    {
        "add" => x + y,
        "sub" => x - y,
        "mul" => x * y,
        "and" => x & y,
        "or" => x | y,
        "xor" => x ^ y,
        "neg" => 0 - x,
        "lsh" => x << shift,
        "rsh" => x >> shift,
        "arsh64" => (ulong)((long)x >> shift),
        "arsh32" => (uint)((int)(uint)x >> (shift & 31)),
        "union" => x,
        "bswap16" => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)x),
        "bswap32" => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)x),
        "bswap64" => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(x),
        _ => (ushort)x,
    };
}
