using System.Globalization;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests.Conformance;

/// <summary>
/// The section syntax shared by the data-file cases (conformance and verifier): <c># comment</c> lines, then
/// <c>-- name</c> headers each followed by its lines. Comment lines inside a section are dropped too.
/// </summary>
public sealed class CaseSections
{
    private readonly Dictionary<string, List<string>> sections;

    private CaseSections(string name, string description, Dictionary<string, List<string>> sections)
    {
        Name = name;
        Description = description;
        this.sections = sections;
    }

    public string Name { get; }

    /// <summary>The comment lines before the first section, without their '#': what the case is about.</summary>
    public string Description { get; }

    public static CaseSections Parse(string name, string text)
    {
        var description = new List<string>();
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("-- ", StringComparison.Ordinal))
            {
                current = [];
                if (!sections.TryAdd(line[3..].Trim(), current))
                    throw new InvalidDataException($"{name}: section '{line}' appears twice");
            }
            else if (line.TrimStart().StartsWith('#'))
            {
                if (current is null)
                    description.Add(line.TrimStart().TrimStart('#').Trim());
            }
            else
            {
                current?.Add(line);
            }
        }
        return new CaseSections(name, string.Join(' ', description), sections);
    }

    public IEnumerable<string> Names => sections.Keys;

    public bool Has(string key) => sections.ContainsKey(key);

    /// <summary>The section's lines joined by newlines, or null when the file has no such section.</summary>
    public string? Text(string key) => sections.TryGetValue(key, out var lines) ? string.Join('\n', lines) : null;

    /// <summary>The section's non-blank lines, trimmed; empty when the file has no such section.</summary>
    public IReadOnlyList<string> Lines(string key) =>
        sections.TryGetValue(key, out var lines) ? lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToArray() : [];

    /// <summary>The <c>-- maps</c> lines: NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES [FLAGS]; lddw map_by_idx(N) is line N.</summary>
    public IReadOnlyList<MapDefinition> Maps() => Lines("maps").Select(ParseMap).ToArray();

    /// <summary>The <c>-- asm</c> program assembled, or the assembler's error for cases about programs it refuses.</summary>
    public (bpf_insn[] Program, string? Error) Assemble()
    {
        var asm = Text("asm") ?? throw new InvalidDataException($"{Name}: no -- asm section");
        try
        {
            return (Assembler.Assemble(asm), null);
        }
        catch (BpfLoadException e)
        {
            return ([], e.Message);
        }
    }

    private MapDefinition ParseMap(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length is < 5 or > 6 || !Enum.TryParse<bpf_map_type>("BPF_MAP_TYPE_" + f[1].ToUpperInvariant(), out var type))
            throw new InvalidDataException($"{Name}: map line '{line}': expected NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES [FLAGS] with a kernel map type");
        return new MapDefinition(f[0], type, uint.Parse(f[2], CultureInfo.InvariantCulture), uint.Parse(f[3], CultureInfo.InvariantCulture),
            uint.Parse(f[4], CultureInfo.InvariantCulture), f.Length > 5 ? (uint)ParseNumber(f[5]) : 0);
    }

    /// <summary>A number as the case files write it: 0x-prefixed hex, or decimal (negative ones as two's complement).</summary>
    public static ulong ParseNumber(string text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : text.StartsWith('-') ? (ulong)long.Parse(text, CultureInfo.InvariantCulture) : ulong.Parse(text, CultureInfo.InvariantCulture);
}
