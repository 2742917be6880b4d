using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Linux;
using Xunit;

namespace XdpGate.Appliance.Tests.Firewall;

public sealed partial class FirewallObjectTests
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

    /// <summary>Every numeric #define of firewall.h has the same value in FirewallLayout (the program and the compiler share them).</summary>
    [Fact]
    public void The_layout_constants_are_those_of_firewall_h()
    {
        var defines = DefineLine().Matches(File.ReadAllText(Path.Combine(Builtin, "firewall.h")))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());
        var compared = 0;
        foreach (var (name, text) in defines)
        {
            var value = text.StartsWith("0x", StringComparison.Ordinal)
                ? long.Parse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.TryParse(text, CultureInfo.InvariantCulture, out var number) ? number : (long?)null;
            var field = typeof(FirewallLayout).GetField(name, BindingFlags.Public | BindingFlags.Static);
            Assert.True(field is not null, $"FirewallLayout lacks {name}");
            if (value is null)
                continue;
            Assert.Equal((name, value.Value), (name, Convert.ToInt64(field.GetValue(null), CultureInfo.InvariantCulture)));
            compared++;
        }
        Assert.True(compared >= 8);
        Assert.Equal(1L << 18, FirewallLayout.FW_MAX_BITMAP_BLOCKS);
        Assert.Equal(FirewallLayout.FW_MAX_RULES / FirewallLayout.FW_BLOCK_RULES, FirewallLayout.FW_MAX_BLOCKS);
    }

    /// <summary>The struct sizes FirewallLayout states are those of the maps firewall.o declares (from its BTF).</summary>
    [Theory]
    [InlineData(FirewallMaps.Config, FirewallLayout.ConfigSize)]
    [InlineData(FirewallMaps.Summaries, FirewallLayout.SummarySize)]
    [InlineData(FirewallMaps.RuleCounts, FirewallLayout.CounterSize)]
    [InlineData(FirewallMaps.Stats, FirewallLayout.CounterSize)]
    [InlineData(FirewallMaps.Bitmaps, FirewallLayout.FW_BLOCK_WORDS * 8)]
    public void The_layout_sizes_are_the_value_sizes_of_the_object_s_maps(string map, int size)
    {
        var definition = FirewallBuiltin.Open().Maps.Single(m => m.Name == map).Definition;

        Assert.Equal(size, (int)definition.ValueSize);
    }

    [GeneratedRegex(@"^#define (FW_\w+) ([^/\n]+)", RegexOptions.Multiline)]
    private static partial Regex DefineLine();
}
