using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Benchmarks;

/// <summary>The engine's side of a kernel comparison: as BPF_PROG_TEST_RUN with repeat, each run starts from the same frame.</summary>
internal static class RepeatedRuns
{
    /// <summary>Runs <paramref name="entry"/> <paramref name="runs"/> times, each on a fresh copy of <paramref name="pristine"/>; returns the last verdict.</summary>
    public static uint RunXdp(ProgramEntry entry, in XdpContext pristine, int runs)
    {
        var verdict = xdp_action.XDP_ABORTED;
        for (var i = 0; i < runs; i++)
        {
            var context = pristine;
            verdict = entry.RunXdp(ref context);
        }
        return (uint)verdict;
    }
}
