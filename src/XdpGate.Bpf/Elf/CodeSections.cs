using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// The object's code cut into functions as libbpf cuts it: every STT_FUNC symbol of an executable section is one
/// function, from its value for its size. Functions of program sections are entry programs (they must be global,
/// as libbpf requires); functions of .text are subprograms, linked into the programs that call them.
/// </summary>
internal sealed class CodeSections
{
    private readonly Dictionary<int, List<CodeFunction>> bySection = [];

    public ElfSection? Text { get; private set; }
    public List<CodeFunction> Programs { get; } = [];
    public List<CodeFunction> Subprograms { get; } = [];

    /// <summary>The function of section <paramref name="sectionIndex"/> holding instruction <paramref name="instruction"/>, or null.</summary>
    public CodeFunction? FindContaining(int sectionIndex, int instruction) =>
        bySection.TryGetValue(sectionIndex, out var functions) ? functions.Find(f => f.Contains(instruction)) : null;

    /// <summary>The function of section <paramref name="sectionIndex"/> starting exactly at <paramref name="instruction"/>, or null.</summary>
    public CodeFunction? FindStartingAt(int sectionIndex, int instruction) =>
        bySection.TryGetValue(sectionIndex, out var functions) ? functions.Find(f => f.Start == instruction) : null;

    public bool IsCodeSection(int sectionIndex) => bySection.ContainsKey(sectionIndex);

    public static CodeSections Read(ElfFile elf)
    {
        var code = new CodeSections();
        foreach (var section in elf.Sections)
        {
            if (section.Type != SHT_PROGBITS || !section.IsExecutable || section.Size == 0)
                continue;
            if (section.Size % 8 != 0)
                throw new BpfLoadException($"section '{section.Name}': size {section.Size} is not a multiple of 8 (instructions are 8 bytes)");
            var isText = section.Name == ".text";
            if (isText)
                code.Text = section;
            var functions = ReadFunctions(elf, section, isText);
            code.bySection[section.Index] = functions;
            (isText ? code.Subprograms : code.Programs).AddRange(functions);
        }

        var duplicate = code.Programs.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new BpfLoadException($"program name '{duplicate.Key}' is used by {duplicate.Count()} functions ({string.Join(", ", duplicate)})");
        return code;
    }

    private static List<CodeFunction> ReadFunctions(ElfFile elf, ElfSection section, bool isText)
    {
        var instructions = bpf_insn.FromBytes(section.Data.Span);
        var functions = new List<CodeFunction>();
        foreach (var symbol in elf.Symbols)
        {
            if (symbol.Type != STT_FUNC || symbol.SectionIndex != section.Index)
                continue;
            var where = $"section '{section.Name}': function '{symbol.Name}'";
            if (symbol.Value % 8 != 0 || symbol.Size % 8 != 0)
                throw new BpfLoadException($"{where}: offset {symbol.Value} and size {symbol.Size} must be multiples of 8");
            if (symbol.Size == 0)
                throw new BpfLoadException($"{where}: size is 0");
            if (symbol.Value > section.Size || symbol.Size > section.Size - symbol.Value)
                throw new BpfLoadException($"{where}: offset {symbol.Value} + size {symbol.Size} runs past the section's {section.Size} bytes");
            if (!isText && symbol.Bind == STB_LOCAL)
                throw new BpfLoadException($"{where}: programs must be global functions; libbpf refuses static ones");
            var start = (int)(symbol.Value / 8);
            functions.Add(new CodeFunction(section, symbol.Name, start, instructions[start..(start + (int)(symbol.Size / 8))], isText));
        }

        functions.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (var i = 1; i < functions.Count; i++)
        {
            if (functions[i].Start < functions[i - 1].End)
                throw new BpfLoadException($"section '{section.Name}': functions {functions[i - 1]} and {functions[i]} overlap");
        }
        return functions;
    }
}
