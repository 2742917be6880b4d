using XdpGate.Bpf.Execution;

namespace XdpGate.Appliance.Dataplane;

/// <summary>
/// How the workers of a run work, beyond how many there are and where (the config's `workers`): one type, with one
/// default each, for runs from a config file or from flags, benchmarks and tests.
/// </summary>
public sealed record WorkerOptions
{
    public static WorkerOptions Default { get; } = new();

    public ExecutionEngine Engine { get; init; } = ExecutionEngine.Jit;

    /// <summary>
    /// What a worker does when its queues are idle. <see cref="IdleMode.Wait"/> by default: it sleeps in poll() until
    /// frames arrive, so an idle appliance costs no CPU and leaves the core to the kernel's own receive work (softirq,
    /// NAPI), which fills the AF_XDP and AF_PACKET rings in the first place; this is how xdpsock runs unless asked to
    /// busy-poll. <see cref="IdleMode.BusyPoll"/> (`--busy-poll`) spins instead, for the lowest latency on a core kept
    /// for the worker. In-memory queues (synthetic, pcap) are always ready, so they never wait either way.
    /// </summary>
    public IdleMode Idle { get; init; } = IdleMode.Wait;

    /// <summary>Frames taken from a queue per poll.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Pin each worker to its CPU; off, the scheduler places them.</summary>
    public bool Pin { get; init; } = true;
}
