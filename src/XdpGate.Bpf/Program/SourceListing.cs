using System.Text;
using XdpGate.Bpf.Isa;

namespace XdpGate.Bpf.Program;

/// <summary>
/// A disassembly with the C source interleaved, as <c>bpftool prog dump xlated linum</c> prints it: before the
/// first instruction of each line info record that has source text, <c>; source text [file.c:line:column]</c>.
/// </summary>
public static class SourceListing
{
    public static string Format(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Format([.. program.Instructions], program.LineInfo);
    }

    public static string Format(ReadOnlySpan<bpf_insn> instructions, IReadOnlyList<BpfLineInfo> lineInfo)
    {
        ArgumentNullException.ThrowIfNull(lineInfo);
        var text = new StringBuilder();
        var next = 0;
        for (var pc = 0; pc < instructions.Length;)
        {
            // Records for slots skipped (an lddw's second half) are printed with the next instruction, never lost.
            while (next < lineInfo.Count && lineInfo[next].InstructionIndex <= pc)
            {
                var line = lineInfo[next++];
                // clang's line-0 records (code with no single source line) have no text to show.
                if (line.SourceLine.Length == 0)
                    continue;
                text.Append("; ").Append(line.SourceLine.Trim()).Append(" [").Append(line.Location).Append("]\n");
            }
            var insn = Disassembler.Format(instructions, pc, out var slots);
            text.Append(pc.ToString(null, null).PadLeft(5)).Append(": ").Append(insn).Append('\n');
            pc += slots;
        }
        return text.ToString();
    }
}
