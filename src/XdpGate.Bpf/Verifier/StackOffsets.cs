using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Forward, over-approximated: for each instruction and register, whether the register may point into the stack of the
/// current frame and, when every path agrees, at which offset from the frame pointer. <see cref="Liveness"/> uses the
/// offsets to tell which stack slots an access through a copy of r10, or a helper given a stack buffer, can touch.
/// </summary>
internal sealed class StackOffsets
{
    /// <summary>Not a stack pointer on any path.</summary>
    private const int None = int.MinValue;
    /// <summary>May point into the current frame at an offset not known statically.</summary>
    private const int Unknown = int.MaxValue;
    /// <summary>May point into a caller's frame only (a subprogram's argument, a bpf_loop context), never the current one.</summary>
    private const int Outer = int.MaxValue - 1;
    private const int Regs = MAX_BPF_REG;

    private readonly int[] offsets;

    private StackOffsets(int[] offsets) => this.offsets = offsets;

    /// <summary>Whether <paramref name="reg"/> may point into any stack frame on entry to <paramref name="pc"/>.</summary>
    public bool MayPoint(int pc, int reg) => offsets[pc * Regs + reg] != None;

    /// <summary>Whether <paramref name="reg"/> may point into the current frame on entry to <paramref name="pc"/>.</summary>
    public bool MayPointHere(int pc, int reg) => offsets[pc * Regs + reg] is not (None or Outer);

    /// <summary>
    /// The frame offset <c>reg + off</c> accesses when <paramref name="reg"/> points into the current frame at the same
    /// known offset on every path and the access lies inside the frame; null otherwise.
    /// </summary>
    public int? At(int pc, int reg, int off)
    {
        var known = offsets[pc * Regs + reg];
        if (known is None or Unknown or Outer)
            return null;
        var at = (long)known + off;
        return at is < 0 and >= -MAX_BPF_STACK ? (int)at : null;
    }

    /// <summary>
    /// Slots of the current frame (bit = slot index) a helper call at <paramref name="pc"/> may read through its
    /// arguments: those <paramref name="reached"/> says exploration saw it read; every slot for a helper that runs a
    /// callback (which may read around the pointer it is given) or is unknown, when given a pointer into this frame.
    /// </summary>
    public ulong HelperReads(int pc, HelperPrototype? prototype, ulong reached)
    {
        if (prototype is not null && Array.IndexOf(prototype.Args, ArgKind.Func) < 0)
            return reached;
        for (var r = 1; r <= 5; r++)
        {
            if (MayPointHere(pc, r))
                return ulong.MaxValue;
        }
        return 0;
    }

    public static StackOffsets Compute(ReadOnlySpan<bpf_insn> insns, ControlFlow flow)
    {
        // Whether a subprogram stores pointers into its own frame somewhere, so that loading a double word from a stack
        // may give one back; found by iterating, since the stores are found by the analysis itself.
        var escapes = new bool[flow.SubprogramStarts.Length];
        while (true)
        {
            var into = Propagate(insns, flow, escapes);
            var more = false;
            for (var pc = 0; pc < insns.Length; pc++)
            {
                var insn = insns[pc];
                var sub = flow.SubprogramOf(pc);
                if (Class(insn.code) == BPF_STX && !escapes[sub] && into[pc * Regs + insn.src_reg] is not (None or Outer))
                    more = escapes[sub] = true;
            }
            if (!more)
                return new StackOffsets(into);
        }
    }

    private static int[] Propagate(ReadOnlySpan<bpf_insn> insns, ControlFlow flow, bool[] escapes)
    {
        var n = insns.Length;
        var into = new int[n * Regs];
        Array.Fill(into, None);
        var reached = new bool[n];
        var work = new Stack<int>();
        foreach (var start in flow.SubprogramStarts)
        {
            if (start != 0)
                Array.Fill(into, Outer, start * Regs + 1, 5);
            into[start * Regs + BPF_REG_FP] = 0;
            reached[start] = true;
            work.Push(start);
        }
        var after = new int[Regs];
        while (work.Count > 0)
        {
            var pc = work.Pop();
            Array.Copy(into, pc * Regs, after, 0, Regs);
            Transfer(insns[pc], after, escapes[flow.SubprogramOf(pc)]);
            foreach (var next in Liveness.Successors(insns, pc))
            {
                var changed = !reached[next];
                reached[next] = true;
                for (var r = 0; r < Regs; r++)
                {
                    ref var slot = ref into[next * Regs + r];
                    var merged = Join(slot, after[r]);
                    changed |= merged != slot;
                    slot = merged;
                }
                if (changed)
                    work.Push(next);
            }
        }
        return into;
    }

    private static int Join(int a, int b) => a == None ? b : b == None ? a : a == b ? a : Unknown;

    private static bool IsHere(int value) => value is not (None or Outer);

    private static void Transfer(bpf_insn insn, int[] regs, bool escapes)
    {
        int d = insn.dst_reg, s = insn.src_reg;
        var isX = Source(insn.code) == BPF_X;
        switch (Class(insn.code))
        {
            case BPF_ALU64 when Op(insn.code) == BPF_MOV && isX && insn.off == 0:
                regs[d] = regs[s];
                break;
            case BPF_ALU64 when Op(insn.code) is BPF_ADD or BPF_SUB && !isX:
                if (regs[d] is not (None or Unknown or Outer))
                {
                    var moved = (long)regs[d] + (Op(insn.code) == BPF_ADD ? insn.imm : -(long)insn.imm);
                    regs[d] = moved is > -(1 << 29) and < 1 << 29 ? (int)moved : Unknown;
                }
                break;
            case BPF_ALU64 when Op(insn.code) is BPF_ADD or BPF_SUB:
                regs[d] = IsHere(regs[d]) || IsHere(regs[s]) ? Unknown : regs[d] == Outer || regs[s] == Outer ? Outer : None;
                break;
            case BPF_ALU:
            case BPF_ALU64:
                regs[d] = None;
                break;
            case BPF_LDX:
                // A fill of a spilled stack pointer: the current frame's only where the subprogram stores such pointers.
                regs[d] = Size(insn.code) != BPF_DW || regs[s] == None ? None : escapes ? Unknown : Outer;
                break;
            case BPF_LD:
                if (InstructionValidator.IsWide(insn))
                    regs[d] = None;
                else
                    Array.Fill(regs, None, 0, 6);
                break;
            case BPF_STX when Mode(insn.code) == BPF_ATOMIC:
                regs[0] = None;
                regs[s] = None;
                break;
            case BPF_JMP when Op(insn.code) == BPF_CALL:
                Array.Fill(regs, None, 0, 6);
                // A subprogram may return a pointer into its caller's frame.
                if (insn.src_reg == BPF_PSEUDO_CALL)
                    regs[0] = Unknown;
                break;
        }
    }
}
