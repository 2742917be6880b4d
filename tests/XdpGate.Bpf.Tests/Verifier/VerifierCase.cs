using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Conformance;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>What a case says our verifier must do with its program.</summary>
public enum VerifierVerdict
{
    /// <summary><c>accepted</c>: accepted at both levels.</summary>
    Accepted,

    /// <summary><c>refused default</c>: refused at both levels, as the kernel refuses it for root.</summary>
    RefusedDefault,

    /// <summary><c>refused strict</c>: accepted at the default level (the kernel accepts it for root), refused under strict.</summary>
    RefusedStrict,
}

/// <summary>
/// One verifier case of tests/data/verifier/SUBDIR/NAME.data, in the conformance files' section syntax:
/// <code>
/// # what the program does wrong (or right)
/// -- type      xdp | socket_filter (default xdp)
/// -- maps      as in the conformance cases: NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES [FLAGS]
/// -- map data  NAME [HEX] [frozen], one a line: HEX is the value of key 0 (key_size zero bytes) written before the
///              load, frozen then freezes the map (BPF_MAP_FREEZE), as libbpf leaves .rodata
/// -- asm       the program
/// -- verdict   accepted | refused default | refused strict
/// -- rule      the VerifierRule broken, in kebab-case (refused cases only)
/// -- kernel    accepted | refused: SUBSTRING OF THE KERNEL VERIFIER LOG (the kernel's verdict as root, recorded)
/// -- kernel unprivileged   the same for a loader with CAP_BPF but not CAP_PERFMON (optional; recorded for the
///                          corpus's accepted and strict cases)
/// </code>
/// </summary>
public sealed class VerifierCase
{
    public static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "data", "verifier");

    /// <summary>The subdirectories whose cases are checked: the corpus's refused and accepted programs, and the verifier's own.</summary>
    public static readonly string[] Subdirectories = ["hostile", "accepted", "core"];

    public required string Name { get; init; }
    public required string Description { get; init; }
    public required bpf_prog_type Type { get; init; }
    public required IReadOnlyList<MapDefinition> Maps { get; init; }

    /// <summary>The <c>-- map data</c> lines, applied in order to the maps before the load.</summary>
    public required IReadOnlyList<MapData> Data { get; init; }
    public required bpf_insn[] Program { get; init; }
    public required VerifierVerdict Verdict { get; init; }

    /// <summary>The rule in kebab-case, e.g. <c>invalid-packet-access</c>; null for accepted cases.</summary>
    public required string? Rule { get; init; }

    /// <summary>The kernel's verdict as root.</summary>
    public required KernelLine Kernel { get; init; }

    /// <summary>The kernel's verdict for a loader without CAP_PERFMON, when recorded.</summary>
    public required KernelLine? KernelUnprivileged { get; init; }

    /// <summary>The kernel release (uname -r) that gave the <c>-- kernel</c> verdicts.</summary>
    public required string KernelRelease { get; init; }

    public const string KernelSection = "kernel";
    public const string MapDataSection = "map data";
    public const string KernelUnprivilegedSection = "kernel unprivileged";
    public const string KernelReleaseSection = "kernel release";

    /// <summary>Every case file of the checked subdirectories of <paramref name="root"/> (by default the test's copy), as "subdir/name" without the extension.</summary>
    public static IEnumerable<string> All(string? root = null) =>
        Subdirectories
            .Select(sub => Path.Combine(root ?? DataDirectory, sub))
            .Where(Directory.Exists)
            .SelectMany(dir => Directory.GetFiles(dir, "*.data"))
            .Select(file => Path.GetRelativePath(root ?? DataDirectory, file)[..^".data".Length].Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);

    public static VerifierCase Load(string name) => Parse(name, File.ReadAllText(Path.Combine(DataDirectory, name + ".data")));

    public static VerifierCase Parse(string name, string text)
    {
        var sections = CaseSections.Parse(name, text);
        foreach (var section in sections.Names)
        {
            if (section is not ("type" or "maps" or MapDataSection or "asm" or "verdict" or "rule" or KernelSection or KernelUnprivilegedSection or KernelReleaseSection))
                throw new InvalidDataException($"{name}: unknown section '-- {section}'");
        }
        if (sections.Description.Length == 0)
            throw new InvalidDataException($"{name}: no '#' comment saying what the program does");

        var (program, error) = sections.Assemble();
        if (error is not null)
            throw new InvalidDataException($"{name}: the program does not assemble: {error}");

        var verdict = Single(sections, "verdict") switch
        {
            "accepted" => VerifierVerdict.Accepted,
            "refused default" => VerifierVerdict.RefusedDefault,
            "refused strict" => VerifierVerdict.RefusedStrict,
            var other => throw new InvalidDataException($"{name}: verdict '{other}' is not one of: accepted, refused default, refused strict"),
        };
        var rule = sections.Has("rule") ? Single(sections, "rule") : null;
        if ((verdict == VerifierVerdict.Accepted) != (rule is null))
            throw new InvalidDataException($"{name}: {(rule is null ? "a refused case needs a -- rule" : "an accepted case has no -- rule")}");

        var type = sections.Has("type") ? Single(sections, "type") : "xdp";
        var maps = sections.Maps();
        return new VerifierCase
        {
            Name = name,
            Description = sections.Description,
            Type = type switch
            {
                "xdp" => bpf_prog_type.BPF_PROG_TYPE_XDP,
                "socket_filter" => bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER,
                _ => throw new InvalidDataException($"{name}: type '{type}' is not xdp or socket_filter"),
            },
            Maps = maps,
            Data = [.. sections.Lines(MapDataSection).Select(line => MapData.Parse(name, line, maps))],
            Program = program,
            Verdict = verdict,
            Rule = rule,
            Kernel = KernelLine.Parse(name, Single(sections, KernelSection)),
            KernelUnprivileged = sections.Has(KernelUnprivilegedSection) ? KernelLine.Parse(name, Single(sections, KernelUnprivilegedSection)) : null,
            KernelRelease = Single(sections, KernelReleaseSection),
        };
    }

    /// <summary>The case's maps made for our verifier, holding their <c>-- map data</c> and frozen as it says.</summary>
    public BpfMap[] CreateMaps(int possibleCpus)
    {
        var maps = Maps.Select(definition => MapFactory.Create(definition, possibleCpus)).ToArray();
        try
        {
            foreach (var data in Data)
            {
                var map = maps[data.Map];
                if (data.Value is { } value && map.Update(new byte[map.KeySize], value) is var updated and not 0)
                    throw new InvalidDataException($"{Name}: writing map '{map.Name}' failed ({map.ErrorText(updated)})");
                if (data.Frozen && map.Freeze() is var frozen and not 0)
                    throw new InvalidDataException($"{Name}: freezing map '{map.Name}' failed ({map.ErrorText(frozen)})");
            }
            return maps;
        }
        catch
        {
            foreach (var map in maps)
                map.Dispose();
            throw;
        }
    }

    /// <summary>The file's text with section <paramref name="section"/> holding just <paramref name="line"/> (added at the end if absent).</summary>
    public static string WithSection(string text, string section, string line)
    {
        var lines = text.TrimEnd('\n').Split('\n').ToList();
        var start = lines.IndexOf("-- " + section);
        if (start < 0)
            return string.Join('\n', [.. lines, "-- " + section, line]) + "\n";
        var end = lines.FindIndex(start + 1, l => l.StartsWith("-- ", StringComparison.Ordinal));
        lines.RemoveRange(start + 1, (end < 0 ? lines.Count : end) - start - 1);
        lines.Insert(start + 1, line);
        return string.Join('\n', lines) + "\n";
    }

    private static string Single(CaseSections sections, string key)
    {
        var lines = sections.Lines(key);
        return lines.Count == 1 ? lines[0] : throw new InvalidDataException($"{sections.Name}: -- {key} needs exactly one line, has {lines.Count}");
    }

    public override string ToString() => Name;
}

/// <summary>A <c>-- map data</c> line: the value of key 0 of map <see cref="Map"/> (an index into the maps), and whether to freeze it.</summary>
public sealed record MapData(int Map, byte[]? Value, bool Frozen)
{
    public static MapData Parse(string name, string line, IReadOnlyList<MapDefinition> maps)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var index = f.Length == 0 ? -1 : maps.ToList().FindIndex(m => m.Name == f[0]);
        if (index < 0)
            throw new InvalidDataException($"{name}: map data line '{line}' names no map of -- maps ({string.Join(", ", maps.Select(m => m.Name))})");
        var frozen = f[^1] == "frozen";
        var rest = f[1..(frozen ? ^1 : ^0)];
        if (rest.Length > 1 || (rest.Length == 0 && !frozen))
            throw new InvalidDataException($"{name}: map data line '{line}': expected NAME [HEX] [frozen]");
        byte[]? value = null;
        if (rest.Length == 1)
        {
            try
            {
                value = Convert.FromHexString(rest[0]);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{name}: map data line '{line}': '{rest[0]}' is not hex bytes");
            }
            if (value.Length != maps[index].ValueSize)
                throw new InvalidDataException($"{name}: map data line '{line}': {value.Length} bytes, map '{maps[index].Name}' has value_size {maps[index].ValueSize}");
        }
        return new MapData(index, value, frozen);
    }
}

/// <summary>A recorded kernel verdict: <c>accepted</c>, or <c>refused: TEXT</c> where TEXT is in the verifier log.</summary>
public sealed record KernelLine(bool Accepts, string? LogSubstring)
{
    private const string Refused = "refused: ";

    public static KernelLine Parse(string name, string line)
    {
        if (line == "accepted")
            return new KernelLine(true, null);
        if (!line.StartsWith(Refused, StringComparison.Ordinal) || line.Length <= Refused.Length)
            throw new InvalidDataException($"{name}: kernel line '{line}' is neither 'accepted' nor 'refused: SUBSTRING'");
        return new KernelLine(false, line[Refused.Length..]);
    }

    /// <summary>The line for a verdict just seen: the whole reason the kernel gave.</summary>
    public static string Format(bool accepted, string reason) => accepted ? "accepted" : Refused + reason;

    /// <summary>Whether a load with this outcome and log is what the line records.</summary>
    public bool Matches(bool accepted, string log) =>
        accepted ? Accepts : !Accepts && log.Contains(LogSubstring!, StringComparison.Ordinal);

    public override string ToString() => Accepts ? "accepted" : Refused + LogSubstring;
}
