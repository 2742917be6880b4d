using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Config;

public enum Severity
{
    Error,
    Warning,
}

/// <summary>A problem found in a config, at a line and column (1-based) of its file, or at none (a config made from flags).</summary>
public sealed record ConfigDiagnostic(Severity Severity, long Line, long Column, string Message)
{
    /// <summary>"FILE:LINE:COL: error: MESSAGE"; without a position "FILE: error: MESSAGE", or "error: MESSAGE" without a file either.</summary>
    public string Format(string? file)
    {
        var kind = Severity == Severity.Error ? "error" : "warning";
        if (Line > 0)
            return $"{file}:{Line}:{Column}: {kind}: {Message}";
        return file is null ? $"{kind}: {Message}" : $"{file}: {kind}: {Message}";
    }
}

/// <summary>Every problem of one file, collected rather than thrown so that one run reports them all.</summary>
public sealed class ConfigDiagnostics
{
    private readonly List<ConfigDiagnostic> items = [];

    public IReadOnlyList<ConfigDiagnostic> Items => items;

    public bool HasErrors => items.Any(d => d.Severity == Severity.Error);

    public void Error(Mark at, string message) => items.Add(new ConfigDiagnostic(Severity.Error, at.Line, at.Column, message));

    public void Error(YamlNode at, string message) => Error(at.Start, message);

    public void Error(ConfigPosition at, string message) => items.Add(new ConfigDiagnostic(Severity.Error, at.Line, at.Column, message));

    public void Warning(YamlNode at, string message) => Warning(At(at), message);

    public void Warning(ConfigPosition at, string message) => items.Add(new ConfigDiagnostic(Severity.Warning, at.Line, at.Column, message));

    /// <summary>Where <paramref name="node"/> starts.</summary>
    public static ConfigPosition At(YamlNode node) => new(node.Start.Line, node.Start.Column);

    /// <summary>The errors, one per line, formatted for <paramref name="file"/>.</summary>
    public string Errors(string? file) => string.Join(Environment.NewLine, Sorted().Where(d => d.Severity == Severity.Error).Select(d => d.Format(file)));

    /// <summary>In file order, so a report reads top to bottom.</summary>
    public IEnumerable<ConfigDiagnostic> Sorted() => items.OrderBy(d => d.Line).ThenBy(d => d.Column);
}
