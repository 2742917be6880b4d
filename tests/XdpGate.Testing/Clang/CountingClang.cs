using System.Runtime.Versioning;
using XdpGate.Linux;
using Xunit;

namespace XdpGate.Testing.Clang;

/// <summary>
/// A clang that counts its runs: a script in the test's directory that notes each run, then runs the real clang
/// (<see cref="ClangCompiler.Find"/>'s). Constructing one skips the test where there is no clang.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CountingClang
{
    private readonly string log;

    public CountingClang(string directory)
    {
        var real = ClangCompiler.Find();
        Skip.If(real is null, $"clang not found ({ClangCompiler.InstallHint})");
        log = System.IO.Path.Combine(directory, "clang-runs");
        Path = System.IO.Path.Combine(directory, "clang");
        File.WriteAllText(Path, $"#!/bin/sh\necho run >> '{log}'\nexec '{real}' \"$@\"\n");
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The script, to run as clang.</summary>
    public string Path { get; }

    public int Runs => File.Exists(log) ? File.ReadAllLines(log).Length : 0;
}
