using XdpGate.Appliance.PcapFiles;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.ProgramTools;

/// <summary>The outcome for one replayed packet.</summary>
public sealed record ReplayedPacket(long Index, uint ReturnValue, byte[] DataOut, Fault Fault);

/// <summary>
/// Runs a program over every packet of a capture in order, with map state carried from packet to packet, and
/// writes the frames it would transmit (XDP_TX and XDP_REDIRECT) to an output capture.
/// </summary>
public static class PcapReplay
{
    public static async Task<IReadOnlyList<ReplayedPacket>> RunAsync(BpfVm vm, BpfProgram program, Stream input, string inputName,
        PcapWriter? transmitted, ExecutionEngine engine = ExecutionEngine.Interpreter, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(program);
        var results = new List<ReplayedPacket>();
        engine.Prepare(program);
        using var frame = new PacketBuffer();
        await foreach (var record in PcapReader.ReadAsync(input, inputName, cancellation).ConfigureAwait(false))
        {
            XdpLayout.CheckFrameLength(record.Data.Length, $"{inputName}: record {record.Index}");
            frame.Reset(record.Data);
            var verdict = engine.RunXdp(vm, program, ref frame.Context);
            results.Add(new ReplayedPacket(record.Index, (uint)verdict, frame.ToArrayWithMetadata(), vm.LastFault));
            if (verdict is xdp_action.XDP_TX or xdp_action.XDP_REDIRECT)
                transmitted?.Write(record.Timestamp, frame.Context.Packet);
        }
        return results;
    }
}
