using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Static stand-ins for the kernel's register liveness and precision tracking, which let state pruning ignore what
/// cannot matter. <see cref="Live"/>: registers some path from an instruction may read before writing. <see cref="Precise"/>:
/// scalar registers whose value may reach something safety depends on (a conditional jump whose direction the values
/// decided, pointer arithmetic, a helper argument, a store, a return to a caller). A scalar that is live but not precise only has to be a scalar in both
/// states, as the kernel treats imprecise scalars; both sets over-approximate, which keeps pruning sound.
/// </summary>
internal sealed class Liveness
{
    private const ushort Args = 0b11_1110;        // r1-r5
    private const ushort Caller = 0b11_1111;      // r0-r5: written or clobbered by a call

    private Liveness(ushort[] live, ushort[] precise, ulong[] preciseSlots, ulong[] liveSlots)
    {
        LiveSlots = liveSlots;
        Live = live;
        Precise = precise;
        PreciseSlots = preciseSlots;
    }

    /// <summary>Stack slots (bit = slot index, MAX_BPF_STACK + offset over 8) whose spilled scalar may matter on entry to each instruction.</summary>
    public ulong[] PreciseSlots { get; }

    /// <summary>Stack slots some path may read before overwriting them whole, on entry to each instruction.</summary>
    public ulong[] LiveSlots { get; }

    /// <summary>Registers live on entry to each instruction (bit r).</summary>
    public ushort[] Live { get; }

    /// <summary>Scalar registers whose value matters on entry to each instruction (bit r).</summary>
    public ushort[] Precise { get; }

    /// <param name="decides">Conditional jumps whose direction some path decided from the values of its scalar operands.</param>
    /// <param name="helperReads">Per helper call: slots of the current frame exploration saw it read.</param>
    public static Liveness Compute(ReadOnlySpan<bpf_insn> insns, ControlFlow flow, bool[] decides, ulong[] helperReads)
    {
        var n = insns.Length;
        var pointers = MayHoldPointers(insns, flow);
        var stack = StackOffsets.Compute(insns, flow);
        var live = new ushort[n];
        var precise = new ushort[n];
        var slots = new ulong[n];
        var liveSlots = new ulong[n];
        // Backward data flow to a fixed point; programs are small and loops rare, so a few sweeps suffice.
        for (var changed = true; changed;)
        {
            changed = false;
            for (var pc = n - 1; pc >= 0; pc--)
            {
                if (flow.SecondHalf[pc])
                    continue;
                var insn = insns[pc];
                ushort liveOut = 0, preciseOut = 0;
                ulong slotsOut = 0, liveSlotsOut = 0;
                foreach (var next in Successors(insns, pc))
                {
                    liveSlotsOut |= liveSlots[next];
                    liveOut |= live[next];
                    preciseOut |= precise[next];
                    slotsOut |= slots[next];
                }
                var (l, p) = Transfer(insn, liveOut, preciseOut, flow.SubprogramOf(pc) != 0, pointers[pc], decides[pc]);
                var s = SlotTransfer(insn, slotsOut, preciseOut, stack, pc, helperReads[pc], ref p);
                var ls = LiveSlotTransfer(insn, liveSlotsOut, stack, pc, helperReads[pc]);
                if (l != live[pc] || p != precise[pc] || s != slots[pc] || ls != liveSlots[pc])
                {
                    liveSlots[pc] = ls;
                    live[pc] = l;
                    precise[pc] = p;
                    slots[pc] = s;
                    changed = true;
                }
            }
        }
        return new Liveness(live, precise, slots, liveSlots);
    }

    /// <summary>
    /// Registers that may hold a pointer on entry to each instruction (forward, over-approximated): the context and frame
    /// pointer at entry, arguments of subprograms, word and double-word loads (context fields, spilled registers), lddw of
    /// maps and functions, call results, and whatever is moved or added from those.
    /// </summary>
    private static ushort[] MayHoldPointers(ReadOnlySpan<bpf_insn> insns, ControlFlow flow)
    {
        var n = insns.Length;
        var into = new ushort[n];
        var reached = new bool[n];
        var work = new Stack<int>();
        foreach (var start in flow.SubprogramStarts)
        {
            into[start] = 0b111_1111_1110; // r1-r5 and r10 (only r1 and r10 in the main program, but over-approximating is sound)
            reached[start] = true;
            work.Push(start);
        }
        while (work.Count > 0)
        {
            var pc = work.Pop();
            var insn = insns[pc];
            var before = into[pc];
            var dst = (ushort)(1 << insn.dst_reg);
            var src = (ushort)(1 << insn.src_reg);
            var after = Class(insn.code) switch
            {
                BPF_ALU64 when Op(insn.code) == BPF_MOV && Source(insn.code) == BPF_X && insn.off == 0 =>
                    (ushort)((before & ~dst) | ((before & src) != 0 ? dst : 0)),
                BPF_ALU64 when Op(insn.code) is BPF_ADD or BPF_SUB && Source(insn.code) == BPF_X =>
                    (ushort)(before | ((before & src) != 0 ? dst : 0)),
                BPF_ALU64 when Op(insn.code) is BPF_ADD or BPF_SUB => before,
                BPF_ALU or BPF_ALU64 => (ushort)(before & ~dst),
                BPF_LDX => Size(insn.code) is BPF_W or BPF_DW ? (ushort)(before | dst) : (ushort)(before & ~dst),
                BPF_LD when InstructionValidator.IsWide(insn) => insn.src_reg == 0 ? (ushort)(before & ~dst) : (ushort)(before | dst),
                BPF_LD => (ushort)(before & ~Caller),
                BPF_STX when Mode(insn.code) == BPF_ATOMIC => (ushort)(before | 1 | src),
                BPF_JMP when Op(insn.code) == BPF_CALL => (ushort)((before & ~Caller) | 1),
                _ => before,
            };
            foreach (var next in Successors(insns, pc))
            {
                var merged = (ushort)(into[next] | after);
                if (!reached[next] || merged != into[next])
                {
                    reached[next] = true;
                    into[next] = merged;
                    work.Push(next);
                }
            }
        }
        return into;
    }

    /// <summary>
    /// Precision of stack slots, backward: a fill at a known frame offset into a precise register makes its slot precise,
    /// a spill at a known offset moves the slot's precision to the stored register, a helper makes what it may read
    /// precise; anything that may reach the stack another way (a pointer at an unknown offset, a subprogram) makes every
    /// slot precise.
    /// </summary>
    private static ulong SlotTransfer(bpf_insn insn, ulong slotsOut, ushort preciseOut, StackOffsets stack, int pc, ulong helperReads, ref ushort preciseIn)
    {
        var cls = Class(insn.code);
        var size = SizeInBytes(Size(insn.code));
        switch (cls)
        {
            case BPF_LDX:
                if (Mode(insn.code) == BPF_MEM && stack.At(pc, insn.src_reg, insn.off) is { } from && from % 8 == 0)
                {
                    var bit = 1UL << ((MAX_BPF_STACK + from) / 8);
                    return (preciseOut & (1 << insn.dst_reg)) != 0 ? slotsOut | bit : slotsOut;
                }
                return stack.MayPointHere(pc, insn.src_reg) ? ulong.MaxValue : slotsOut;
            case BPF_ST:
            case BPF_STX:
                if (Mode(insn.code) == BPF_MEM && stack.At(pc, insn.dst_reg, insn.off) is { } to)
                {
                    var bit = 1UL << ((MAX_BPF_STACK + to) / 8);
                    if (cls == BPF_STX && (slotsOut & bit) == 0 && !stack.MayPoint(pc, insn.src_reg))
                        preciseIn = (ushort)(preciseIn & ~(1 << insn.src_reg) | (preciseOut & (1 << insn.src_reg)));
                    return size == 8 && to % 8 == 0 ? slotsOut & ~bit : slotsOut;
                }
                return stack.MayPointHere(pc, insn.dst_reg) || (cls == BPF_STX && stack.MayPoint(pc, insn.src_reg)) ? ulong.MaxValue : slotsOut;
            case BPF_JMP when Op(insn.code) == BPF_CALL:
                return insn.src_reg == BPF_PSEUDO_CALL ? ulong.MaxValue : slotsOut | stack.HelperReads(pc, HelperPrototypes.Get(insn.imm), helperReads);
            case BPF_JMP when Op(insn.code) == BPF_EXIT:
                return 0;
            default:
                return slotsOut;
        }
    }

    private static ulong LiveSlotTransfer(bpf_insn insn, ulong liveOut, StackOffsets stack, int pc, ulong helperReads)
    {
        switch (Class(insn.code))
        {
            case BPF_LDX:
                if (stack.At(pc, insn.src_reg, insn.off) is { } from)
                    return liveOut | (1UL << ((MAX_BPF_STACK + from) / 8));
                return stack.MayPointHere(pc, insn.src_reg) ? ulong.MaxValue : liveOut;
            case BPF_ST:
            case BPF_STX:
                if (stack.At(pc, insn.dst_reg, insn.off) is { } to)
                {
                    var bit = 1UL << ((MAX_BPF_STACK + to) / 8);
                    if (Mode(insn.code) == BPF_ATOMIC)
                        return liveOut | bit;
                    return Size(insn.code) == BPF_DW && to % 8 == 0 ? liveOut & ~bit : liveOut;
                }
                return Mode(insn.code) == BPF_ATOMIC && stack.MayPointHere(pc, insn.dst_reg) ? ulong.MaxValue : liveOut;
            case BPF_JMP when Op(insn.code) == BPF_CALL:
                return insn.src_reg == BPF_PSEUDO_CALL ? ulong.MaxValue : liveOut | stack.HelperReads(pc, HelperPrototypes.Get(insn.imm), helperReads);
            case BPF_JMP when Op(insn.code) == BPF_EXIT:
                return 0;
            default:
                return liveOut;
        }
    }

    public static IEnumerable<int> Successors(ReadOnlySpan<bpf_insn> insns, int pc)
    {
        var insn = insns[pc];
        var cls = Class(insn.code);
        var op = Op(insn.code);
        var next = pc + (InstructionValidator.IsWide(insn) ? 2 : 1);
        if (cls is BPF_JMP or BPF_JMP32 && op == BPF_EXIT)
            return [];
        if (cls is BPF_JMP or BPF_JMP32 && op != BPF_CALL && InstructionValidator.JumpTarget(insn, pc) is { } target)
            return op == BPF_JA ? [target] : next < insns.Length ? [target, next] : [target];
        return next < insns.Length ? [next] : [];
    }

    private static ushort Bit(int r) => (ushort)(1 << r);

    private static (ushort Live, ushort Precise) Transfer(bpf_insn insn, ushort liveOut, ushort preciseOut, bool inSubprogram, ushort pointers, bool decides)
    {
        var dst = Bit(insn.dst_reg);
        var src = Bit(insn.src_reg);
        var cls = Class(insn.code);
        var op = Op(insn.code);
        var isX = Source(insn.code) == BPF_X;
        switch (cls)
        {
            case BPF_ALU:
            case BPF_ALU64:
            {
                var needDst = (preciseOut & dst) != 0;
                if (op == BPF_MOV)
                {
                    var l = (ushort)(liveOut & ~dst);
                    var p = (ushort)(preciseOut & ~dst);
                    return isX ? ((ushort)(l | src), needDst ? (ushort)(p | src) : p) : (l, p);
                }
                var liveIn = (ushort)(liveOut | dst | (isX ? src : 0));
                // An operand added to (or subtracted from) a pointer becomes part of the pointer's offset.
                if (isX && op is BPF_ADD or BPF_SUB && (pointers & (dst | src)) != 0)
                    return (liveIn, (ushort)(preciseOut | dst | src));
                return (liveIn, needDst && isX ? (ushort)(preciseOut | src) : preciseOut);
            }
            case BPF_LDX:
                return ((ushort)((liveOut & ~dst) | src), (ushort)((preciseOut & ~dst) | src));
            case BPF_ST:
                return ((ushort)(liveOut | dst), (ushort)(preciseOut | dst));
            case BPF_STX:
            {
                var uses = (ushort)(dst | src);
                if (Mode(insn.code) == BPF_ATOMIC && insn.imm == BPF_CMPXCHG)
                    uses |= 1;
                return ((ushort)(liveOut | uses), (ushort)(preciseOut | uses));
            }
            case BPF_LD:
                if (InstructionValidator.IsWide(insn))
                    return ((ushort)(liveOut & ~dst), (ushort)(preciseOut & ~dst));
                // LD_ABS / LD_IND: read the context in r6 (and src), write r0, clobber r1-r5.
                var ldUses = (ushort)(Bit(6) | (Mode(insn.code) == BPF_IND ? src : 0));
                return ((ushort)((liveOut & ~Caller) | ldUses), (ushort)((preciseOut & ~Caller) | ldUses));
            default:
                if (op == BPF_EXIT)
                    return (1, inSubprogram ? (ushort)1 : (ushort)0);
                if (op == BPF_CALL)
                {
                    var uses = insn.src_reg == BPF_PSEUDO_CALL ? Args : ArgsOf(insn.imm);
                    return ((ushort)((liveOut & ~Caller) | uses), (ushort)((preciseOut & ~Caller) | uses));
                }
                if (op == BPF_JA)
                    return (liveOut, preciseOut);
                var jumpUses = (ushort)(dst | (isX ? src : 0));
                // Like the kernel's precision marking: a jump's operands matter when their values decided its direction;
                // and a bound learned from comparing two registers needs both precise if either is.
                var jumpPrecise = decides || (isX && (preciseOut & jumpUses) != 0);
                return ((ushort)(liveOut | jumpUses), jumpPrecise ? (ushort)(preciseOut | jumpUses) : preciseOut);
        }
    }

    private static ushort ArgsOf(int helper)
    {
        var count = HelperPrototypes.Get(helper)?.Args.Length ?? 5;
        return (ushort)(((1 << count) - 1) << 1);
    }
}
