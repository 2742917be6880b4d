using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.ProgramTools;

/// <summary>What one BPF_PROG_TEST_RUN-style run gives: the return value, the average time, and the frame after.</summary>
public sealed record TestRunResult(uint ReturnValue, double AverageNanoseconds, byte[] DataOut, Fault Fault);

/// <summary>
/// The user-space BPF_PROG_TEST_RUN: runs an XDP program on a packet <c>repeat</c> times on the same frame, as the
/// kernel does (a program that moves the head moves it again on every repetition), and reports data_out from
/// data_meta to data_end.
/// </summary>
public static class TestRun
{
    /// <summary>
    /// How long the runtime must compile nothing before warm code counts as settled: several times its tiering
    /// delay (100 ms), after which methods called often go from tier 0 to instrumented and then optimized code.
    /// </summary>
    private static readonly TimeSpan Settled = TimeSpan.FromMilliseconds(500);

    /// <summary>Ends a warm-up that never settles, as when other threads of the process keep compiling.</summary>
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan BatchTime = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Runs <paramref name="program"/> and times the runs. With <paramref name="warmUp"/>, the same program loaded a
    /// second time over maps of its own, the timing is of warm code, as the kernel times a program JIT-compiled at
    /// load: the twin first runs the same way until the runtime has finished tiering up the code both share (the
    /// run setup, helpers, maps, the interpreter), and the measured runs see maps no warm-up run touched.
    /// </summary>
    public static TestRunResult Run(BpfVm vm, BpfProgram program, ReadOnlySpan<byte> packet, int repeat = 1,
        ExecutionEngine engine = ExecutionEngine.Interpreter, BpfProgram? warmUp = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        XdpLayout.CheckFrameLength(packet.Length, "the packet");
        if (ReferenceEquals(warmUp, program))
            throw new ArgumentException("the warm-up needs a second load of the program: runs of the measured one would change its maps", nameof(warmUp));
        using var frame = new PacketBuffer();
        frame.Reset(packet);
        engine.Prepare(program);
        if (warmUp is not null)
            WarmUp(warmUp, packet, engine);
        var clock = Stopwatch.StartNew();
        var (verdict, fault) = Runs(vm, program, ref frame.Context, repeat, engine);
        clock.Stop();
        return new TestRunResult((uint)verdict, clock.Elapsed.TotalNanoseconds / repeat, frame.ToArrayWithMetadata(), fault);
    }

    /// <summary>
    /// The timed loop, and the warm-up's. A long measured loop would run in whatever tier its first call found
    /// (tier 0, then on-stack replacement), so it is compiled optimized from the start instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (xdp_action Verdict, Fault Fault) Runs(BpfVm vm, BpfProgram program, ref XdpContext context, int repeat,
        ExecutionEngine engine)
    {
        var verdict = xdp_action.XDP_ABORTED;
        var fault = default(Fault);
        for (var i = 0; i < repeat; i++)
        {
            verdict = engine.RunXdp(vm, program, ref context);
            if (vm.LastFault.Reason != FaultReason.None)
                fault = vm.LastFault;
        }
        return (verdict, fault);
    }

    private static void WarmUp(BpfProgram twin, ReadOnlySpan<byte> packet, ExecutionEngine engine)
    {
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(packet);
        engine.Prepare(twin);
        var clock = Stopwatch.StartNew();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = TimeSpan.Zero;
        // Batches grow to about 10 ms, so a slow program cannot overshoot the limit by much.
        var batch = 1;
        while (clock.Elapsed - quietSince < Settled && clock.Elapsed < WarmUpLimit)
        {
            var start = clock.Elapsed;
            Runs(vm, twin, ref frame.Context, batch, engine);
            if (clock.Elapsed - start < BatchTime)
                batch = Math.Min(batch * 2, 1 << 20);
            // Background tier-up compiles count too, so a count that stays put for a while means the code is final.
            var count = JitInfo.GetCompiledMethodCount();
            if (count != compiled)
            {
                compiled = count;
                quietSince = clock.Elapsed;
            }
        }
    }
}
