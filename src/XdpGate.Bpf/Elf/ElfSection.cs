using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>One section: its header, its name and (unless SHT_NOBITS) its bytes, already checked to lie inside the file.</summary>
internal sealed class ElfSection(int index, string name, Elf64_Shdr header, ReadOnlyMemory<byte> data)
{
    public int Index { get; } = index;
    public string Name { get; } = name;
    public Elf64_Shdr Header { get; } = header;

    /// <summary>The section's bytes; empty for SHT_NOBITS, whose size is <see cref="Size"/> zeros.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    public uint Type => Header.sh_type;
    public ulong Size => Header.sh_size;
    public bool IsExecutable => (Header.sh_flags & SHF_EXECINSTR) != 0;

    public override string ToString() => $"[{Index}] '{Name}'";
}

/// <summary>One symbol of the symbol table, with its name resolved.</summary>
internal sealed class ElfSymbol(int index, string name, Elf64_Sym raw)
{
    public int Index { get; } = index;
    public string Name { get; } = name;
    public ulong Value => raw.st_value;
    public ulong Size => raw.st_size;
    public ushort SectionIndex => raw.st_shndx;
    public byte Bind => ELF64_ST_BIND(raw.st_info);
    public byte Type => ELF64_ST_TYPE(raw.st_info);

    public override string ToString() => Name.Length > 0 ? $"'{Name}'" : $"symbol #{Index}";
}

/// <summary>A relocation section (SHT_REL): the section it patches and its entries, unvalidated beyond their count.</summary>
internal sealed class ElfRelocations(ElfSection section, ElfSection target, Elf64_Rel[] entries)
{
    public ElfSection Section { get; } = section;
    public ElfSection Target { get; } = target;
    public IReadOnlyList<Elf64_Rel> Entries { get; } = entries;
}
