using XdpGate.Bpf.Isa;

namespace XdpGate.Bpf.Elf;

/// <summary>What an instruction's relocation asks for, once its symbol has been understood.</summary>
internal enum CodeRelocationKind
{
    /// <summary>A BPF-to-BPF call into .text; the target is (symbol value / 8) + imm + 1.</summary>
    Call,
    /// <summary>An lddw of a .text function's address (a bpf_loop callback); the target is (symbol value + imm) / 8.</summary>
    SubprogramAddress,
    /// <summary>An lddw of a map: becomes <c>lddw map_by_idx</c>.</summary>
    Map,
    /// <summary>An lddw of global data: becomes <c>lddw map_value_by_idx</c> with offset imm + symbol value.</summary>
    Data,
}

/// <summary>One relocation of one instruction, with the symbol named for messages.</summary>
internal sealed record CodeRelocation(CodeRelocationKind Kind, string Symbol, ulong SymbolValue, int MapIndex);

/// <summary>
/// One function of a code section, as its STT_FUNC symbol bounds it: an entry program (a global function in a program
/// section) or a subprogram (any function in .text). Instruction indexes in <see cref="Relocations"/> are relative
/// to the function's start.
/// </summary>
internal sealed class CodeFunction(ElfSection section, string name, int start, bpf_insn[] instructions, bool isSubprogram)
{
    public ElfSection Section { get; } = section;
    public string Name { get; } = name;

    /// <summary>Index of the function's first instruction in its section.</summary>
    public int Start { get; } = start;
    public bpf_insn[] Instructions { get; } = instructions;
    public int End => Start + Instructions.Length;
    public bool IsSubprogram { get; } = isSubprogram;
    public Dictionary<int, CodeRelocation> Relocations { get; } = [];

    /// <summary>
    /// The first relocation of this function that cannot be applied (an extern, a symbol in no map): it refuses the
    /// programs that contain the function, not the object, as libbpf fails only the programs it loads.
    /// </summary>
    public string? RelocationError { get; set; }

    public bool Contains(int sectionIndex) => sectionIndex >= Start && sectionIndex < End;

    public override string ToString() => $"'{Name}' (section '{Section.Name}', instructions {Start}..{End - 1})";
}
