using System.Diagnostics;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Run;

/// <summary>What one BPF_PROG_TEST_RUN-style run gives: the return value, the average time, and the frame after.</summary>
public sealed record TestRunResult(uint ReturnValue, double AverageNanoseconds, byte[] DataOut, Fault Fault);

/// <summary>
/// The user-space BPF_PROG_TEST_RUN: runs an XDP program on a packet <c>repeat</c> times on the same frame, as the
/// kernel does (a program that moves the head moves it again on every repetition), and reports data_out from
/// data_meta to data_end.
/// </summary>
public static class TestRun
{
    public static TestRunResult Run(BpfVm vm, BpfProgram program, ReadOnlySpan<byte> packet, int repeat = 1,
        ExecutionEngine engine = ExecutionEngine.Interpreter)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        CheckFrameLength(packet.Length, "the packet");
        using var frame = new PacketBuffer();
        frame.Reset(packet);
        engine.Prepare(program);
        var verdict = xdp_action.XDP_ABORTED;
        var fault = default(Fault);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < repeat; i++)
        {
            verdict = engine.RunXdp(vm, program, ref frame.Context);
            if (vm.LastFault.Reason != FaultReason.None)
                fault = vm.LastFault;
        }
        clock.Stop();
        return new TestRunResult((uint)verdict, clock.Elapsed.TotalNanoseconds / repeat, frame.ToArrayWithMetadata(), fault);
    }

    /// <summary>
    /// The kernel's XDP test run takes frames of an Ethernet header up to what one linear frame holds (longer ones
    /// become multi-buffer fragments there, which frames here do not support yet).
    /// </summary>
    public static void CheckFrameLength(int length, string what)
    {
        if (length < XdpLayout.ETH_HLEN)
            throw new ArgumentException($"{what} is {length} bytes; an XDP frame needs at least an Ethernet header ({XdpLayout.ETH_HLEN} bytes)");
        if (length > XdpLayout.MaxPacketSize)
            throw new ArgumentException($"{what} is {length} bytes; a frame holds at most {XdpLayout.MaxPacketSize} (multi-buffer frames are not supported)");
    }
}
