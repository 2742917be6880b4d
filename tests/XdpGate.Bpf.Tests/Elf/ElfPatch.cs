using System.Buffers.Binary;
using XdpGate.Bpf.Elf;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>A fixture's bytes with the places of its ELF structures, for tests that corrupt one field on purpose.</summary>
internal sealed class ElfPatch
{
    private readonly ElfFile elf;

    public ElfPatch(string fixture)
    {
        Bytes = ElfFixtures.Bytes(fixture);
        elf = ElfFile.Parse(Bytes.ToArray());
    }

    public byte[] Bytes { get; }

    public ElfSection Section(string name) => elf.FindSection(name) ?? throw new ArgumentException($"no section {name}");

    /// <summary>Where section <paramref name="name"/>'s Elf64_Shdr starts in the file.</summary>
    public int SectionHeader(string name) => (int)BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan(0x28)) + 64 * Section(name).Index;

    /// <summary>Where section <paramref name="name"/>'s data starts in the file.</summary>
    public int SectionData(string name) => (int)Section(name).Header.sh_offset;

    public int SymbolIndex(string name) => elf.Symbols.First(s => s.Name == name).Index;

    /// <summary>Where symbol <paramref name="name"/>'s Elf64_Sym starts in the file.</summary>
    public int SymbolEntry(string name) => SectionData(".symtab") + 24 * SymbolIndex(name);

    /// <summary>Where entry <paramref name="index"/> of relocation section <paramref name="name"/> starts in the file.</summary>
    public int RelocationEntry(string name, int index) => SectionData(name) + 16 * index;

    public ElfPatch U16(int at, ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(at), value);
        return this;
    }

    public ElfPatch U32(int at, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(at), value);
        return this;
    }

    public ElfPatch U64(int at, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(at), value);
        return this;
    }

    public uint ReadU32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(at));

    /// <summary>Opening the patched bytes must fail; returns the message.</summary>
    public string Refusal() => Xunit.Assert.Throws<BpfLoadException>(() => BpfObject.Open(Bytes)).Message;

    /// <summary>Opening the patched bytes must succeed and refuse program <paramref name="program"/> alone; returns why.</summary>
    public string? ProgramRefusal(string program) => BpfObject.Open(Bytes).Programs.Single(p => p.Name == program).Refusal;
}
