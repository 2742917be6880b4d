namespace XdpGate.Linux.Bpf;

/// <summary>What BPF_PROG_TEST_RUN reported: r0 (retval), the mean run time in ns, and the output packet and context.</summary>
/// <param name="DataSizeOut">The length of the output packet as the kernel reported it (DataOut holds what fitted).</param>
public sealed record BpfTestRunResult(uint Retval, uint Duration, byte[] DataOut, uint DataSizeOut, byte[] CtxOut);
