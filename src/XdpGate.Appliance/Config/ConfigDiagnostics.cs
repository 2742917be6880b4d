using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Config;

public enum Severity
{
    Error,
    Warning,
}

/// <summary>A problem found in a config file, at a line and column (1-based) of that file.</summary>
public sealed record ConfigDiagnostic(Severity Severity, long Line, long Column, string Message)
{
    public string Format(string file) => $"{file}:{Line}:{Column}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>Every problem of one file, collected rather than thrown so that one run reports them all.</summary>
public sealed class ConfigDiagnostics
{
    private readonly List<ConfigDiagnostic> items = [];

    public IReadOnlyList<ConfigDiagnostic> Items => items;

    public bool HasErrors => items.Any(d => d.Severity == Severity.Error);

    public void Error(Mark at, string message) => items.Add(new ConfigDiagnostic(Severity.Error, at.Line, at.Column, message));

    public void Error(YamlNode at, string message) => Error(at.Start, message);

    public void Warning(YamlNode at, string message) => items.Add(new ConfigDiagnostic(Severity.Warning, at.Start.Line, at.Start.Column, message));

    /// <summary>In file order, so a report reads top to bottom.</summary>
    public IEnumerable<ConfigDiagnostic> Sorted() => items.OrderBy(d => d.Line).ThenBy(d => d.Column);
}
