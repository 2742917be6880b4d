namespace XdpGate.Testing.Kernel;

/// <summary>
/// What the kernel answered once, kept under tests/data: one fact a line, and the release that answered. Lines that
/// start with '#' are notes (the kernel's words, what a fact means) and are not compared; the header line
/// <c># kernel RELEASE MACHINE</c> names the release. tests/record-kernel writes them (see tests/data/kernel/README.md).
/// </summary>
public sealed record KernelRecord(string Path, string Release, IReadOnlyList<string> Facts)
{
    public const string ReleaseLine = "# kernel ";

    /// <summary>Whether tests/data/<paramref name="relativePath"/> was recorded.</summary>
    public static bool Exists(string relativePath) => File.Exists(SourceTree.DataCopy(relativePath));

    /// <summary>Reads the copy of tests/data/<paramref name="relativePath"/> next to the test binary.</summary>
    /// <exception cref="FileNotFoundException">Nothing was recorded there: the message says how to record it.</exception>
    /// <exception cref="InvalidDataException">The file does not say which kernel release wrote it.</exception>
    public static KernelRecord Load(string relativePath)
    {
        var path = SourceTree.DataCopy(relativePath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no kernel recording tests/data/{relativePath}: record it as root with tests/record-kernel", path);
        var lines = File.ReadAllLines(path);
        var release = ReleaseOf(lines) ?? throw new InvalidDataException($"tests/data/{relativePath} has no '{ReleaseLine}RELEASE' line naming the kernel that wrote it");
        return new KernelRecord(relativePath, release, [.. lines.Where(l => l.Length > 0 && !l.StartsWith('#'))]);
    }

    /// <summary>The release a recording's header names, or null.</summary>
    public static string? ReleaseOf(IEnumerable<string> lines) =>
        lines.Where(l => l.StartsWith(ReleaseLine, StringComparison.Ordinal)).Select(l => l[ReleaseLine.Length..].Split(' ')[0]).FirstOrDefault();

    /// <summary>The header line for the running kernel.</summary>
    public static string HeaderForRunningKernel => $"{ReleaseLine}{KernelRelease.Current} {KernelRelease.Machine}";

    /// <summary>
    /// Writes a recording of the running kernel to the source tree and to the copy the tests read, so the run that
    /// records also compares against what it wrote.
    /// </summary>
    public static KernelRecord Write(string relativePath, string title, IEnumerable<string> lines)
    {
        var text = string.Join('\n', [$"# {title}", "# Written by tests/record-kernel from the running kernel (tests/data/kernel/README.md).", HeaderForRunningKernel, .. lines]) + "\n";
        foreach (var path in new[] { SourceTree.Data(relativePath), SourceTree.DataCopy(relativePath) })
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        return Load(relativePath);
    }
}
