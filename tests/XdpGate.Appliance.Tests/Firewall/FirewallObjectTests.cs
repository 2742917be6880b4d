using System.Diagnostics;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Linux;
using Xunit;

namespace XdpGate.Appliance.Tests.Firewall;

public sealed class FirewallObjectTests
{
    private static readonly string Builtin = Path.Combine(AppContext.BaseDirectory, "builtin");

    [Fact]
    public void The_embedded_object_is_the_committed_firewall_o()
    {
        using var stream = typeof(FirewallBuiltin).Assembly.GetManifestResourceStream("XdpGate.Appliance.Builtins.Firewall.firewall.o")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);

        Assert.Equal(File.ReadAllBytes(Path.Combine(Builtin, "firewall.o")), copy.ToArray());
    }

    [SkippableFact]
    public void The_committed_object_is_byte_for_byte_what_build_sh_makes_of_firewall_c()
    {
        Skip.If(ClangCompiler.Find() is null || !File.Exists("/usr/include/bpf/bpf_helpers.h"), "clang or libbpf-dev missing; firewall.o was not rebuilt");
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Builtin, "build.sh"));
        start.ArgumentList.Add("--check");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, $"build.sh --check: exit {process.ExitCode}\n{output.Result}\n{error}");
    }
}
