using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using XdpGate.Bpf.Isa;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Bpf.Tests.Isa;

/// <summary>
/// Our syntax against LLVM's own: llvm-mc (LLVM 14 here, which predates the v4 instructions, jset, ST and the fetch
/// atomics) must read our text to our bytes, and print our bytes as our text. Without llvm-mc they are reported as
/// skipped, saying why.
/// </summary>
public partial class LlvmAgreementTests(ITestOutputHelper output)
{
    private static readonly string LlvmMc = Environment.GetEnvironmentVariable("LLVM_MC") ?? "/usr/bin/llvm-mc";

    [SkippableFact]
    public void Assembler_agrees_with_llvm_mc_on_every_instruction_LLVM_14_knows()
    {
        Skip.IfNot(File.Exists(LlvmMc), $"{LlvmMc} not found (install llvm, or set LLVM_MC to point at llvm-mc); nothing was compared");
        var cases = Llvm14Cases();
        var texts = cases.Select(c => Disassembler.Format(c, 0)).ToList();
        var (stdout, stderr) = Run(["-triple", "bpfel", "-mattr=+alu32", "-show-encoding"], string.Join('\n', texts) + "\n");
        Assert.True(stderr.Length == 0, $"llvm-mc refused some of our text:\n{stderr}");

        var encodings = stdout.Split('\n').Where(l => l.Contains("# encoding: [", StringComparison.Ordinal)).Select(ParseEncoding).ToList();
        Assert.Equal(texts.Count, encodings.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.True(IsaData.ToHex(cases[i]) == encodings[i], $"'{texts[i]}': llvm-mc encodes {encodings[i]}, we have {IsaData.ToHex(cases[i])}");
            Assert.Equal(cases[i], Assembler.Assemble(texts[i]));
        }
        output.WriteLine($"{texts.Count} instructions agree with {LlvmMc}");
    }

    [SkippableFact]
    public void Disassembler_agrees_with_llvm_mc_on_every_instruction_LLVM_14_knows()
    {
        Skip.IfNot(File.Exists(LlvmMc), $"{LlvmMc} not found (install llvm, or set LLVM_MC to point at llvm-mc); nothing was compared");
        var cases = Llvm14Cases();
        var input = string.Join('\n', cases.Select(c => string.Join(' ', bpf_insn.ToBytes(c).Select(b => $"0x{b:x2}")))) + "\n";
        var (stdout, stderr) = Run(["-triple", "bpfel", "-mattr=+alu32", "--disassemble"], input);
        Assert.True(stderr.Length == 0, $"llvm-mc could not decode some instructions:\n{stderr}");

        var lines = stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != ".text").ToList();
        Assert.Equal(cases.Count, lines.Count);
        for (var i = 0; i < cases.Count; i++)
        {
            var ours = Disassembler.Format(cases[i], 0);
            var theirs = Normalize(lines[i]);
            Assert.True(ours == theirs, $"{IsaData.ToHex(cases[i])}: llvm-mc prints '{lines[i]}', we print '{ours}'");
        }
        output.WriteLine($"{cases.Count} instructions agree with {LlvmMc}");
    }

    /// <summary>
    /// LLVM 14's printer differs from ours in two documented ways: with alu32 on it names the value register of
    /// 8- to 32-bit loads and stores wN (llvm-objdump, without alu32, prints rN as we do), and it prints lddw's
    /// immediate in signed decimal where we (like newer llvm-objdump) print hex.
    /// </summary>
    private static string Normalize(string llvm)
    {
        llvm = SubregisterLoad().Replace(llvm, "r$1 = *(u");
        llvm = SubregisterStore().Replace(llvm, "$1 = r$2");
        var lddw = DecimalLddw().Match(llvm);
        if (lddw.Success)
            llvm = $"{lddw.Groups[1].Value} = 0x{(ulong)long.Parse(lddw.Groups[2].Value, CultureInfo.InvariantCulture):x} ll";
        return llvm;
    }

    [GeneratedRegex(@"^w(\d+) = \*\(u")]
    private static partial Regex SubregisterLoad();

    /// <summary>A plain store (never a lock-prefixed atomic, which we also print with wN).</summary>
    [GeneratedRegex(@"^(\*\(u(?:8|16|32) \*\)\(r\d+ [+-] \d+\)) = w(\d+)$")]
    private static partial Regex SubregisterStore();

    [GeneratedRegex(@"^(r\d+) = (-?\d+) ll$")]
    private static partial Regex DecimalLddw();

    /// <summary>Random instructions from every table row LLVM 14 knows, and the listed instructions it knows.</summary>
    private static List<bpf_insn[]> Llvm14Cases()
    {
        var random = new Random(14);
        var cases = IsaData.Opcodes.Where(r => r.Llvm14).SelectMany(r => IsaData.Samples(r, random, perCombination: 6)).ToList();
        cases.AddRange(IsaData.Disassembly.Where(d => d.Llvm14).Select(d => IsaData.FromHex(d.Hex)));
        return cases;
    }

    private static string ParseEncoding(string line)
    {
        var start = line.IndexOf("# encoding: [", StringComparison.Ordinal) + "# encoding: [".Length;
        var end = line.IndexOf(']', start);
        return string.Join(' ', line[start..end].Split(',').Select(b => b.Trim()[2..]));
    }

    private static (string Stdout, string Stderr) Run(string[] arguments, string input)
    {
        var start = new ProcessStartInfo(LlvmMc)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {LlvmMc}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        process.WaitForExit();
        return (stdout.Result, stderr.Result);
    }
}
