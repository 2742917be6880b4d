using XdpGate.Bpf.Elf;
using Xunit;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>Damaged and unsupported objects: each is refused with a BpfLoadException that says exactly what is wrong.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, int> Truncations()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in ElfFixtures.Good)
        {
            for (var k = 0; k < 17; k++)
                data.Add(file, k);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Truncations))]
    public void A_file_cut_at_each_seventeenth_is_refused_saying_how_long_it_is(string file, int seventeenths)
    {
        var bytes = ElfFixtures.Bytes(file);
        var length = bytes.Length * seventeenths / 17;
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Open(bytes.AsSpan(0, length)));
        // clang writes the section headers last, so every cut loses them (or, below 64 bytes, the ELF header).
        Assert.Matches(length < 64
            ? $"^ELF header: file is {length} bytes, shorter than the 64-byte Elf64_Ehdr$"
            : $@"^section header (0|table \(\d+ headers\)): offset 0x[0-9a-f]+ \+ size \d+ beyond end of file \({length} bytes\)$", e.Message);
    }

    [Fact]
    public void A_file_of_another_machine_is_refused_naming_its_e_machine()
    {
        var patch = new ElfPatch("xdp_maps.o").U16(18, 62);
        Assert.Equal("ELF header: e_machine 62 (EM_X86_64) is not EM_BPF (247): not a BPF object", patch.Refusal());
    }

    [Theory]
    [InlineData(0, 0x7e, "ELF header: not an ELF file (magic 7e 45 4c 46, expected 7f 45 4c 46)")]
    [InlineData(4, 1, "ELF header: class 1 is not ELFCLASS64 (2); BPF objects are 64-bit")]
    [InlineData(5, 2, "ELF header: data encoding 2 is not ELFDATA2LSB (1); only little-endian (bpfel) objects are supported")]
    [InlineData(16, 2, "ELF header: e_type 2 is not ET_REL (1): BPF objects are relocatable files (clang -c)")]
    public void A_header_that_is_not_a_little_endian_BPF_object_file_is_refused(int at, byte value, string message)
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.Bytes[at] = value;
        Assert.Equal(message, patch.Refusal());
    }

    [Fact]
    public void A_section_placed_past_the_end_of_the_file_is_refused_with_its_name_offset_and_size()
    {
        var patch = new ElfPatch("xdp_maps.o");
        var length = patch.Bytes.Length;
        patch.U64(patch.SectionHeader("xdp") + 24, (ulong)length - 8);
        Assert.Equal($"section 'xdp': offset 0x{length - 8:x} + size 416 beyond end of file ({length} bytes)", patch.Refusal());
    }

    [Fact]
    public void A_section_size_that_would_wrap_around_is_refused_without_overflowing()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U64(patch.SectionHeader(".BTF") + 32, ulong.MaxValue - 7);
        Assert.Equal($"section '.BTF': offset 0x{patch.SectionData(".BTF"):x} + size {ulong.MaxValue - 7} beyond end of file ({patch.Bytes.Length} bytes)", patch.Refusal());
    }

    [Fact]
    public void Section_headers_past_the_end_of_the_file_are_refused()
    {
        var patch = new ElfPatch("xdp_maps.o").U64(0x28, 1UL << 63);
        Assert.Equal($"section header 0: offset 0x8000000000000000 + size 64 beyond end of file ({patch.Bytes.Length} bytes)", patch.Refusal());
    }

    [Fact]
    public void A_section_name_outside_the_name_table_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.SectionHeader("license"), 0x7fff_0000);
        Assert.Matches(@"^name of section \d+: string offset 2147418112 is outside the section name table \(\d+ bytes\)$", patch.Refusal());
    }

    [Fact]
    public void A_relocation_against_a_symbol_that_does_not_exist_is_refused_naming_section_and_instruction()
    {
        var patch = new ElfPatch("xdp_maps.o");
        var entry = patch.RelocationEntry(".relxdp", 0);
        patch.U32(entry + 12, 9999);
        Assert.Equal("section 'xdp': relocation #0 at instruction 4: symbol index 9999 is outside the symbol table (21 symbols)", patch.Refusal());
    }

    [Theory]
    [InlineData(4u, "R_BPF_64_NODYLD32")]
    [InlineData(7u, "relocation type 7")]
    public void An_unsupported_relocation_type_is_refused_by_name(uint type, string name)
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.RelocationEntry(".relxdp", 0) + 8, type);
        Assert.Equal($"section 'xdp': relocation #0 at instruction 4 (function 'tail_pass') against 'counters': {name} is not supported (R_BPF_64_64, R_BPF_64_ABS64, R_BPF_64_ABS32, R_BPF_64_32 are)", patch.Refusal());
    }

    [Fact]
    public void A_relocation_of_an_instruction_that_is_neither_lddw_nor_call_refuses_its_program()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U64(patch.RelocationEntry(".relxdp", 0), 0);
        Assert.Equal("section 'xdp': relocation #0 at instruction 0 (function 'tail_pass') against 'counters': instruction code 0xb7 is neither lddw nor call, so nothing in it can be relocated", patch.ProgramRefusal("tail_pass"));
    }

    [Fact]
    public void A_relocation_inside_an_instruction_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U64(patch.RelocationEntry(".relxdp", 0), 0x21);
        Assert.Equal("section 'xdp': relocation #0 at offset 33: not the start of an instruction of the section's 416 bytes", patch.Refusal());
    }

    [Fact]
    public void BTF_with_a_bad_magic_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U16(patch.SectionData(".BTF"), 0x9feb);
        Assert.Equal("'.BTF': bad magic 0x9feb (expected 0xeb9f, little-endian BTF)", patch.Refusal());
    }

    [Fact]
    public void A_BTF_type_of_unknown_kind_is_refused_naming_its_id()
    {
        var patch = new ElfPatch("xdp_maps.o");
        var info = patch.SectionData(".BTF") + 24 + 4;
        patch.U32(info, 31u << 24);
        Assert.Equal("'.BTF': type [1] '' has unknown kind 31", patch.Refusal());
    }

    [Fact]
    public void A_BTF_type_section_longer_than_the_section_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.SectionData(".BTF") + 12, 0x10_0000);
        Assert.Matches(@"^'\.BTF': type section at offset 0 \+ 1048576 bytes runs past the end of the section \(\d+ bytes after the header\)$", patch.Refusal());
    }

    [Fact]
    public void A_BTF_name_outside_the_string_section_is_refused_naming_the_type()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.SectionData(".BTF") + 24, 0x00ff_ffff);
        Assert.Matches(@"^type \[1\]: string offset 16777215 is outside the BTF string section \(\d+ bytes\)$", patch.Refusal());
    }

    [Fact]
    public void A_line_info_record_size_that_is_not_a_multiple_of_4_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        var ext = patch.SectionData(".BTF.ext");
        var lineInfo = ext + (int)patch.ReadU32(ext + 4) + (int)patch.ReadU32(ext + 16);
        patch.U32(lineInfo, 18);
        Assert.Matches(@"^'\.BTF\.ext' line_info: record size 18 is not a multiple of 4 between 16 and the group's \d+ bytes$", patch.Refusal());
    }

    [Fact]
    public void BTF_defined_maps_without_BTF_are_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        // Renaming the section hides it; the name may be shared with ".rel.BTF", which is then renamed too.
        var name = patch.SectionData(".strtab") + (int)patch.ReadU32(patch.SectionHeader(".BTF"));   // LLVM's one string table
        patch.Bytes[name + 3] = (byte)'X';
        Assert.Equal("section '.maps': BTF-defined maps need the object's BTF and there is no .BTF section (compile with -g)", patch.Refusal());
    }

    [Fact]
    public void A_symbol_name_outside_the_string_table_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.SymbolEntry("dispatch"), 0x0fff_ffff);
        Assert.Matches(@"^name of symbol \d+: string offset 268435455 is outside string table '\.strtab' \(\d+ bytes\)$", patch.Refusal());
    }

    [Fact]
    public void A_function_that_runs_past_its_section_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U64(patch.SymbolEntry("dispatch") + 16, 0x1000);
        Assert.Equal("section 'xdp': function 'dispatch': offset 208 + size 4096 runs past the section's 416 bytes", patch.Refusal());
    }

    [Fact]
    public void A_program_array_slot_pointing_at_something_other_than_a_program_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.U32(patch.RelocationEntry(".rel.maps", 0) + 12, (uint)patch.SymbolIndex("counters"));
        Assert.Equal("section '.maps': relocation #0 at offset 24 against 'counters': slot 0 of map 'jumps' must point at a program, and 'counters' is not one", patch.Refusal());
    }

    [Fact]
    public void A_program_array_slot_beyond_max_entries_is_refused()
    {
        var patch = new ElfPatch("xdp_maps.o");
        // The BTF array whose length is max_entries 4 (shared by 'jumps' and 'counters'): name 0, ARRAY, of int [2], index [4], 4 long.
        byte[] array = [0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0];
        var at = patch.Bytes.AsSpan().IndexOf(array);
        patch.U32(at + 20, 2);
        Assert.Equal("section '.maps': relocation #1 at offset 40 against 'tail_drop': slot 2 of map 'jumps' is beyond its max_entries 2", patch.Refusal());
    }

    [Fact]
    public void A_map_the_engine_cannot_create_refuses_the_programs_that_use_it()
    {
        var patch = new ElfPatch("xdp_legacy.o");
        patch.U32(patch.SectionData("maps") + 20, 11);   // 'verdicts' becomes an LPM trie without BPF_F_NO_PREALLOC
        var obj = BpfObject.Open(patch.Bytes);
        var e = Assert.Throws<BpfLoadException>(() => obj.Load());
        Assert.Matches(@"^program 'legacy' \(section 'xdp/legacy'\): map 'verdicts'.*BPF_MAP_TYPE_LPM_TRIE", e.Message);
    }

    [Fact]
    public void A_map_type_the_kernel_does_not_know_refuses_the_object()
    {
        var patch = new ElfPatch("xdp_legacy.o");
        patch.U32(patch.SectionData("maps") + 20, 999);
        var obj = BpfObject.Open(patch.Bytes);
        var e = Assert.Throws<BpfLoadException>(() => obj.Load());
        Assert.StartsWith("map 'verdicts': type 999 is not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_the_loader_refuses_is_named_with_the_C_line_of_the_bad_instruction_and_its_siblings_load()
    {
        var patch = new ElfPatch("xdp_calls.o");
        patch.U32(patch.SectionData("xdp/loop") + 8 * 12 + 4, 9999);   // bpf_loop's call 181 becomes call 9999
        var obj = BpfObject.Open(patch.Bytes);
        using var loaded = obj.Load(verification: VerificationLevel.None);
        Assert.Matches(@"^program 'looped' \(section 'xdp/loop'\): insn 12 \(xdp_calls\.c:48:\d+\): call 9999: unknown helper id 9999$", loaded.Refused["looped"]);
        Assert.Equal(obj.Programs.Select(p => p.Name).Where(n => n != "looped").Order(), loaded.Programs.Keys.Order());
        var e = Assert.Throws<BpfLoadException>(() => obj.Load(verification: VerificationLevel.None, program: "looped"));
        Assert.Equal(loaded.Refused["looped"], e.Message);
    }

    [Fact]
    public void A_path_that_names_a_bad_object_starts_the_message()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xdpgate-bad-{Guid.NewGuid():n}.o");
        File.WriteAllBytes(path, new byte[10]);
        try
        {
            var e = Assert.Throws<BpfLoadException>(() => BpfObject.Open(path));
            Assert.Equal($"{path}: ELF header: file is 10 bytes, shorter than the 64-byte Elf64_Ehdr", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Static_functions_in_program_sections_are_refused_as_libbpf_refuses_them()
    {
        var patch = new ElfPatch("xdp_maps.o");
        patch.Bytes[patch.SymbolEntry("dispatch") + 4] = 0x02;   // st_info: STB_LOCAL, STT_FUNC
        Assert.Equal("section 'xdp': function 'dispatch': programs must be global functions; libbpf refuses static ones", patch.Refusal());
    }
}
