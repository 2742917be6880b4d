using System.Runtime.CompilerServices;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;

namespace XdpGate.Appliance.Dataplane;

public sealed unsafe partial class Worker
{
    /// <summary>
    /// Takes a batch off one port's queue, runs the program on each frame and carries out its verdict, then gives the
    /// whole batch back to the queue (<see cref="IPortQueue.Complete"/>). Returns the frames received.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RunBatch(WorkerPort port, PortFrame[] batch)
    {
        var queue = port.Queue;
        var received = queue.Receive(batch);
        if (received == 0)
            return 0;
        var counters = port.Counters;
        long bytes = 0;
        for (var i = 0; i < received; i++)
        {
            ref var frame = ref batch[i];
            bytes += frame.Length;
            Process(port, ref frame, counters);
        }
        counters.CountReceived(received, bytes);
        var tally = default(TransmitTally);
        queue.Complete(batch.AsSpan(0, received), ref tally);
        counters.Count(tally);
        return received;
    }

    /// <summary>Runs the program on one received frame where it lies and carries out its verdict (or marks it for the queue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Process(WorkerPort port, ref PortFrame frame, QueueCounters counters)
    {
        // The batch is pinned, so the frame's xdp_buff stays put while the program runs on it.
        var verdict = entry.RunXdp((XdpContext*)Unsafe.AsPointer(ref frame.Xdp));
        switch (verdict)
        {
            case xdp_action.XDP_DROP:
                counters.CountVerdict(xdp_action.XDP_DROP);
                break;
            case xdp_action.XDP_TX:
                counters.CountVerdict(xdp_action.XDP_TX);
                frame.Fate = FrameFate.Transmit;
                break;
            case xdp_action.XDP_PASS:
                counters.CountVerdict(xdp_action.XDP_PASS);
                Pass(port, frame.Packet, counters);
                break;
            case xdp_action.XDP_REDIRECT:
                counters.CountVerdict(xdp_action.XDP_REDIRECT);
                Redirect(port, ref frame, counters);
                break;
            case xdp_action.XDP_ABORTED:
                counters.CountVerdict(xdp_action.XDP_ABORTED);
                // A clean run that returns 0 is the program's own XDP_ABORTED, counted under FaultReason.None.
                counters.CountAbort(vm.LastFault.Reason);
                break;
            default:
                // The kernel's bpf_warn_invalid_xdp_action: the frame is dropped.
                counters.CountError(DispatchError.InvalidVerdict);
                break;
        }
    }

    private static void Pass(WorkerPort port, ReadOnlySpan<byte> packet, QueueCounters counters)
    {
        if (port.Pass is null)
        {
            counters.CountError(DispatchError.NoPassTarget);
            return;
        }
        var status = port.Pass.TransmitCopy(packet);
        if (status != TxStatus.Sent)
            counters.CountError(status);
    }

    private void Redirect(WorkerPort port, ref PortFrame frame, QueueCounters counters)
    {
        var map = vm.RedirectMap;
        if (map is not null && (vm.RedirectFlags & MapFlags.BPF_F_BROADCAST) != 0)
        {
            Broadcast(port, ref frame, counters, map, (vm.RedirectFlags & MapFlags.BPF_F_EXCLUDE_INGRESS) != 0);
            return;
        }
        var ifindex = map is IDeviceMap devices ? devices.Ifindex(vm.RedirectKey) : vm.RedirectIfindex;
        var target = Find(ifindex);
        if (target is null)
            counters.CountError(DispatchError.NoSuchPort);
        else if (target == port)
            // A redirect back out of the ingress port is a TX with no copy.
            frame.Fate = FrameFate.Transmit;
        else
            CopyTo(target, frame.Packet, counters);
    }

    /// <summary>BPF_F_BROADCAST: a copy to every port in the devmap (but the ingress one with BPF_F_EXCLUDE_INGRESS).</summary>
    private void Broadcast(WorkerPort port, ref PortFrame frame, QueueCounters counters, BpfMap map, bool excludeIngress)
    {
        var devices = (IDeviceMap)map;
        uint key = 0, next = 0;
        var keySpan = new Span<byte>(&key, sizeof(uint));
        var nextSpan = new Span<byte>(&next, sizeof(uint));
        // Bounded by max_entries, so an entry being rewritten under the walk cannot make it loop.
        var status = map.GetNextKey(ReadOnlySpan<byte>.Empty, nextSpan);
        for (var visited = 0; status == 0 && visited < map.MaxEntries; visited++)
        {
            var ifindex = devices.Ifindex(next);
            if (ifindex != 0 && !(excludeIngress && ifindex == port.Ifindex))
            {
                var target = Find(ifindex);
                if (target is null)
                    counters.CountError(DispatchError.NoSuchPort);
                else
                    CopyTo(target, frame.Packet, counters);
            }
            key = next;
            status = map.GetNextKey(keySpan, nextSpan);
        }
    }

    private static void CopyTo(WorkerPort target, ReadOnlySpan<byte> packet, QueueCounters counters)
    {
        var status = target.Queue.TransmitCopy(packet);
        if (status == TxStatus.Sent)
            target.Counters.CountSent(packet.Length);
        else
            counters.CountError(status);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private WorkerPort? Find(uint ifindex)
    {
        // Runs have a handful of ports: a scan beats a hash lookup and allocates nothing.
        foreach (var candidate in ports)
        {
            if (candidate.Ifindex == ifindex && ifindex != 0)
                return candidate;
        }
        return null;
    }
}
