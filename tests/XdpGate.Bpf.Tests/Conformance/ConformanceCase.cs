using System.Globalization;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Tests.Conformance;

/// <summary>
/// One conformance case, read from a data file of sections in the style of uBPF's tests:
/// <code>
/// # what the case shows (comment lines start with #)
/// -- asm          program text (llvm-objdump syntax), or
/// -- raw          program as hex bytecode (for encodings the assembler will not write)
/// -- mem          input memory as hex; r1 points at it, r2 is its length
/// -- maps         one map per line: NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES [FLAGS]; lddw map_by_idx(N) is line N
/// -- progarray    NAME SLOT self   (puts the program itself into a program array slot)
/// -- result       expected r0 (hex with 0x, or decimal)
/// -- error        text the load or run error must contain
/// </code>
/// </summary>
public sealed class ConformanceCase
{
    public required string Name { get; init; }
    public required bpf_insn[] Program { get; init; }
    public byte[] Memory { get; init; } = [];
    public IReadOnlyList<MapDefinition> Maps { get; init; } = [];
    public IReadOnlyList<(string Map, uint Slot)> SelfSlots { get; init; } = [];
    public ulong? ExpectedResult { get; init; }
    public string? ExpectedError { get; init; }
    /// <summary>A load error from the assembler is itself an expected outcome for cases about bad programs.</summary>
    public string? AssemblyError { get; init; }

    public static ConformanceCase Parse(string name, string text)
    {
        var sections = CaseSections.Parse(name, text);
        bpf_insn[] program = [];
        string? assemblyError = null;
        if (sections.Has("asm"))
        {
            (program, assemblyError) = sections.Assemble();
        }
        else if (sections.Text("raw") is { } hex)
        {
            try
            {
                program = bpf_insn.FromBytes(Convert.FromHexString(string.Concat(hex.Where(char.IsAsciiHexDigit))));
            }
            catch (BpfLoadException e)
            {
                // Truncated bytecode is refused while reading it, before the loader sees it: an expected outcome too.
                assemblyError = e.Message;
            }
        }
        else
        {
            throw new InvalidDataException($"{name}: no -- asm or -- raw section");
        }

        var result = sections.Text("result")?.Trim();
        var error = sections.Text("error")?.Trim();
        if ((result is null) == (error is null))
            throw new InvalidDataException($"{name}: needs exactly one of -- result and -- error");

        return new ConformanceCase
        {
            Name = name,
            Program = program,
            AssemblyError = assemblyError,
            Memory = Convert.FromHexString(string.Concat((sections.Text("mem") ?? "").Where(char.IsAsciiHexDigit))),
            Maps = sections.Maps(),
            SelfSlots = sections.Lines("progarray").Select(ParseSlot).ToArray(),
            ExpectedResult = result is null ? null : CaseSections.ParseNumber(result),
            ExpectedError = error,
        };
    }

    private static (string, uint) ParseSlot(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 3 || f[2] != "self")
            throw new InvalidDataException($"progarray line '{line}': expected NAME SLOT self");
        return (f[0], uint.Parse(f[1], CultureInfo.InvariantCulture));
    }

    public override string ToString() => Name;
}
