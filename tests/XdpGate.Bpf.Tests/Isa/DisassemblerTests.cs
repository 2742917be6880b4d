using XdpGate.Bpf.Isa;
using Xunit;

namespace XdpGate.Bpf.Tests.Isa;

public class DisassemblerTests
{
    public static TheoryData<string, string> Table()
    {
        var data = new TheoryData<string, string>();
        foreach (var (hex, text, _) in IsaData.Disassembly)
            data.Add(hex, text);
        return data;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Disassembly_of_each_listed_instruction_is_the_expected_text(string hex, string text)
    {
        var insns = IsaData.FromHex(hex);
        Assert.Equal(text, Disassembler.Format(insns, 0, out var slots));
        Assert.Equal(insns.Length, slots);
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_listed_text_assembles_to_the_listed_bytes(string hex, string text)
    {
        Assert.Equal(hex, IsaData.ToHex(Assembler.Assemble(text)));
    }

    [Fact]
    public void Program_listing_looks_like_llvm_objdump()
    {
        var insns = Assembler.Assemble("""
            r0 = 1
            r1 = 0x1122334455667788 ll
            exit
            """);
        Assert.Equal(
            "       0:\tb7 00 00 00 01 00 00 00\tr0 = 1\n" +
            "       1:\t18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr1 = 0x1122334455667788 ll\n" +
            "       3:\t95 00 00 00 00 00 00 00\texit\n",
            Disassembler.FormatProgram(insns));
    }

    [Fact]
    public void Disassemble_prints_one_line_per_instruction_and_lddw_takes_two_slots()
    {
        var insns = Assembler.Assemble("r1 = map_by_idx(2) ll\nr0 = 0\nexit");
        Assert.Equal(4, insns.Length);
        Assert.Equal("r1 = map_by_idx(2) ll\nr0 = 0\nexit\n", Disassembler.Disassemble(insns));
        Assert.Equal("r0 = 0", Disassembler.Format(insns, 2));
    }

    [Fact]
    public void Lddw_without_its_second_slot_prints_raw()
    {
        var insns = IsaData.FromHex("18 01 00 00 05 00 00 00");
        Assert.Equal(".insn 0x18, 1, 0, 0, 5", Disassembler.Format(insns, 0, out var slots));
        Assert.Equal(1, slots);
    }

    [Fact]
    public void Lddw_with_a_malformed_second_slot_prints_both_slots_raw()
    {
        var insns = IsaData.FromHex("18 11 00 00 05 00 00 00 00 00 00 00 01 00 00 00"); // map_by_fd with a non-zero next imm
        Assert.Equal(".insn 0x18, 1, 1, 0, 5\n.insn 0x00, 0, 0, 0, 1\n", Disassembler.Disassemble(insns));
        Assert.Equal(insns, Assembler.Assemble(Disassembler.Disassemble(insns)));

        insns = IsaData.FromHex("18 01 00 00 05 00 00 00 95 00 00 00 00 00 00 00"); // an exit where the second slot belongs
        Assert.Equal(".insn 0x18, 1, 0, 0, 5\nexit\n", Disassembler.Disassemble(insns));
    }

    [Fact]
    public void Format_refuses_an_index_outside_the_program()
    {
        var insns = Assembler.Assemble("exit");
        Assert.Throws<ArgumentOutOfRangeException>(() => Disassembler.Format(insns, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Disassembler.Format(insns, -1));
    }
}
