using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>xdp_calls.c: .text subprograms (global, static, nested), a bpf_loop callback, xdp/NAME and socket sections.</summary>
public sealed class SubprogramTests
{
    // Unverified: the object has a deliberately unchecked program (for run-time fault tests) the kernel refuses too.
    private static readonly BpfObject Object = ElfFixtures.Open("xdp_calls.o");

    private static ObjectProgram Program(string name) => Object.Programs.Single(p => p.Name == name);

    [Fact]
    public void Called_text_functions_are_appended_once_each_in_the_order_they_are_first_needed()
    {
        var byLength = Program("by_length");
        Assert.Equal(
            [new ObjectFunction(0, "by_length"), new ObjectFunction(5, "classify"), new ObjectFunction(16, "sum_of_squares"), new ObjectFunction(22, "square")],
            byLength.Functions);
        Assert.Equal(25, byLength.InstructionCount);
        Assert.Equal(5, byLength.RawInstructions.Count);
    }

    [Fact]
    public void Every_call_points_at_the_start_of_an_appended_function()
    {
        var byLength = Program("by_length");
        var starts = byLength.Functions.Select(f => f.InstructionIndex).ToHashSet();
        var calls = byLength.Instructions.Select((insn, pc) => (insn, pc))
            .Where(x => x.insn.code == (BPF_JMP | BPF_CALL) && x.insn.src_reg == BPF_PSEUDO_CALL).ToList();
        Assert.Equal(4, calls.Count);   // classify, sum_of_squares, square twice
        Assert.All(calls, c => Assert.Contains(c.pc + 1 + c.insn.imm, starts));
    }

    [Theory]
    [InlineData(59, xdp_action.XDP_DROP)]   // shorter than 60
    [InlineData(60, xdp_action.XDP_PASS)]   // 60*60 + 1 <= 10000
    [InlineData(100, xdp_action.XDP_TX)]    // 100*100 + 1 > 10000
    public void Nested_subprogram_calls_compute_the_verdict(int length, xdp_action expected)
    {
        using var loaded = Object.Load(verification: VerificationLevel.None);
        Assert.Equal(expected, ElfFixtures.RunXdp(loaded.Programs["by_length"], new byte[length]).Verdict);
    }

    [Fact]
    public void A_bpf_loop_callback_address_becomes_lddw_func_pointing_at_the_appended_callback()
    {
        var looped = Program("looped");
        var pc = looped.Instructions.ToList().FindIndex(i => i.code == (BPF_LD | BPF_IMM | BPF_DW));
        Assert.Equal(BPF_PSEUDO_FUNC, looped.Instructions[pc].src_reg);
        var callback = looped.Functions.Single(f => f.Name == "add_index");
        Assert.Equal(callback.InstructionIndex, pc + 1 + looped.Instructions[pc].imm);
        Assert.Contains(looped.Functions, f => f.Name == "square");   // called by the callback, linked too
    }

    [Theory]
    [InlineData(5, 0 + 1 + 4 + 9 + 16)]
    [InlineData(40, 1240)]  // bpf_loop stops at 16 iterations: sum of i*i for i < 16
    public void The_bpf_loop_callback_runs_as_the_program_asks(int length, int sum)
    {
        using var loaded = Object.Load(verification: VerificationLevel.None);
        Assert.Equal((xdp_action)sum, ElfFixtures.RunXdp(loaded.Programs["looped"], new byte[length]).Verdict);
    }

    [Fact]
    public void Each_program_gets_its_own_copy_of_a_shared_subprogram()
    {
        Assert.All(new[] { "by_length", "looped", "keep_short" }, name => Assert.Contains(Program(name).Functions, f => f.Name == "square"));
        Assert.DoesNotContain(Object.Programs, p => p.Name is "square" or "classify" or "add_index");
    }

    [Fact]
    public void Map_and_global_references_inside_a_text_function_are_relocated_in_its_linked_copy()
    {
        var counted = Program("counted");
        Assert.Equal(["counted", "bump"], counted.Functions.Select(f => f.Name));
        using var loaded = Object.Load(verification: VerificationLevel.None);
        Assert.Equal(xdp_action.XDP_PASS, ElfFixtures.RunXdp(loaded.Programs["counted"], new byte[60]).Verdict);   // 1 + 1
        Assert.Equal(xdp_action.XDP_DROP, ElfFixtures.RunXdp(loaded.Programs["counted"], new byte[60]).Verdict);   // 2 + 2
        Assert.Equal(2UL, ElfFixtures.Read<ulong>(loaded.Maps["calls"], 1));
        Assert.Equal(1UL, ElfFixtures.Read<ulong>(loaded.Maps[".bss"], 0));
    }

    [Fact]
    public void A_static_map_is_found_through_its_sections_symbol_and_the_offset_in_the_lddw()
    {
        Assert.Equal(["calls", "limits"], Object.Maps.Where(m => m.Kind == ObjectMapKind.Btf).Select(m => m.Name).Order());
        using var loaded = Object.Load(verification: VerificationLevel.None);
        Assert.Equal(0, loaded.Maps["limits"].Update(new byte[4], BitConverter.GetBytes(2UL)));
        // 1 + 1 >= 2 only if the program reads 'limits'; 'calls', at offset 0 of .maps, would give the default 4.
        Assert.Equal(xdp_action.XDP_DROP, ElfFixtures.RunXdp(loaded.Programs["counted"], new byte[60]).Verdict);
    }

    [Fact]
    public void Section_names_give_program_types_as_libbpf_reads_them()
    {
        Assert.Equal((bpf_prog_type.BPF_PROG_TYPE_XDP, bpf_attach_type.BPF_XDP), (Program("looped").Type, Program("looped").ExpectedAttachType!.Value));
        Assert.Equal(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, Program("keep_short").Type);
        Assert.Null(Program("keep_short").ExpectedAttachType);
        using var loaded = Object.Load(verification: VerificationLevel.None);
        Assert.Equal(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, loaded.Programs["keep_short"].Type);
    }

    [Fact]
    public void A_program_type_XdpGate_does_not_run_opens_with_its_type_and_stays_unloaded()
    {
        var obj = ElfFixtures.Open("bad_section.o");
        Assert.Equal(bpf_prog_type.BPF_PROG_TYPE_KPROBE, obj.Programs[0].Type);
        const string why = "a kprobe program (section 'kprobe/do_unlinkat'); XdpGate runs xdp and socket_filter programs";
        Assert.Equal(why, obj.Programs[0].NotLoadable);
        using var loaded = obj.Load();
        Assert.Empty(loaded.Programs);
        Assert.Equal(why, loaded.Unloaded["probe"]);
        var e = Assert.Throws<BpfLoadException>(() => obj.Load(program: "probe"));
        Assert.Equal($"program 'probe': {why}", e.Message);
    }

    [Fact]
    public void A_kfunc_call_is_refused_naming_the_extern()
    {
        var obj = ElfFixtures.Open("bad_extern.o");
        const string reason = "section 'xdp': relocation #0 at instruction 0 (function 'calls_kfunc') against 'bpf_kernel_only': 'bpf_kernel_only' is an extern";
        Assert.StartsWith(reason, obj.Programs[0].Refusal, StringComparison.Ordinal);
        var e = Assert.Throws<BpfLoadException>(() => obj.Load());
        Assert.StartsWith($"program 'calls_kfunc' (section 'xdp'): {reason}", e.Message, StringComparison.Ordinal);
    }
}
