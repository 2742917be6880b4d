using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using Xunit.Abstractions;
using Xunit;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>bpf_csum_diff(from, from_size, to, to_size, seed) in the kernel and in our engine.</summary>
public sealed class CsumDiffAgreementTests(ITestOutputHelper output)
{
    private const int BufferSize = 1024;

    /// <summary>
    /// A case: the bytes of from and to (given as big-endian words, as they lie in memory), the seed, and byte counts
    /// that may differ from the words given. The words go at the start of a 1 KiB map value, from first.
    /// </summary>
    private sealed record Case(string Name, uint[] From, uint[] To, uint Seed, int? FromSize = null, int? ToSize = null)
    {
        public int FromBytes => FromSize ?? 4 * From.Length;
        public int ToBytes => ToSize ?? 4 * To.Length;

        public byte[] Buffer()
        {
            var buffer = new byte[BufferSize];
            for (var i = 0; i < BufferSize / 4; i++)
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4 * i), (uint)(0x9e3779b9u * (i + 1))); // filler
            for (var i = 0; i < From.Length; i++)
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4 * i), From[i]);
            for (var i = 0; i < To.Length; i++)
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(ToOffset + 4 * i), To[i]);
            return buffer;
        }

        public const int ToOffset = BufferSize / 2;

        public override string ToString() =>
            $"{Name}: from {FromBytes} bytes [{Words(From)}] to {ToBytes} bytes [{Words(To)}] seed 0x{Seed:x}";

        private static string Words(uint[] words) => string.Join(' ', words.Select(w => w.ToString("x8", CultureInfo.InvariantCulture)));
    }

    private static readonly Case[] Cases =
    [
        new("both", [0x01020304], [0x05060708], 0),
        new("from empty", [], [0x05060708], 0),
        new("to empty", [0x01020304], [], 0),
        new("both, seed ffffffff", [0x01020304], [0x05060708], 0xffffffff),
        new("both empty, seed", [], [], 0x12345678),
        new("to ffffffff, seed ffffffff", [], [0xffffffff], 0xffffffff),
        new("ip rewrite", [0xc0a80001], [0x0a000001], 0),
        new("two words", [], [0x12345678, 0x9abcdef0], 0),
        new("from 3 bytes", [0x01020304], [], 0, FromSize: 3),
        new("to 6 bytes", [], [0x12345678, 0x9abcdef0], 0, ToSize: 6),
        new("256 + 256 bytes", [], [], 0, FromSize: 256, ToSize: 256),
        new("300 + 300 bytes", [], [], 0, FromSize: 300, ToSize: 300),
    ];

    /// <summary>Buffers in map 1's value; the whole r0 goes to map 0's direct value.</summary>
    private static string Program(Case c)
    {
        var asm = new StringBuilder("""
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            r1 = map_by_idx(1) ll
            call 1
            if r0 == 0 goto out
            """);
        asm.AppendLine();
        asm.AppendLine(c.FromBytes == 0 ? "r1 = 0" : "r1 = r0");
        asm.AppendLine(CultureInfo.InvariantCulture, $"r2 = {c.FromBytes}");
        asm.AppendLine(c.ToBytes == 0 ? "r3 = 0" : $"r3 = r0\nr3 += {Case.ToOffset}");
        asm.AppendLine(CultureInfo.InvariantCulture, $"r4 = {c.ToBytes}");
        asm.AppendLine(CultureInfo.InvariantCulture, $"r5 = 0x{c.Seed:x} ll");
        asm.AppendLine("""
            call 28
            r1 = map_value_by_idx(0, +0) ll
            *(u64 *)(r1 + 0) = r0
            out:
            r0 = 2
            exit
            """);
        return asm.ToString();
    }

    [SkippableFact]
    public void Csum_diff_agrees_with_the_kernel()
    {
        // On 6.18 (x86_64) the result is always folded to 16 bits, sizes are neither required to be multiples of 4 nor
        // limited to 512 bytes together, and with both empty it is the seed, folded.
        KernelAgreement.Check("csum-diff.txt", "bpf_csum_diff(from, from_size, to, to_size, seed) per case: the whole r0", open => Cases.Select(c =>
        {
            using var target = open(
                new MapDefinition("out", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 8, 1),
                new MapDefinition("buffers", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, BufferSize, 1));
            target.Update(1, new byte[4], c.Buffer());
            target.Load("csum", Program(c));
            target.Run("csum", new byte[60]);
            var r0 = BinaryPrimitives.ReadUInt64LittleEndian(target.Dump(0).Single().Value);
            output.WriteLine($"{target.Name} {c}: r0 = 0x{r0:x}");
            return $"{c}: r0 = 0x{r0:x}";
        }).ToList());
    }
}
