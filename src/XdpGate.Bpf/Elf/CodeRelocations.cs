using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Elf.ElfConstants;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// Reads the relocations of code sections and decides, as libbpf's bpf_program__record_reloc does, what each asks
/// for from the instruction it patches and the symbol it names: a call into .text, a callback address in .text,
/// a map, or global data. Relocations of other sections (DWARF, BTF) are link-time matters libbpf skips, and so do we.
/// </summary>
internal static class CodeRelocations
{
    public static void Read(ElfFile elf, CodeSections code, MapTable maps)
    {
        foreach (var relocations in elf.Relocations)
        {
            var target = relocations.Target;
            if (!code.IsCodeSection(target.Index))
                continue;
            for (var i = 0; i < relocations.Entries.Count; i++)
            {
                var entry = relocations.Entries[i];
                var at = $"section '{target.Name}': relocation #{i} at offset {entry.r_offset}";
                if (entry.r_offset % 8 != 0 || entry.r_offset >= target.Size)
                    throw new BpfLoadException($"{at}: not the start of an instruction of the section's {target.Size} bytes");
                var index = (int)(entry.r_offset / 8);
                at = $"section '{target.Name}': relocation #{i} at instruction {index}";
                var symbol = elf.Symbol(ELF64_R_SYM(entry.r_info), at);
                var type = ELF64_R_TYPE(entry.r_info);
                var function = code.FindContaining(target.Index, index);
                var where = function is null ? $"{at} against {symbol}" : $"{at} (function '{function.Name}') against {symbol}";
                if (type is not (R_BPF_64_64 or R_BPF_64_ABS64 or R_BPF_64_ABS32 or R_BPF_64_32))
                    throw new BpfLoadException($"{where}: {RelocationName(type)} is not supported (R_BPF_64_64, R_BPF_64_ABS64, R_BPF_64_ABS32, R_BPF_64_32 are)");
                // Code outside every function symbol belongs to no program (libbpf: an overridden weak function).
                if (function is null)
                    continue;

                var local = index - function.Start;
                try
                {
                    var relocation = Classify(elf, code, maps, function, local, symbol, where);
                    if (!function.Relocations.TryAdd(local, relocation))
                        throw new BpfLoadException($"{where}: the instruction already has a relocation");
                }
                catch (BpfLoadException e)
                {
                    function.RelocationError ??= e.Message;
                }
            }
        }
    }

    private static CodeRelocation Classify(ElfFile elf, CodeSections code, MapTable maps, CodeFunction function, int local,
        ElfSymbol symbol, string where)
    {
        var insn = function.Instructions[local];
        if (symbol.SectionIndex == SHN_UNDEF)
            throw new BpfLoadException($"{where}: {symbol} is an extern (a kfunc, .kconfig or .ksyms symbol); XdpGate has no kernel to resolve it");
        if (symbol.SectionIndex >= SHN_LORESERVE)
            throw new BpfLoadException($"{where}: {symbol} is in special section 0x{symbol.SectionIndex:x}, not in a section of the object");
        var section = elf.Section(symbol.SectionIndex, where);
        var inText = code.Text is { } text && section.Index == text.Index;

        if (insn.code == (BPF_JMP | BPF_CALL))
        {
            if (insn.src_reg != BPF_PSEUDO_CALL)
                throw new BpfLoadException($"{where}: the call has src_reg {insn.src_reg}; only BPF-to-BPF calls (src_reg {BPF_PSEUDO_CALL}) are relocated");
            if (!inText)
                throw new BpfLoadException($"{where}: the called function is in section '{section.Name}'; subprograms must be in .text");
            if (symbol.Value % 8 != 0)
                throw new BpfLoadException($"{where}: symbol value {symbol.Value} is not a multiple of 8");
            return new CodeRelocation(CodeRelocationKind.Call, symbol.Name, symbol.Value, -1);
        }

        if (insn.code != (BPF_LD | BPF_IMM | BPF_DW))
            throw new BpfLoadException($"{where}: instruction code 0x{insn.code:x2} is neither lddw nor call, so nothing in it can be relocated");
        if (local + 1 >= function.Instructions.Length)
            throw new BpfLoadException($"{where}: the lddw's second slot is past the end of the function");

        if (inText && symbol.Type is STT_SECTION or STT_FUNC)
        {
            if (symbol.Value % 8 != 0 || insn.imm % 8 != 0)
                throw new BpfLoadException($"{where}: function address {symbol.Value} + {insn.imm} is not a multiple of 8");
            return new CodeRelocation(CodeRelocationKind.SubprogramAddress, symbol.Name, symbol.Value, -1);
        }
        if (maps.IsDefinitionSection(section.Index))
        {
            // A static map is referred to through its section's symbol, with its offset in the lddw's imm.
            var offset = symbol.Type == STT_SECTION ? symbol.Value + (ulong)(uint)insn.imm : symbol.Value;
            var map = maps.FindDefined(section.Index, offset)
                ?? throw new BpfLoadException($"{where}: no map is defined at offset {offset} of section '{section.Name}'");
            return new CodeRelocation(CodeRelocationKind.Map, symbol.Name, symbol.Value, map);
        }
        if (maps.FindData(section.Index) is { } data)
            return new CodeRelocation(CodeRelocationKind.Data, symbol.Name, symbol.Value, data);
        throw new BpfLoadException($"{where}: {symbol} is in section '{section.Name}', which is neither a map section nor global data");
    }
}
