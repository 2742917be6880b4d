using System.Globalization;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// Objects with CO-RE relocations through the commands a user runs: xdp_core_parse (tests/data/programs), built
/// against vmlinux-style types, is relocated to this host's kernel BTF (or the built-in one) and gives the kernel's verdicts.
/// </summary>
public sealed class CoreCommandTests : IDisposable
{
    private static readonly string Programs = Path.Combine(AppContext.BaseDirectory, "data", "programs");
    private static readonly string CoreParse = Path.Combine(Programs, "xdp_core_parse.o");
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-core-");

    /// <summary>Each frame of xdp_core_parse.packets with the return value the kernel gave (xdp_core_parse.kernel.txt).</summary>
    public static TheoryData<int, string> FramesOnEngines()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Frames().Count; i++)
        {
            data.Add(i, "interp");
            data.Add(i, "jit");
        }
        return data;
    }

    private static List<string> Frames() =>
        [.. File.ReadLines(Path.Combine(Programs, "xdp_core_parse.packets")).Where(l => l.Length > 0 && l[0] != '#')];

    private static List<int> KernelReturnValues() =>
        [.. File.ReadLines(Path.Combine(Programs, "xdp_core_parse.kernel.txt")).Where(l => l.StartsWith("retval ", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture))];

    [Fact]
    public void Prog_verify_accepts_the_relocated_CO_RE_parser()
    {
        var (exit, output, error) = CliRunner.Run("", "prog", "verify", CoreParse);
        Assert.True(exit == 0, error);
        Assert.Matches(@"^xdp_core_parse: accepted \(privileged\): processed \d+ insns", output);
    }

    [Theory]
    [MemberData(nameof(FramesOnEngines))]
    public void Prog_run_of_the_CO_RE_parser_gives_the_kernels_return_value_for_each_frame(int frame, string engine)
    {
        var packet = Path.Combine(temp.FullName, "frame");
        File.WriteAllBytes(packet, Convert.FromHexString(Frames()[frame]));
        var (exit, output, error) = CliRunner.Run("", "prog", "run", CoreParse, "--data-in", packet, "--engine", engine);
        Assert.True(exit == 0, error);
        Assert.StartsWith($"Return value: {KernelReturnValues()[frame]},", output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Prog_verify_refuses_a_reachable_unresolved_relocation_naming_it()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "data", "elf", "core_missing_field.o");
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", fixture);
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^guarded: accepted \(privileged\)", output);
        Assert.Matches(@"(?m)^unguarded: refused \(privileged, [a-z-]+\): core_missing_field\.c:\d+:\d+: insn \d+: call 195896080: CO-RE relocation field_byte_offset of struct iphdr___x\.xdpgate_no_such_field: no such field in (the kernel's BTF \(/sys/kernel/btf/vmlinux\)|XdpGate's built-in BTF) \(the instruction was poisoned as libbpf does: invalid func unknown#195896080\)", output);
    }

    public void Dispose() => temp.Delete(recursive: true);
}
