using System.Runtime.InteropServices;
using System.Text;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// A relocatable ELF64 little-endian object for EM_BPF, read without trusting a single field: every offset, size,
/// index and string is checked against the file before use, and a bad one is a <see cref="BpfLoadException"/> that
/// names the structure and the numbers, never an out-of-range or overflow exception.
/// </summary>
internal sealed class ElfFile
{
    private const int EhdrSize = 64;
    private const int ShdrSize = 64;
    private const int SymSize = 24;
    private const int RelSize = 16;

    private readonly ElfSection[] sections;
    private readonly ElfSymbol[] symbols;
    private readonly ElfRelocations[] relocations;

    private ElfFile(ElfSection[] sections, ElfSymbol[] symbols, ElfRelocations[] relocations)
    {
        this.sections = sections;
        this.symbols = symbols;
        this.relocations = relocations;
    }

    public IReadOnlyList<ElfSection> Sections => sections;

    /// <summary>The symbol table, entry 0 (the null symbol) included, so that indexes are ELF's.</summary>
    public IReadOnlyList<ElfSymbol> Symbols => symbols;

    public IReadOnlyList<ElfRelocations> Relocations => relocations;

    public ElfSection? FindSection(string name) => Array.Find(sections, s => s.Name == name);

    /// <summary>The section a symbol or relocation names by index; throws naming <paramref name="user"/> when there is none.</summary>
    public ElfSection Section(uint index, string user) =>
        index < (uint)sections.Length && index != SHN_UNDEF
            ? sections[index]
            : throw new BpfLoadException($"{user}: section index {index} is not one of the file's {sections.Length} sections");

    /// <summary>Symbol <paramref name="index"/>; throws naming <paramref name="user"/> when the table has no such entry.</summary>
    public ElfSymbol Symbol(uint index, string user) =>
        index < (uint)symbols.Length
            ? symbols[index]
            : throw new BpfLoadException($"{user}: symbol index {index} is outside the symbol table ({symbols.Length} symbols)");

    public static ElfFile Parse(ReadOnlyMemory<byte> bytes)
    {
        var file = bytes.Span;
        if (file.Length < EhdrSize)
            throw new BpfLoadException($"ELF header: file is {file.Length} bytes, shorter than the 64-byte Elf64_Ehdr");
        if (file[0] != 0x7f || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
            throw new BpfLoadException($"ELF header: not an ELF file (magic {file[0]:x2} {file[1]:x2} {file[2]:x2} {file[3]:x2}, expected 7f 45 4c 46)");
        if (file[EI_CLASS] != ELFCLASS64)
            throw new BpfLoadException($"ELF header: class {file[EI_CLASS]} is not ELFCLASS64 ({ELFCLASS64}); BPF objects are 64-bit");
        if (file[EI_DATA] != ELFDATA2LSB)
            throw new BpfLoadException($"ELF header: data encoding {file[EI_DATA]} is not ELFDATA2LSB ({ELFDATA2LSB}); only little-endian (bpfel) objects are supported");

        var ehdr = MemoryMarshal.Read<Elf64_Ehdr>(file);
        // Like libbpf: EM_NONE is accepted because old LLVM releases left e_machine unset.
        if (ehdr.e_machine != EM_BPF && ehdr.e_machine != EM_NONE)
            throw new BpfLoadException($"ELF header: e_machine {ehdr.e_machine}{MachineName(ehdr.e_machine)} is not EM_BPF ({EM_BPF}): not a BPF object");
        if (ehdr.e_type != ET_REL)
            throw new BpfLoadException($"ELF header: e_type {ehdr.e_type} is not ET_REL ({ET_REL}): BPF objects are relocatable files (clang -c)");

        var headers = ReadSectionHeaders(file, ehdr);
        var names = ReadSectionNames(file, ehdr, headers);
        var sections = new ElfSection[headers.Length];
        for (var i = 0; i < headers.Length; i++)
        {
            var h = headers[i];
            var data = ReadOnlyMemory<byte>.Empty;
            if (h.sh_type != SHT_NOBITS && h.sh_type != SHT_NULL)
            {
                CheckRange(file.Length, h.sh_offset, h.sh_size, $"section '{names[i]}'");
                data = bytes.Slice((int)h.sh_offset, (int)h.sh_size);
            }
            sections[i] = new ElfSection(i, names[i], h, data);
        }

        var symbols = ReadSymbols(sections);
        var relocations = ReadRelocations(sections);
        return new ElfFile(sections, symbols, relocations);
    }

    /// <summary>Throws unless [offset, offset + size) lies inside a file of <paramref name="fileLength"/> bytes; no arithmetic can overflow.</summary>
    internal static void CheckRange(int fileLength, ulong offset, ulong size, string what)
    {
        if (offset > (ulong)fileLength || size > (ulong)fileLength - offset)
            throw new BpfLoadException($"{what}: offset 0x{offset:x} + size {size} beyond end of file ({fileLength} bytes)");
    }

    private static Elf64_Shdr[] ReadSectionHeaders(ReadOnlySpan<byte> file, Elf64_Ehdr ehdr)
    {
        if (ehdr.e_shoff == 0)
            throw new BpfLoadException("ELF header: e_shoff is 0, the file has no section headers");
        if (ehdr.e_shentsize != ShdrSize)
            throw new BpfLoadException($"ELF header: e_shentsize {ehdr.e_shentsize} is not {ShdrSize}, the size of Elf64_Shdr");
        CheckRange(file.Length, ehdr.e_shoff, ShdrSize, "section header 0");

        // Extended numbering: with 0xff00 sections or more, the count lives in section 0's sh_size.
        var count = (ulong)ehdr.e_shnum;
        if (count == 0)
            count = MemoryMarshal.Read<Elf64_Shdr>(file[(int)ehdr.e_shoff..]).sh_size;
        if (count == 0 || count > (ulong)file.Length / ShdrSize)
            throw new BpfLoadException($"section header table: {count} headers of {ShdrSize} bytes cannot fit in a file of {file.Length} bytes");
        CheckRange(file.Length, ehdr.e_shoff, count * ShdrSize, $"section header table ({count} headers)");
        return MemoryMarshal.Cast<byte, Elf64_Shdr>(file.Slice((int)ehdr.e_shoff, (int)count * ShdrSize)).ToArray();
    }

    private static string[] ReadSectionNames(ReadOnlySpan<byte> file, Elf64_Ehdr ehdr, Elf64_Shdr[] headers)
    {
        var index = (uint)ehdr.e_shstrndx;
        if (index == SHN_XINDEX)
            index = headers[0].sh_link;
        if (index == SHN_UNDEF || index >= (uint)headers.Length)
            throw new BpfLoadException($"ELF header: e_shstrndx {index} is not one of the file's {headers.Length} sections");
        var table = headers[index];
        if (table.sh_type != SHT_STRTAB)
            throw new BpfLoadException($"section name table (section {index}): type {table.sh_type} is not SHT_STRTAB");
        CheckRange(file.Length, table.sh_offset, table.sh_size, $"section name table (section {index})");
        var strings = file.Slice((int)table.sh_offset, (int)table.sh_size);

        var names = new string[headers.Length];
        for (var i = 0; i < headers.Length; i++)
            names[i] = ReadString(strings, headers[i].sh_name, $"name of section {i}", "the section name table");
        return names;
    }

    private static ElfSymbol[] ReadSymbols(ElfSection[] sections)
    {
        var tables = sections.Where(s => s.Type == SHT_SYMTAB).ToArray();
        if (tables.Length == 0)
            throw new BpfLoadException("no symbol table (SHT_SYMTAB): was the object stripped?");
        if (tables.Length > 1)
            throw new BpfLoadException($"{tables.Length} symbol tables ({string.Join(", ", tables.AsEnumerable())}); an object has one");
        var table = tables[0];
        if (table.Size % SymSize != 0)
            throw new BpfLoadException($"symbol table '{table.Name}': size {table.Size} is not a multiple of {SymSize} (Elf64_Sym)");
        var stringsIndex = table.Header.sh_link;
        if (stringsIndex == SHN_UNDEF || stringsIndex >= (uint)sections.Length || sections[stringsIndex].Type != SHT_STRTAB)
            throw new BpfLoadException($"symbol table '{table.Name}': sh_link {stringsIndex} is not a string table section");
        var strings = sections[stringsIndex].Data.Span;

        var raw = MemoryMarshal.Cast<byte, Elf64_Sym>(table.Data.Span);
        var symbols = new ElfSymbol[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            var name = ReadString(strings, raw[i].st_name, $"name of symbol {i}", $"string table '{sections[stringsIndex].Name}'");
            // Static functions and variables are often referred to through their section's symbol, which has no name.
            if (name.Length == 0 && ELF64_ST_TYPE(raw[i].st_info) == STT_SECTION && raw[i].st_shndx < sections.Length)
                name = sections[raw[i].st_shndx].Name;
            symbols[i] = new ElfSymbol(i, name, raw[i]);
        }
        return symbols;
    }

    private static ElfRelocations[] ReadRelocations(ElfSection[] sections)
    {
        var result = new List<ElfRelocations>();
        foreach (var section in sections)
        {
            if (section.Type != SHT_REL)
                continue;
            if (section.Size % RelSize != 0)
                throw new BpfLoadException($"relocation section '{section.Name}': size {section.Size} is not a multiple of {RelSize} (Elf64_Rel)");
            var target = section.Header.sh_info;
            if (target == SHN_UNDEF || target >= (uint)sections.Length)
                throw new BpfLoadException($"relocation section '{section.Name}': sh_info {target} is not one of the file's {sections.Length} sections");
            result.Add(new ElfRelocations(section, sections[target], MemoryMarshal.Cast<byte, Elf64_Rel>(section.Data.Span).ToArray()));
        }
        return [.. result];
    }

    /// <summary>The NUL-terminated string at <paramref name="offset"/> of a string table; throws naming who asked and which table.</summary>
    internal static string ReadString(ReadOnlySpan<byte> table, uint offset, string user, string tableName)
    {
        if (offset >= (uint)table.Length)
        {
            // An empty table, or offset 0 of one, stands for the empty name; anything further is corrupt.
            if (offset == 0)
                return "";
            throw new BpfLoadException($"{user}: string offset {offset} is outside {tableName} ({table.Length} bytes)");
        }
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
            throw new BpfLoadException($"{user}: string at offset {offset} of {tableName} has no terminating NUL");
        return Encoding.UTF8.GetString(rest[..end]);
    }

    private static string MachineName(ushort machine) => machine switch
    {
        3 => " (EM_386)",
        62 => " (EM_X86_64)",
        40 => " (EM_ARM)",
        183 => " (EM_AARCH64)",
        243 => " (EM_RISCV)",
        _ => "",
    };
}
