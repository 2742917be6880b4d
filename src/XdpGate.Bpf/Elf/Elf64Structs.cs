using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Elf;

#pragma warning disable CA1707, IDE1006, CA1051, CS0649 // C names and layouts kept exactly; read from bytes, never written

/// <summary>The ELF file header, laid out as <c>elf.h</c>'s Elf64_Ehdr (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct Elf64_Ehdr
{
    public fixed byte e_ident[ElfConstants.EI_NIDENT];
    public ushort e_type;
    public ushort e_machine;
    public uint e_version;
    public ulong e_entry;
    public ulong e_phoff;
    public ulong e_shoff;
    public uint e_flags;
    public ushort e_ehsize;
    public ushort e_phentsize;
    public ushort e_phnum;
    public ushort e_shentsize;
    public ushort e_shnum;
    public ushort e_shstrndx;
}

/// <summary>A section header, laid out as Elf64_Shdr (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct Elf64_Shdr
{
    public uint sh_name;
    public uint sh_type;
    public ulong sh_flags;
    public ulong sh_addr;
    public ulong sh_offset;
    public ulong sh_size;
    public uint sh_link;
    public uint sh_info;
    public ulong sh_addralign;
    public ulong sh_entsize;
}

/// <summary>A symbol, laid out as Elf64_Sym (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct Elf64_Sym
{
    public uint st_name;
    public byte st_info;
    public byte st_other;
    public ushort st_shndx;
    public ulong st_value;
    public ulong st_size;
}

/// <summary>A relocation without addend, laid out as Elf64_Rel (16 bytes); BPF objects use no other kind.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct Elf64_Rel
{
    public ulong r_offset;
    public ulong r_info;
}
#pragma warning restore CA1707, IDE1006, CA1051, CS0649
