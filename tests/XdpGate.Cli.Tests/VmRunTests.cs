using Xunit;

namespace XdpGate.Cli.Tests;

public sealed class VmRunTests
{
    [Fact]
    public void Vm_run_prints_r0_in_hex()
    {
        var (exit, output, _) = CliRunner.Run("b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00", "vm", "run");
        Assert.Equal(0, exit);
        Assert.Equal("0x2a\n", output.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void Vm_run_gives_r1_the_memory_and_r2_its_length_on_every_engine(string engine)
    {
        // r0 = *(u8 *)(r1 + 1); r0 += r2; exit
        var (exit, output, _) = CliRunner.Run("71 10 01 00 00 00 00 00 0f 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
            "vm", "run", "--mem", "00 05 00", "--engine", engine);
        Assert.Equal(0, exit);
        Assert.Equal("0x8", output.Trim());
    }

    [Theory]
    [InlineData("b7 00 00 00 01 00 00 00", "does not end with exit")]
    [InlineData("95 00 00 00 00 00", "not a multiple of 8")]
    [InlineData("ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00", "unknown opcode 0xff")]
    [InlineData("b7 0b 00 00 01 00 00 00 95 00 00 00 00 00 00 00", "invalid destination register r11")]
    [InlineData("b7 00 00 00 01 00 00 00 95 00 00 00 00 00 00 0x", "'x' at character")]
    [InlineData("79 10 00 01 00 00 00 00 95 00 00 00 00 00 00 00", "read outside accessible memory")]
    public void Vm_run_reports_bad_programs_on_stderr_and_exits_1(string program, string message)
    {
        var (exit, output, error) = CliRunner.Run(program, "vm", "run", "--mem", "00");
        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    /// <summary>`r0 |= r10; exit`: r0 is read before anything wrote it, which the kernel refuses with R0 !read_ok.</summary>
    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void Vm_run_refuses_a_read_of_a_register_nothing_wrote_as_the_kernel_does(string engine)
    {
        var (exit, output, error) = CliRunner.Run("4f a0 00 00 00 00 00 00 95 00 00 00 00 00 00 00", "vm", "run", "--engine", engine);
        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Equal("error: insn 0: r0 |= r10: R0 !read_ok\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Unknown_engines_are_a_usage_error()
    {
        var (exit, _, error) = CliRunner.Run("", "vm", "run", "--engine", "warp");
        Assert.Equal(2, exit);
        Assert.Contains("warp", error, StringComparison.Ordinal);
    }
}
