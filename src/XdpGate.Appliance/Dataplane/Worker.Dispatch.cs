using System.Runtime.CompilerServices;
using XdpGate.Appliance.Ports;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Appliance.Dataplane;

public sealed unsafe partial class Worker
{
    /// <summary>Runs the program on one received frame and carries out its verdict; the frame is given back exactly once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Process(ProgramPlan plan, WorkerPort port, ref PortFrame frame)
    {
        var counters = port.Counters;
        counters.CountReceived(frame.Length);
        var context = frame.ToContext(port.Ifindex, port.QueueIndex);
        var verdict = plan.Jitted is { } jitted ? jitted.RunXdp(vm, ref context) : vm.RunXdp(plan.Program, ref context);
        frame.Update(context);
        switch (verdict)
        {
            case xdp_action.XDP_DROP:
                counters.CountVerdict(xdp_action.XDP_DROP);
                port.Queue.Release(frame);
                break;
            case xdp_action.XDP_TX:
                counters.CountVerdict(xdp_action.XDP_TX);
                TransmitInPlace(port, ref frame, counters);
                break;
            case xdp_action.XDP_PASS:
                counters.CountVerdict(xdp_action.XDP_PASS);
                Pass(port, ref frame, counters);
                break;
            case xdp_action.XDP_REDIRECT:
                counters.CountVerdict(xdp_action.XDP_REDIRECT);
                Redirect(port, ref frame, counters);
                break;
            case xdp_action.XDP_ABORTED:
                counters.CountVerdict(xdp_action.XDP_ABORTED);
                // A clean run that returns 0 is the program's own XDP_ABORTED, counted under FaultReason.None.
                counters.CountAbort(vm.LastFault.Reason);
                port.Queue.Release(frame);
                break;
            default:
                // The kernel's bpf_warn_invalid_xdp_action: the frame is dropped.
                counters.CountError(DispatchError.InvalidVerdict);
                port.Queue.Release(frame);
                break;
        }
    }

    private static void TransmitInPlace(WorkerPort port, ref PortFrame frame, QueueCounters counters)
    {
        var length = frame.Length;
        var status = port.Queue.Transmit(frame);
        if (status == TxStatus.Sent)
        {
            counters.CountSent(length);
            return;
        }
        counters.CountError(status);
        port.Queue.Release(frame);
    }

    private static void Pass(WorkerPort port, ref PortFrame frame, QueueCounters counters)
    {
        if (port.Pass is null)
            counters.CountError(DispatchError.NoPassTarget);
        else
        {
            var status = port.Pass.TransmitCopy(frame.Packet);
            if (status != TxStatus.Sent)
                counters.CountError(status);
        }
        port.Queue.Release(frame);
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
        {
            counters.CountError(DispatchError.NoSuchPort);
            port.Queue.Release(frame);
            return;
        }
        if (target == port)
        {
            // A redirect back out of the ingress port is a TX with no copy.
            TransmitInPlace(port, ref frame, counters);
            return;
        }
        CopyTo(target, frame.Packet, counters);
        port.Queue.Release(frame);
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
        port.Queue.Release(frame);
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
