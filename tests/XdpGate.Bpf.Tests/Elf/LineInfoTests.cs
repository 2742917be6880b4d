using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>.BTF.ext line_info: every instruction maps back to C, through linking, into listings and fault reports.</summary>
public sealed class LineInfoTests
{
    public static TheoryData<string> Fixtures => new(ElfFixtures.Good);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_line_record_quotes_its_line_of_the_C_source(string file)
    {
        var obj = ElfFixtures.Open(file);
        Assert.All(obj.Programs, p => Assert.NotEmpty(p.LineInfo));
        foreach (var line in obj.Programs.SelectMany(p => p.LineInfo).Where(l => l.Line > 0))
        {
            var source = Path.ChangeExtension(file, ".c");
            Assert.Equal(source, Path.GetFileName(line.File));
            Assert.Equal(ElfFixtures.SourceLine(source, line.Line).Trim(), line.SourceLine.Trim());
            Assert.InRange(line.Column, 0, ElfFixtures.SourceLine(source, line.Line).Replace("\t", "        ", StringComparison.Ordinal).Length + 1);
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_instruction_of_a_loaded_program_has_a_source_line(string file)
    {
        using var loaded = ElfFixtures.Open(file).Load(verification: VerificationLevel.None);
        foreach (var program in loaded.Programs.Values)
        {
            Assert.Equal(0, program.LineInfo[0].InstructionIndex);
            for (var pc = 0; pc < program.Instructions.Count; pc++)
                Assert.NotNull(program.LineAt(pc));
        }
    }

    [Fact]
    public void Line_info_moves_with_a_subprogram_to_where_it_is_linked()
    {
        var byLength = ElfFixtures.Open("xdp_calls.o").Programs.Single(p => p.Name == "by_length");
        var square = byLength.Functions.Single(f => f.Name == "square").InstructionIndex;
        var first = byLength.LineInfo.First(l => l.InstructionIndex == square);
        Assert.Equal("static __noinline __u64 square(__u64 x)", first.SourceLine);
        Assert.Equal("xdp_calls.c:12", first.Location);
        Assert.Contains(byLength.LineInfo, l => l.InstructionIndex > square && l.SourceLine.Trim() == "return x * x;");
    }

    [Fact]
    public void A_fault_can_be_reported_as_a_C_file_and_line()
    {
        using var loaded = ElfFixtures.Open("xdp_calls.o").Load(verification: VerificationLevel.None);
        var program = loaded.Programs["unchecked"];
        using var vm = new BpfVm();
        Assert.Equal(xdp_action.XDP_ABORTED, ElfFixtures.RunXdp(program, new byte[20], vm).Verdict);
        Assert.Equal(FaultReason.InvalidRead, vm.LastFault.Reason);
        var line = program.LineAt(vm.LastFault.Pc)!;
        Assert.Equal("return data[40];", line.SourceLine.Trim());
        Assert.Matches(@"^xdp_calls\.c:\d+:\d+$", line.Location);
    }

    [Fact]
    public void A_listing_interleaves_C_lines_with_the_instructions_they_became()
    {
        using var loaded = ElfFixtures.Open("xdp_calls.o").Load(verification: VerificationLevel.None);
        var listing = SourceListing.Format(loaded.Programs["by_length"]);
        Assert.StartsWith("; return classify(ctx->data_end - ctx->data); [xdp_calls.c:40:39]\n    0: r2 = *(u32 *)(r1 + 0)\n", listing, StringComparison.Ordinal);
        Assert.Contains("; static __noinline __u64 square(__u64 x) [xdp_calls.c:12]\n   22: r0 = r1\n", listing, StringComparison.Ordinal);
    }

    [Fact]
    public void Program_load_checks_line_info_as_the_kernel_does()
    {
        var insns = Assembler.Assemble("r0 = 1 ll\nexit");
        BpfLineInfo At(int index) => new(index, "f.c", 1, 1, "x");
        BpfProgram Load(params BpfLineInfo[] lines) => BpfProgram.Load(insns, new ProgramOptions { LineInfo = lines, Verification = VerificationLevel.None });

        Assert.Equal(2, Load(At(0), At(2)).LineInfo.Count);
        Assert.Contains("must come after instruction 2", Assert.Throws<BpfLoadException>(() => Load(At(2), At(0))).Message, StringComparison.Ordinal);
        Assert.Contains("inside the program's 3 instructions", Assert.Throws<BpfLoadException>(() => Load(At(3))).Message, StringComparison.Ordinal);
        Assert.Contains("second slot of an lddw", Assert.Throws<BpfLoadException>(() => Load(At(1))).Message, StringComparison.Ordinal);
    }
}
