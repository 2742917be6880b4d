using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// Links one entry program as libbpf's bpf_object__reloc_code does: walks its instructions (and then those of each
/// subprogram it pulled in), appends every .text function that is called or whose address is taken the first time
/// it is needed, and points the call or <c>lddw</c> at the appended copy. Maps become <c>lddw map_by_idx</c> and
/// global data <c>lddw map_value_by_idx</c> with the variable's offset. Line info follows each function to its new place.
/// A relocation that cannot be applied in any function it links refuses this program only.
/// </summary>
internal static class ProgramLinker
{
    public static ObjectProgram Link(CodeFunction program, CodeSections code, BtfExt? ext)
    {
        var kind = ProgramSections.Classify(program.Section.Name);
        var instructions = new List<bpf_insn>(program.Instructions);
        var placed = new List<(CodeFunction Function, int At)> { (program, 0) };
        var placedAt = new Dictionary<CodeFunction, int> { [program] = 0 };

        // The list grows while it is walked: a subprogram appended here is relocated in its turn.
        for (var c = 0; c < placed.Count; c++)
        {
            var (function, at) = placed[c];
            if (function.RelocationError is { } error)
                throw new BpfLoadException(function.IsSubprogram ? $"subprogram '{function.Name}': {error}" : error);
            for (var local = 0; local < function.Instructions.Length; local++)
            {
                var pc = at + local;
                var insn = instructions[pc];
                var isLddw = insn.code == (BPF_LD | BPF_IMM | BPF_DW);
                function.Relocations.TryGetValue(local, out var relocation);
                var where = $"program '{program.Name}': function '{function.Name}' instruction {local}";

                long? textTarget = null;
                switch (relocation?.Kind)
                {
                    case CodeRelocationKind.Map:
                        insn.src_reg = BPF_PSEUDO_MAP_IDX;
                        insn.imm = relocation.MapIndex;
                        break;
                    case CodeRelocationKind.Data:
                        var offset = relocation.SymbolValue <= int.MaxValue ? insn.imm + (long)relocation.SymbolValue : -1;
                        if (offset is < 0 or > int.MaxValue)
                            throw new BpfLoadException($"{where}: offset {insn.imm} from '{relocation.Symbol}' is outside its section");
                        var next = instructions[pc + 1];
                        next.imm = (int)offset;
                        instructions[pc + 1] = next;
                        insn.src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
                        insn.imm = relocation.MapIndex;
                        break;
                    case CodeRelocationKind.SubprogramAddress:
                        // The callback's byte offset in .text: symbol value (global function) or imm (static one).
                        textTarget = ((long)relocation.SymbolValue + insn.imm) / 8;
                        insn.src_reg = BPF_PSEUDO_FUNC;
                        break;
                    case CodeRelocationKind.Call:
                        // A global callee has imm -1 and its own symbol; a static one the section symbol and imm = start - 1.
                        textTarget = (long)(relocation.SymbolValue / 8) + insn.imm + 1;
                        break;
                    case null when insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_CALL:
                        // No relocation: clang resolved a call within the section itself.
                        var target = (long)function.Start + local + insn.imm + 1;
                        if (function.IsSubprogram)
                            textTarget = target;
                        else if (!function.Contains((int)Math.Clamp(target, -1, int.MaxValue)))
                            throw new BpfLoadException($"{where}: call to section instruction {target}, outside the program and without a relocation");
                        break;
                }

                if (textTarget is { } textIndex)
                {
                    var callee = (code.Text is { } text && textIndex is >= 0 and < int.MaxValue ? code.FindStartingAt(text.Index, (int)textIndex) : null)
                        ?? throw new BpfLoadException($"{where}: {(isLddw ? "function address" : "call")} targets .text instruction {textIndex}, where no function starts");
                    if (!placedAt.TryGetValue(callee, out var calleeAt))
                    {
                        calleeAt = instructions.Count;
                        instructions.AddRange(callee.Instructions);
                        placed.Add((callee, calleeAt));
                        placedAt[callee] = calleeAt;
                    }
                    insn.imm = calleeAt - pc - 1;
                }
                instructions[pc] = insn;
                if (isLddw)
                    local++;
            }
        }

        return new ObjectProgram(program.Name, program.Section.Name, kind, program.Instructions, [.. instructions],
            LineInfo(placed, ext), [.. placed.Select(p => new ObjectFunction(p.At, p.Function.Name))]);
    }

    /// <summary>The line_info records of each placed function, moved to where the function now starts.</summary>
    private static BpfLineInfo[] LineInfo(List<(CodeFunction Function, int At)> placed, BtfExt? ext)
    {
        var lines = new List<BpfLineInfo>();
        if (ext is null)
            return [];
        foreach (var (function, at) in placed)
        {
            if (!ext.LineInfo.TryGetValue(function.Section.Name, out var records))
                continue;
            foreach (var record in records)
            {
                if (function.Contains(record.Instruction))
                    lines.Add(new BpfLineInfo(at + record.Instruction - function.Start, record.File, record.Line, record.Column, record.SourceLine));
            }
        }
        return [.. lines];
    }
}
