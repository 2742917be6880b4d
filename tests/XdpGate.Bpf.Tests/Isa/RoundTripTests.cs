using XdpGate.Bpf.Isa;
using Xunit;

namespace XdpGate.Bpf.Tests.Isa;

public class RoundTripTests
{
    private const int Seed = 9669;

    [Fact]
    public void Every_opcode_round_trips_through_disassembler_and_assembler()
    {
        var random = new Random(Seed);
        var program = new List<bpf_insn>();
        foreach (var row in IsaData.Opcodes)
        {
            foreach (var insns in IsaData.Samples(row, random, perCombination: 8))
            {
                var text = Disassembler.Format(insns, 0, out var slots);
                Assert.True(!text.StartsWith(".insn", StringComparison.Ordinal), $"{row}: {IsaData.ToHex(insns)} printed raw as '{text}'");
                Assert.Equal(insns.Length, slots);
                var back = Assembler.Assemble(text);
                Assert.True(back.AsSpan().SequenceEqual(insns), $"{row}: '{text}' assembled to {IsaData.ToHex(back)}, not {IsaData.ToHex(insns)}");
                program.AddRange(insns);
            }
        }
        Assert.Equal(program, Assembler.Assemble(Disassembler.Disassemble(program.ToArray())));
    }

    [Fact]
    public void The_opcode_table_covers_every_RFC_9669_opcode()
    {
        // RFC 9669 Appendix A with the v4 additions: 125 distinct opcode bytes.
        Assert.Equal(125, IsaData.Opcodes.Select(r => r.Code).Distinct().Count());
    }

    /// <summary>
    /// The disassembler's idea of a valid instruction must be exactly the RFC table's: random encodings, biased
    /// towards the table's opcodes and field values, print as text when some row matches and as .insn when none does.
    /// </summary>
    [Fact]
    public void Disassembler_accepts_exactly_the_encodings_the_RFC_table_defines()
    {
        var random = new Random(Seed);
        var codes = IsaData.Opcodes.Select(r => r.Code).Distinct().ToArray();
        long[] interesting = [0, 1, 2, 3, 4, 6, 7, 8, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe0, 0xe1, 0xf0, 0xf1, -1];
        int valid = 0, invalid = 0;
        for (var i = 0; i < 200_000; i++)
        {
            var code = random.Next(4) == 0 ? (byte)random.Next(256) : codes[random.Next(codes.Length)];
            var insn = new bpf_insn(
                code,
                random.Next(3) == 0 ? random.Next(16) : random.Next(2) * random.Next(11),
                random.Next(3) == 0 ? random.Next(16) : random.Next(2) * random.Next(11),
                (short)(random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : IsaData.RandomValue(random, 16)),
                (int)(random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : IsaData.RandomValue(random, 32)));
            var second = random.Next(3) == 0
                ? new bpf_insn((byte)random.Next(2), random.Next(2), 0, (short)random.Next(2), (int)IsaData.RandomValue(random, 32))
                : new bpf_insn(0, 0, 0, 0, (int)(random.Next(2) == 0 ? 0 : IsaData.RandomValue(random, 32)));
            bpf_insn[] insns = [insn, second];

            var expected = IsaData.Opcodes.Any(r => r.Matches(insn, second));
            var text = Disassembler.Format(insns, 0, out var slots);
            var printed = !text.StartsWith(".insn", StringComparison.Ordinal);
            Assert.True(expected == printed, $"{IsaData.ToHex(insns)}: table says {(expected ? "valid" : "invalid")}, disassembler printed '{text}'");
            if (printed)
                valid++;
            else
                invalid++;

            var back = Assembler.Assemble(text);
            Assert.True(back.AsSpan().SequenceEqual(insns.AsSpan(0, slots)), $"'{text}' assembled to {IsaData.ToHex(back)}, not {IsaData.ToHex(insns.AsSpan(0, slots))}");
        }
        // Both outcomes must be well represented, or the test proves little.
        Assert.InRange(valid, 10_000, 190_000);
        Assert.InRange(invalid, 10_000, 190_000);
    }

    [Fact]
    public void Random_bytes_round_trip_even_when_they_are_not_instructions()
    {
        var random = new Random(Seed);
        var bytes = new byte[8 * 20_000];
        random.NextBytes(bytes);
        var insns = bpf_insn.FromBytes(bytes);
        Assert.Equal(insns, Assembler.Assemble(Disassembler.Disassemble(insns)));
    }
}
