using System.Text;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The verifier's words: refusal messages of the form <c>file.c:42: insn 17: r3 = *(u8 *)(r2 + 14): invalid access to
/// packet, off=14 size=1, R2=pkt(id=0,off=0,r=0)</c>, and (for -v) a path log of each instruction with the registers it reads.
/// </summary>
internal sealed class VerifierLog(bpf_insn[] insns, Func<int, BpfLineInfo?> lineAt, bool verbose)
{
    private readonly StringBuilder? text = verbose ? new StringBuilder() : null;

    public bool Verbose => text is not null;

    public string Text => text?.ToString() ?? "";

    public string Where(int pc)
    {
        var line = lineAt(pc);
        var prefix = line is null ? "" : line.Location + ": ";
        return $"{prefix}insn {pc}: {Disassembler.Format(insns, pc)}";
    }

    public string Refusal(int pc, string what, Reg[]? regs, params int[] shown)
    {
        var message = new StringBuilder(Where(pc)).Append(": ").Append(what);
        if (regs is not null)
        {
            foreach (var r in shown.Distinct())
            {
                if (r is >= 0 and < MAX_BPF_REG)
                    message.Append(", R").Append(r).Append('=').Append(regs[r]);
            }
        }
        return message.ToString();
    }

    public void Step(int pc, int depth, Reg[] regs)
    {
        if (text is null)
            return;
        text.Append(depth > 0 ? $"[frame {depth}] " : "").Append(pc).Append(": ").Append(Disassembler.Format(insns, pc));
        var sep = "    ; ";
        for (var r = 0; r < MAX_BPF_REG; r++)
        {
            if (regs[r].Kind == RegKind.NotInit || r == BPF_REG_FP)
                continue;
            text.Append(sep).Append('R').Append(r).Append('=').Append(regs[r]);
            sep = " ";
        }
        text.Append('\n');
    }

    public void Note(string line) => text?.Append(line).Append('\n');
}
