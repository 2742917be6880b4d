using System.Diagnostics;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Checks;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's do_check: a depth-first walk of every path through the program over abstract register and stack
/// state, one instruction at a time, with the other side of each undecided branch kept for later, and with state
/// pruning at prune points. Each kind of instruction has its step in a partial file: the checks of the kernel's rules
/// on the state before it (Checks/, where every refusal is made, none of them changing anything), then what the checks
/// and the instruction depended on learned (<see cref="Learning"/>), then its effect on the state (with Transfer/).
/// One refusal ends the walk with a <see cref="VerifierException"/>.
/// </summary>
internal sealed partial class Exploration
{
    private readonly BpfProgram program;
    private readonly bpf_insn[] insns;
    private readonly VerificationLevel level;
    private readonly ControlFlow flow;
    private readonly Learning learning;
    private readonly VerifierLog log;
    private readonly Stack<(VerifierState State, int Pc)> pending = new();
    private readonly PcStates?[] visited;
    private readonly Findings findings;
    /// <summary>Per subprogram: global functions some path called, and those already proven on their own.</summary>
    private readonly bool[] globalCalled, globalVerified;
    /// <summary>The global function being proven on its own, or null while the program itself is.</summary>
    private GlobalFunction? rootFunction;
    private VerifierState cur;
    private int pc;
    private Counts counts;
    private int ids;

    private Exploration(BpfProgram program, VerificationLevel level, bool verbose)
    {
        this.program = program;
        insns = [.. program.Instructions];
        this.level = level;
        log = new VerifierLog(insns, program.LineAt, verbose);
        cur = new VerifierState();
        var main = new FrameState();
        main.Regs[1] = Reg.Pointer(RegKind.Ctx);
        main.Regs[BPF_REG_FP] = Reg.Pointer(RegKind.Stack);
        cur.Frames.Add(main);
        flow = ControlFlow.Analyze(insns, (at, what, rule) => Site(at).Refuse(rule, what));
        learning = new Learning(insns);
        visited = new PcStates?[insns.Length];
        findings = new Findings(program, insns.Length, flow.SubprogramStarts.Length);
        globalCalled = new bool[flow.SubprogramStarts.Length];
        globalVerified = new bool[flow.SubprogramStarts.Length];
    }

    private bool Strict => level == VerificationLevel.Strict;

    /// <summary>The instruction at pc and the state as it is now, for the checks.</summary>
    private CheckSite At => Site(pc);

    private CheckSite Site(int at) => new(log, at, cur, Strict);

    public static VerificationResult Verify(BpfProgram program, VerificationLevel level, bool verbose)
    {
        var clock = Stopwatch.StartNew();
        var exploration = new Exploration(program, level, verbose);
        try
        {
            exploration.Run();
        }
        catch (VerifierException e) when (verbose)
        {
            throw new VerifierException(e.Rule, e.Pc, e.Message) { Log = exploration.log.Text };
        }
        return new VerificationResult(level, exploration.counts.Processed, exploration.counts.PeakStates, exploration.counts.TotalStates, clock.Elapsed, exploration.log.Text)
        {
            ProvenAccess = exploration.findings.ProvenAccess(),
            KnownMaps = exploration.findings.KnownMaps(),
        };
    }

    private void Run()
    {
        Explore();
        VerifyCalledGlobals();
        CheckStackDepth();
    }

    /// <summary>Every path from the current state, which starts the program or a global function.</summary>
    private void Explore()
    {
        while (true)
        {
            if (!Step())
            {
                Finish(cur.Parent);
                if (!pending.TryPop(out var next))
                    break;
                (cur, pc) = next;
                log.Note($"from branch to {pc}:");
            }
        }
    }

    /// <summary>Runs the instruction at pc; false when the path ended (exit from the main program, or pruned).</summary>
    private bool Step()
    {
        if (++counts.Processed > BPF_COMPLEXITY_LIMIT_INSNS)
            throw At.Refuse(VerifierRule.ComplexityLimit, $"BPF program is too large. Processed {counts.Processed} insn");
        if (flow.PrunePoints[pc] && Visit())
            return false;
        cur.History = new HistoryEntry(cur.History, pc, cur.Frames.Count - 1);
        var insn = insns[pc];
        log.Step(pc, cur.Frames.Count - 1, cur.Regs);
        switch (Class(insn.code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                Alu(insn);
                pc++;
                return true;
            case BPF_LDX:
                Load(insn);
                pc++;
                return true;
            case BPF_ST:
            case BPF_STX:
                Store(insn);
                pc++;
                return true;
            case BPF_LD:
                LoadImmediate(insn);
                return true;
            default:
                return Jump(insn);
        }
    }

    /// <summary>A register the instruction reads: it must have been written, and the read is learned (liveness).</summary>
    private Reg Read(int r)
    {
        RegisterChecks.Readable(At, r);
        LearnRead((ushort)(1 << r));
        return cur.Regs[r];
    }

    /// <summary>Registers <paramref name="regs"/> of the current frame are read on this path (liveness).</summary>
    private void LearnRead(ushort regs) => Learning.MarkRead(cur, cur.Frames.Count - 1, regs, 0);

    /// <summary>An instruction's destination register.</summary>
    private void Set(int r, Reg value)
    {
        RegisterChecks.Writable(At, r);
        Write(r, value);
    }

    /// <summary>Overwrites a register of the current frame: reads after this do not reach its earlier value.</summary>
    private void Write(int r, Reg value)
    {
        cur.Regs[r] = value;
        cur.Current.Writes.Regs |= (ushort)(1 << r);
    }

    private int NewId() => ++ids;

    /// <summary>What the instruction at pc does depends on these registers' values: they are precise on the path up to here.</summary>
    private void NeedPrecise(params int[] regs)
    {
        ushort mask = 0;
        foreach (var r in regs)
        {
            if (r >= 0 && cur.Regs[r].Kind == RegKind.Scalar)
                mask |= (ushort)(1 << r);
        }
        if (mask != 0)
            learning.MarkPrecise(cur, mask);
    }

    /// <summary>Keeps the current state as the other side of a branch, to explore from <paramref name="target"/> later.</summary>
    private void Push(VerifierState state, int target)
    {
        if (state.Parent is { } parent)
            parent.Branches++;
        pending.Push((state, target));
        counts.KeepPeak(pending.Count);
    }

    /// <summary>A path ended: every checkpoint whose last open path it was is now fully explored.</summary>
    private void Finish(Checkpoint? checkpoint)
    {
        while (checkpoint is not null && --checkpoint.Branches == 0)
        {
            visited[checkpoint.Pc]!.Complete(checkpoint);
            if (checkpoint.IsLoopCall && checkpoint.LoopEntry is null)
                learning.Settle(checkpoint);
            checkpoint = checkpoint.Parent;
        }
    }

    /// <summary>
    /// The kernel's is_state_visited: prunes the path when a fully explored state at this instruction covers it;
    /// refuses it when it repeats a state still open on the path (an infinite loop); otherwise maybe keeps a checkpoint.
    /// </summary>
    private bool Visit()
    {
        var states = visited[pc] ??= new PcStates();
        var hash = StatePruning.Hash(cur);
        var callbackCall = IsLoopCall(insns[pc]);
        for (var i = 0; i < states.Done.Count; i++)
        {
            var done = states.Done[i];
            if (StatePruning.Covers(done, cur))
            {
                done.Hits++;
                Pruned(done);
                return true;
            }
            // Like the kernel, forget states that keep failing to prune: they only cost comparisons.
            if (++done.Misses > done.Hits * 3 + 3)
                states.Done.RemoveAt(i--);
        }
        if (callbackCall)
        {
            // A bpf_loop call is reached again after each callback run; like the kernel, states there converge rather
            // than loop, compared whole. What the callback keeps changing in the stack is widened to unknown, so they do.
            foreach (var open in states.AllOpen())
            {
                if (StatePruning.Covers(open, cur))
                {
                    Pruned(open);
                    return true;
                }
                StatePruning.WidenSpills(open.State, cur);
            }
        }
        else if (states.OpenWithHash(hash) is { } candidates)
        {
            foreach (var open in candidates)
            {
                if (StatePruning.Same(open.State, cur))
                    throw At.Refuse(VerifierRule.InfiniteLoop, $"infinite loop detected at insn {pc}");
            }
        }
        var looping = states.OpenCount > 0;

        var jumpsSince = counts.Jumps - cur.JumpsAtCheckpoint;
        var insnsSince = counts.Processed - cur.InsnsAtCheckpoint;
        var add = callbackCall || (jumpsSince >= 2 && insnsSince >= 8) || (states.Done.Count == 0 && states.OpenCount == 0);
        if (looping && !callbackCall && jumpsSince < 20 && insnsSince < 100)
            add = false;
        if (add)
        {
            var checkpoint = new Checkpoint(cur.Clone(), pc, hash, callbackCall);
            states.AddOpen(checkpoint);
            cur.Parent = checkpoint;
            cur.History = null;
            foreach (var frame in cur.Frames)
                frame.Writes = default;
            cur.JumpsAtCheckpoint = counts.Jumps;
            cur.InsnsAtCheckpoint = counts.Processed;
            counts.TotalStates++;
            counts.KeepPeak(pending.Count);
        }
        return false;
    }

    /// <summary>The path is pruned by <paramref name="by"/>: it learns what every path from there read and needed precise.</summary>
    private void Pruned(Checkpoint by)
    {
        log.Note($"{pc}: safe (pruned)");
        learning.Propagate(by, cur);
        Learning.KeepLoopEdge(by, cur);
    }

    private static bool IsLoopCall(bpf_insn insn) =>
        insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 && insn.imm == (int)Helpers.bpf_func_id.BPF_FUNC_loop;

    /// <summary>The kernel's check_max_stack_depth: the frames of every chain of calls together fit in 512 bytes.</summary>
    private void CheckStackDepth()
    {
        var starts = flow.SubprogramStarts;
        int Depth(int subprogram, int frames, int total)
        {
            // The kernel rounds each frame up to 16 bytes when the program is JIT-compiled, as it is on x86-64.
            total += (findings.StackDepth(subprogram) + 15) & ~15;
            if (total > MAX_BPF_STACK)
                throw Site(starts[subprogram]).Refuse(VerifierRule.StackTooLarge, $"combined stack size of {frames} calls is {total}. Too large");
            var max = total;
            var end = flow.SubprogramEnd(subprogram, insns.Length);
            for (var at = starts[subprogram]; at < end; at++)
            {
                if (!InstructionValidator.IsPseudoCall(insns[at]) && !InstructionValidator.IsPseudoFunc(insns[at]))
                    continue;
                if (frames >= MAX_CALL_FRAMES)
                    throw Site(at).Refuse(VerifierRule.CallDepth, $"the call stack of {frames + 1} frames is too deep");
                max = Math.Max(max, Depth(flow.SubprogramOf(at + 1 + insns[at].imm), frames + 1, total));
            }
            return max;
        }
        Depth(0, 1, 0);
    }

    /// <summary>A scalar for an lddw of a plain 64-bit value, or an ALU immediate: sign-extended to 64 bits, or zero-extended from 32.</summary>
    private static Reg Immediate(int imm, bool is64) => Reg.Const(is64 ? (ulong)(long)imm : (uint)imm);

    /// <summary>
    /// What the walk counts: instructions processed (against the complexity limit) and jumps (with them, the kernel's
    /// heuristic for when to keep a checkpoint), and states kept.
    /// </summary>
    private struct Counts
    {
        public int Processed, Jumps, TotalStates, PeakStates;

        /// <summary>Checkpoints kept and branches waiting: the most there were at once.</summary>
        public void KeepPeak(int pending) => PeakStates = Math.Max(PeakStates, TotalStates + pending);
    }
}
