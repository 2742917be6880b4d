using Xunit;

namespace XdpGate.Cli.Tests;

public sealed class AsmTests
{
    [Fact]
    public void Asm_output_runs_in_vm_run_and_disassembles_back_to_the_source()
    {
        const string source = "r0 = 0x1122334455667788 ll\nr1 = *(u8 *)(r1 + 1)\nr0 += r1\nexit\n";
        var (asmExit, hex, _) = CliRunner.Run(source, "asm", "-");
        Assert.Equal(0, asmExit);

        var (runExit, result, _) = CliRunner.Run(hex, "vm", "run", "--mem", "00 05");
        Assert.Equal(0, runExit);
        Assert.Equal("0x112233445566778d", result.Trim());

        var (disasmExit, listing, _) = CliRunner.Run(hex, "disasm", "-");
        Assert.Equal(0, disasmExit);
        var text = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[^1]);
        Assert.Equal(source.Split('\n', StringSplitOptions.RemoveEmptyEntries), text);
    }

    [Fact]
    public void Asm_writes_raw_bytecode_that_disasm_reads_from_a_file()
    {
        var dir = Directory.CreateTempSubdirectory("xdpgate-asm-");
        try
        {
            var source = Path.Combine(dir.FullName, "p.s");
            var raw = Path.Combine(dir.FullName, "p.o");
            File.WriteAllText(source, "w0 = 7\nexit\n");
            Assert.Equal(0, CliRunner.Run("", "asm", source, "-o", raw).Exit);
            Assert.Equal(16, new FileInfo(raw).Length);
            var (exit, listing, _) = CliRunner.Run("", "disasm", raw);
            Assert.Equal(0, exit);
            Assert.Contains("w0 = 7", listing, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Asm_errors_name_the_line()
    {
        var (exit, _, error) = CliRunner.Run("r0 = 1\nr0 += r11\nexit\n", "asm", "-");
        Assert.Equal(1, exit);
        Assert.Contains("line 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_files_are_reported()
    {
        var (exit, _, error) = CliRunner.Run("", "disasm", "/nonexistent/prog.o");
        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/prog.o", error, StringComparison.Ordinal);
    }
}
