using System.Diagnostics;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's do_check: a depth-first walk of every path through the program over abstract register and stack
/// state, one instruction at a time, with the other side of each undecided branch kept for later, and with state
/// pruning at prune points. One refusal ends it with a <see cref="VerifierException"/>.
/// </summary>
internal sealed partial class Exploration
{
    /// <summary>The kernel's BPF_MAX_VAR_OFF: pointer offsets beyond it are refused outright.</summary>
    private const long MaxVarOff = 1 << 29;

    private readonly BpfProgram program;
    private readonly bpf_insn[] insns;
    private readonly VerificationLevel level;
    private readonly ControlFlow flow;
    private readonly Liveness liveness;
    private readonly VerifierLog log;
    private readonly Stack<(VerifierState State, int Pc)> pending = new();
    private readonly PcStates?[] visited;
    private readonly int[] stackDepth;
    /// <summary>Per instruction: 0 no access seen yet, 1 every access proven in bounds, 2 some access left to a run-time check.</summary>
    private readonly byte[] accessProof;
    /// <summary>Conditional jumps whose direction some path decided from scalar values (shared by every pass).</summary>
    private readonly bool[] decides;
    /// <summary>Per subprogram: stack slots of its frame some callee reached through a pointer (shared by every pass).</summary>
    private readonly ulong[] callerSlots;
    /// <summary>Per helper call: slots of the calling frame it read (shared by every pass).</summary>
    private readonly ulong[] helperReads;
    /// <summary>Whether this pass found a jump decided that <see cref="liveness"/> did not yet treat as precise.</summary>
    private bool learned;
    /// <summary>Per subprogram: global functions some path called, and those already proven on their own.</summary>
    private readonly bool[] globalCalled, globalVerified;
    /// <summary>The global function being proven on its own, or null while the program itself is.</summary>
    private GlobalFunction? rootFunction;
    private VerifierState cur;
    private int pc;
    private int processed, jumps, ids, peakStates, totalStates;

    private Exploration(BpfProgram program, VerificationLevel level, bool verbose, bool[] decides, ulong[] callerSlots, ulong[] helperReads)
    {
        this.helperReads = helperReads;
        this.decides = decides;
        this.callerSlots = callerSlots;
        this.program = program;
        insns = [.. program.Instructions];
        this.level = level;
        log = new VerifierLog(insns, program.LineAt, verbose);
        flow = ControlFlow.Analyze(insns, (at, what, rule) => new VerifierException(rule, at, log.Refusal(at, what, null)));
        liveness = Liveness.Compute(insns, flow, decides, helperReads);
        visited = new PcStates?[insns.Length];
        stackDepth = new int[flow.SubprogramStarts.Length];
        accessProof = new byte[insns.Length];
        globalCalled = new bool[flow.SubprogramStarts.Length];
        globalVerified = new bool[flow.SubprogramStarts.Length];
        cur = new VerifierState();
        var main = new FrameState();
        main.Regs[1] = Reg.Pointer(RegKind.Ctx);
        main.Regs[BPF_REG_FP] = Reg.Pointer(RegKind.Stack);
        cur.Frames.Add(main);
    }

    private bool Strict => level == VerificationLevel.Strict;

    public static VerificationResult Verify(BpfProgram program, VerificationLevel level, bool verbose)
    {
        var clock = Stopwatch.StartNew();
        var decides = new bool[program.Instructions.Count];
        var callerSlots = new ulong[program.Instructions.Count];
        var helperReads = new ulong[program.Instructions.Count];
        Exploration exploration;
        // Scalars compared by a jump start imprecise, as in the kernel; a caller's stack slots count only where its code
        // reads them after the call, and a helper's stack buffer only as far as it was seen read. A pass that finds a jump
        // decided by values, a callee reaching into a caller's slots or a helper reading more, records it and the program
        // is explored again, until a pass learns nothing: only that pass pruned with precision and liveness covering
        // everything its paths did, so only its verdict counts.
        do
        {
            exploration = new Exploration(program, level, verbose, decides, callerSlots, helperReads);
            try
            {
                exploration.Run();
            }
            catch (VerifierException) when (exploration.learned)
            {
            }
            catch (VerifierException e) when (verbose)
            {
                throw new VerifierException(e.Rule, e.Pc, e.Message) { Log = exploration.log.Text };
            }
        }
        while (exploration.learned);
        return new VerificationResult(level, exploration.processed, exploration.peakStates, exploration.totalStates, clock.Elapsed, exploration.log.Text)
        {
            ProvenAccess = Array.ConvertAll(exploration.accessProof, proof => proof == 1),
            KnownMaps = exploration.KnownMaps(),
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
        if (++processed > BPF_COMPLEXITY_LIMIT_INSNS)
            throw Fail(VerifierRule.ComplexityLimit, $"BPF program is too large. Processed {processed} insn");
        if (flow.PrunePoints[pc] && Visit())
            return false;
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

    /// <summary>Whether the register is readable; refuses a read of one never written.</summary>
    private Reg Read(int r)
    {
        var reg = cur.Regs[r];
        if (reg.Kind == RegKind.NotInit)
            throw Fail(VerifierRule.UninitializedRegister, $"R{r} !read_ok", -1);
        return reg;
    }

    private void Set(int r, Reg value)
    {
        if (r == BPF_REG_FP)
            throw Fail(VerifierRule.FramePointerWrite, "frame pointer is read only");
        cur.Regs[r] = value;
    }

    private int NewId() => ++ids;

    /// <summary>The jump at pc went one way because of its scalar operands' values: they are precise from now on.</summary>
    private void Decided()
    {
        if (decides[pc])
            return;
        decides[pc] = true;
        learned = true;
    }

    private VerifierException Fail(VerifierRule rule, string what, params int[] regs) =>
        new(rule, pc, log.Refusal(pc, what, cur.Regs, regs));

    /// <summary>Keeps the current state as the other side of a branch, to explore from <paramref name="target"/> later.</summary>
    private void Push(VerifierState state, int target)
    {
        if (state.Parent is { } parent)
            parent.Branches++;
        pending.Push((state, target));
        peakStates = Math.Max(peakStates, totalStates + pending.Count);
    }

    /// <summary>A path ended: every checkpoint whose last open path it was is now fully explored.</summary>
    private void Finish(Checkpoint? checkpoint)
    {
        while (checkpoint is not null && --checkpoint.Branches == 0)
        {
            visited[checkpoint.Pc]!.Complete(checkpoint);
            checkpoint = checkpoint.Parent;
        }
    }

    /// <summary>
    /// The kernel's is_state_visited: prunes the path when a fully explored state at this instruction covers it;
    /// refuses it when it repeats a state still open on the path (an infinite loop); otherwise maybe keeps a checkpoint.
    /// </summary>
    private bool Visit()
    {
        var live = (ushort)(liveness.Live[pc] | (1 << BPF_REG_FP));
        var precise = liveness.Precise[pc];
        var slots = liveness.PreciseSlots[pc];
        var liveSlots = liveness.LiveSlots[pc];
        var states = visited[pc] ??= new PcStates();
        var hash = StatePruning.Hash(cur, live);
        var callbackCall = IsLoopCall(insns[pc]);
        for (var i = 0; i < states.Done.Count; i++)
        {
            var done = states.Done[i];
            if (StatePruning.Covers(done.State, cur, live, precise, slots, liveSlots, Suspended))
            {
                done.Hits++;
                log.Note($"{pc}: safe (pruned)");
                return true;
            }
            // Like the kernel, forget states that keep failing to prune: they only cost comparisons.
            if (++done.Misses > done.Hits * 3 + 3)
                states.Done.RemoveAt(i--);
        }
        if (callbackCall)
        {
            // A bpf_loop call is reached again after each callback run; like the kernel, states there converge rather
            // than loop. What the callback keeps changing in the stack is widened to unknown, so they do converge.
            foreach (var open in states.AllOpen())
            {
                if (StatePruning.Covers(open.State, cur, live, precise, slots, liveSlots, Suspended))
                    return true;
                StatePruning.WidenSpills(open.State, cur);
            }
        }
        else if (states.OpenWithHash(hash) is { } candidates)
        {
            foreach (var open in candidates)
            {
                if (StatePruning.Same(open.State, cur, live))
                    throw Fail(VerifierRule.InfiniteLoop, $"infinite loop detected at insn {pc}");
            }
        }
        var looping = states.OpenCount > 0;

        var jumpsSince = jumps - cur.JumpsAtCheckpoint;
        var insnsSince = processed - cur.InsnsAtCheckpoint;
        var add = callbackCall || (jumpsSince >= 2 && insnsSince >= 8) || (states.Done.Count == 0 && states.OpenCount == 0);
        if (looping && !callbackCall && jumpsSince < 20 && insnsSince < 100)
            add = false;
        if (add)
        {
            var checkpoint = new Checkpoint(cur.Clone(), pc, hash, cur.Parent);
            states.AddOpen(checkpoint);
            cur.Parent = checkpoint;
            cur.JumpsAtCheckpoint = jumps;
            cur.InsnsAtCheckpoint = processed;
            totalStates++;
            peakStates = Math.Max(peakStates, totalStates + pending.Count);
        }
        return false;
    }

    /// <summary>
    /// What of a suspended caller's frame matters, given the frame it called: the registers live where it resumes (after
    /// the call; at the bpf_loop call again for a callback), the slots live after the call, and the slots callees reached
    /// (which, found as they are reached, stand in for the static liveness at a bpf_loop call, where its callback may
    /// reach any slot).
    /// </summary>
    private (ushort Live, ulong Slots) Suspended(FrameState caller, FrameState callee)
    {
        var after = callee.CallSite + 1;
        // A call writes r0 and leaves r1-r5 unreadable; a bpf_loop call reads its arguments again.
        var live = callee.IsCallback ? liveness.Live[callee.CallSite] : liveness.Live[after] & ~0b11_1111;
        return ((ushort)(live | (1 << BPF_REG_FP)), liveness.LiveSlots[after] | callerSlots[caller.Subprogram]);
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
            total += (stackDepth[subprogram] + 15) & ~15;
            if (total > MAX_BPF_STACK)
            {
                pc = starts[subprogram];
                throw Fail(VerifierRule.StackTooLarge, $"combined stack size of {frames} calls is {total}. Too large");
            }
            var max = total;
            var end = flow.SubprogramEnd(subprogram, insns.Length);
            for (var at = starts[subprogram]; at < end; at++)
            {
                if (!InstructionValidator.IsPseudoCall(insns[at]) && !InstructionValidator.IsPseudoFunc(insns[at]))
                    continue;
                if (frames >= MAX_CALL_FRAMES)
                {
                    pc = at;
                    throw Fail(VerifierRule.CallDepth, $"the call stack of {frames + 1} frames is too deep");
                }
                max = Math.Max(max, Depth(flow.SubprogramOf(at + 1 + insns[at].imm), frames + 1, total));
            }
            return max;
        }
        Depth(0, 1, 0);
    }

    /// <summary>Checkpoints at one instruction: those with paths still open, and those fully explored.</summary>
    private sealed class PcStates
    {
        // Open checkpoints by hash: a long loop keeps many, and each visit looks only at those that may be the same state.
        private readonly Dictionary<int, List<Checkpoint>> open = [];
        public readonly List<Checkpoint> Done = [];

        public int OpenCount { get; private set; }

        public void AddOpen(Checkpoint checkpoint)
        {
            if (!open.TryGetValue(checkpoint.Hash, out var list))
                open.Add(checkpoint.Hash, list = []);
            list.Add(checkpoint);
            OpenCount++;
        }

        public List<Checkpoint>? OpenWithHash(int hash) => open.GetValueOrDefault(hash);

        public IEnumerable<Checkpoint> AllOpen() => open.Values.SelectMany(list => list).ToArray();

        public void Complete(Checkpoint checkpoint)
        {
            open[checkpoint.Hash].Remove(checkpoint);
            OpenCount--;
            Done.Add(checkpoint);
        }
    }

    /// <summary>A scalar for an lddw of a plain 64-bit value, or an ALU immediate: sign-extended to 64 bits, or zero-extended from 32.</summary>
    private static Reg Immediate(int imm, bool is64) => Reg.Const(is64 ? (ulong)(long)imm : (uint)imm);

    private static Scalar LoadedValue(int size, bool signed) => signed ? ScalarAlu.LoadSigned(size) : ScalarAlu.Load(size);
}
