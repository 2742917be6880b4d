using System.Diagnostics;

namespace XdpGate.EndToEnd.Tests;

/// <summary>
/// The C reference loops of perf/reference, built once per test run by perf/reference/build.sh into a temporary
/// directory (removed when the run ends). Tests skip, naming what is missing, where gcc or libxdp-dev is not installed.
/// </summary>
internal static class ReferenceBuild
{
    private static readonly Lazy<(string? Directory, string? WhyUnavailable)> Built = new(Build);

    /// <summary>The directory holding tpacket_loop and xsk_loop, or null when they could not both be built.</summary>
    public static string? Directory => Built.Value.Directory;

    /// <summary>What is missing to build both loops, or null.</summary>
    public static string? WhyUnavailable => Built.Value.WhyUnavailable;

    private static (string?, string?) Build()
    {
        if (!File.Exists("/usr/bin/gcc"))
            return (null, "gcc not found (apt-get install gcc): the C reference loops cannot be built");
        var output = Path.Combine(Path.GetTempPath(), $"xdpgate-reference-{Environment.ProcessId}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (System.IO.Directory.Exists(output))
                System.IO.Directory.Delete(output, recursive: true);
        };
        var start = new ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "perf", "reference", "build.sh"));
        start.ArgumentList.Add(output);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start sh perf/reference/build.sh");
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new InvalidOperationException("perf/reference/build.sh took over a minute");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"perf/reference/build.sh failed (exit {process.ExitCode}): {errors.Result}");
        // build.sh leaves xsk_loop out, saying why, where libxdp-dev is missing.
        return File.Exists(Path.Combine(output, "xsk_loop")) ? (output, null) : (null, errors.Result.Trim());
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XdpGate.sln")) && File.Exists(Path.Combine(dir.FullName, "perf", "reference", "build.sh")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no XdpGate.sln with perf/reference/build.sh above {AppContext.BaseDirectory}");
    }
}
