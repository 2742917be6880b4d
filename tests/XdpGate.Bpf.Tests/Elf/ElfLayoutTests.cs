using System.Runtime.InteropServices;
using XdpGate.Bpf.Elf;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>The ELF structures are read straight from the file's bytes, so they must keep elf.h's sizes and offsets.</summary>
public sealed class ElfLayoutTests
{
    [Fact]
    public void Elf64_structs_have_the_sizes_of_elf_h()
    {
        Assert.Equal(64, Marshal.SizeOf<Elf64_Ehdr>());
        Assert.Equal(64, Marshal.SizeOf<Elf64_Shdr>());
        Assert.Equal(24, Marshal.SizeOf<Elf64_Sym>());
        Assert.Equal(16, Marshal.SizeOf<Elf64_Rel>());
    }

    [Theory]
    [InlineData(nameof(Elf64_Ehdr.e_machine), 18)]
    [InlineData(nameof(Elf64_Ehdr.e_shoff), 40)]
    [InlineData(nameof(Elf64_Ehdr.e_shentsize), 58)]
    [InlineData(nameof(Elf64_Ehdr.e_shnum), 60)]
    [InlineData(nameof(Elf64_Ehdr.e_shstrndx), 62)]
    public void Elf64_Ehdr_fields_sit_at_the_elf_h_offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Elf64_Ehdr>(field));

    [Theory]
    [InlineData(nameof(Elf64_Shdr.sh_offset), 24)]
    [InlineData(nameof(Elf64_Shdr.sh_size), 32)]
    [InlineData(nameof(Elf64_Shdr.sh_link), 40)]
    [InlineData(nameof(Elf64_Shdr.sh_info), 44)]
    public void Elf64_Shdr_fields_sit_at_the_elf_h_offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Elf64_Shdr>(field));

    [Theory]
    [InlineData(nameof(Elf64_Sym.st_info), 4)]
    [InlineData(nameof(Elf64_Sym.st_shndx), 6)]
    [InlineData(nameof(Elf64_Sym.st_value), 8)]
    [InlineData(nameof(Elf64_Sym.st_size), 16)]
    public void Elf64_Sym_fields_sit_at_the_elf_h_offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Elf64_Sym>(field));
}
