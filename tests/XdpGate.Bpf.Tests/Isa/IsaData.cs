using System.Collections.Concurrent;
using System.Globalization;
using XdpGate.Bpf.Isa;
using OpcodeBits = XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Isa;

/// <summary>One line of data/isa/rfc9669-opcodes.txt: an opcode and the values its other fields may take.</summary>
internal sealed record OpcodeRow(byte Code, string Dst, string Src, string Off, string Imm, string Next, bool Llvm14, string Description)
{
    public bool IsWide => Next != "-";

    public override string ToString() => $"0x{Code:x2} {Description}";

    /// <summary>Whether an encoding is one this line defines; <paramref name="next"/> is lddw's second slot.</summary>
    public bool Matches(bpf_insn insn, bpf_insn? next)
    {
        if (insn.code != Code || !Allows(Dst, insn.dst_reg) || !Allows(Src, insn.src_reg) || !Allows(Off, insn.off) || !Allows(Imm, insn.imm))
            return false;
        if (!IsWide)
            return true;
        return next is { } n && n.code == 0 && n.regs == 0 && n.off == 0 && Allows(Next, n.imm);
    }

    private static bool Allows(string spec, long value) => spec switch
    {
        "reg" => value is >= 0 and <= 10,
        "any" => true,
        _ => IsaData.Alternatives(spec).Contains(value),
    };
}

/// <summary>The instruction-set test data under data/isa, and random instructions drawn from the RFC 9669 table.</summary>
internal static class IsaData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "data", "isa", name);

    public static IReadOnlyList<OpcodeRow> Opcodes { get; } = LoadOpcodes();

    /// <summary>Rows of data/isa/disasm.txt: the raw bytes, the canonical text, and whether llvm-mc 14 reads that text.</summary>
    public static IReadOnlyList<(string Hex, string Text, bool Llvm14)> Disassembly { get; } = LoadDisassembly();

    private static readonly ConcurrentDictionary<string, long[]> AlternativesCache = new(StringComparer.Ordinal);

    public static long[] Alternatives(string spec) =>
        AlternativesCache.GetOrAdd(spec, s => s.Split('|').Select(ParseNumber).ToArray());

    private static long ParseNumber(string text) => text.StartsWith("0x", StringComparison.Ordinal)
        ? long.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
        : long.Parse(text, CultureInfo.InvariantCulture);

    public static bpf_insn[] FromHex(string hex) =>
        bpf_insn.FromBytes(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)));

    public static string ToHex(ReadOnlySpan<bpf_insn> insns) =>
        string.Join(' ', bpf_insn.ToBytes(insns).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>
    /// One random instruction (two for lddw) of a random row of <paramref name="rows"/>, for fuzzing: a jump, call or
    /// function reference gets a relative target drawn from [<paramref name="minJump"/>, <paramref name="maxJump"/>).
    /// </summary>
    public static bpf_insn[] RandomInstruction(IReadOnlyList<OpcodeRow> rows, Random random, int minJump, int maxJump)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(random);
        var row = rows[random.Next(rows.Count)];
        var combinations = new[] { row.Src, row.Off, row.Imm }.Aggregate(1, (n, spec) => n * (spec is "reg" or "any" ? 1 : spec.Split('|').Length));
        var sample = Samples(row, random, 1).ElementAt(random.Next(combinations));
        ref var insn = ref sample[0];
        if (InstructionValidator.JumpTarget(insn, 0) is not null || InstructionValidator.IsPseudoCall(insn) || InstructionValidator.IsPseudoFunc(insn))
        {
            var offset = (short)random.Next(minJump, maxJump);
            // JMP32 JA (gotol) and pseudo calls keep their target in imm; every other jump in off.
            if (OpcodeBits.Class(insn.code) == OpcodeBits.BPF_JMP32 && OpcodeBits.Op(insn.code) == OpcodeBits.BPF_JA || InstructionValidator.IsPseudoCall(insn) || InstructionValidator.IsPseudoFunc(insn))
                insn.imm = offset;
            else
                insn.off = offset;
        }
        return sample;
    }

    /// <summary>
    /// Instructions drawn from one row: every combination of the listed alternatives, <paramref name="perCombination"/>
    /// times each, with random registers and random 'any' fields (edge values often).
    /// </summary>
    public static IEnumerable<bpf_insn[]> Samples(OpcodeRow row, Random random, int perCombination)
    {
        foreach (var src in Choices(row.Src))
        foreach (var off in Choices(row.Off))
        foreach (var imm in Choices(row.Imm))
        foreach (var next in Choices(row.IsWide ? row.Next : "0"))
        {
            for (var i = 0; i < perCombination; i++)
            {
                var insn = new bpf_insn(
                    row.Code,
                    (int)Pick(row.Dst, random, 32),
                    (int)Pick(src, random, 32),
                    (short)Pick(off, random, 16),
                    (int)Pick(imm, random, 32));
                yield return row.IsWide ? [insn, new bpf_insn(0, 0, 0, 0, (int)Pick(next, random, 32))] : [insn];
            }
        }
    }

    /// <summary>A field spec split so each listed alternative is drawn; 'reg' and 'any' stay symbolic.</summary>
    private static IEnumerable<string> Choices(string spec) =>
        spec is "reg" or "any" ? [spec] : spec.Split('|');

    private static long Pick(string spec, Random random, int bits) =>
        spec switch
        {
            "reg" => random.Next(11),
            "any" => RandomValue(random, bits),
            _ => ParseNumber(spec),
        };

    /// <summary>A random field value, often an edge (0, ±1, the extremes) because that is where printing and parsing differ.</summary>
    public static long RandomValue(Random random, int bits)
    {
        var min = -(1L << (bits - 1));
        var max = (1L << (bits - 1)) - 1;
        return random.Next(8) switch
        {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => min,
            4 => max,
            5 => random.Next(-100, 100),
            _ => random.NextInt64(min, max + 1),
        };
    }

    private static List<OpcodeRow> LoadOpcodes()
    {
        var rows = new List<OpcodeRow>();
        foreach (var line in File.ReadLines(PathOf("rfc9669-opcodes.txt")))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var f = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            rows.Add(new OpcodeRow((byte)ParseNumber(f[0]), f[1], f[2], f[3], f[4], f[5], f[6] == "yes", f[7].Trim()));
        }
        return rows;
    }

    private static List<(string, string, bool)> LoadDisassembly()
    {
        var rows = new List<(string, string, bool)>();
        foreach (var line in File.ReadLines(PathOf("disasm.txt")))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            // The text may hold '|' itself (r0 |= r1), so the columns are the first and last '|'.
            var first = line.IndexOf('|', StringComparison.Ordinal);
            var last = line.LastIndexOf('|');
            rows.Add((line[..first].Trim(), line[(first + 1)..last].Trim(), line[(last + 1)..].Trim() == "llvm14"));
        }
        return rows;
    }
}
