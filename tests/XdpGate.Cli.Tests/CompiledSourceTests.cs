using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;
using XdpGate.Appliance.Objects;
using XdpGate.Testing.Clang;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// C source named as a program, as a user runs the command: each run is a process of its own, clang is named by $CLANG
/// and the cache by $XDPGATE_CACHE_DIR.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CompiledSourceTests : IDisposable
{
    private static readonly string Xdpgate = Path.Combine(AppContext.BaseDirectory, "xdpgate.dll");
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-compiled-");

    public void Dispose() => temp.Delete(recursive: true);

    /// <summary>`xdpgate prog run SOURCE --data-in PACKET -j` in a new process; returns the program's return value.</summary>
    private int ProgRun(CountingClang clang, string source)
    {
        var packet = Path.Combine(temp.FullName, "packet");
        File.WriteAllBytes(packet, new byte[64]);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Xdpgate, "prog", "run", source, "--data-in", packet, "-j" })
            start.ArgumentList.Add(argument);
        start.Environment["CLANG"] = clang.Path;
        start.Environment[CompileCache.DirectoryVariable] = Path.Combine(temp.FullName, "cache");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "xdpgate prog run did not finish within 60 s");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {error.Result}");
        using var document = JsonDocument.Parse(output);
        return document.RootElement.GetProperty("retval").GetInt32();
    }

    [SkippableFact]
    public void Prog_run_compiles_a_source_once_and_again_when_a_header_it_includes_changes()
    {
        var clang = new CountingClang(temp.FullName);
        var program = new VerdictProgram(temp.FullName);

        Assert.Equal(2, ProgRun(clang, program.Source));
        Assert.Equal(2, ProgRun(clang, program.Source));
        Assert.Equal(1, clang.Runs);

        program.SetVerdict(1);
        Assert.Equal(1, ProgRun(clang, program.Source));
        Assert.Equal(2, clang.Runs);
    }
}
