namespace XdpGate.Bpf.Verifier;

/// <summary>What verifying a program took, as `xdpgate prog verify` reports it; the log only when asked for.</summary>
public sealed record VerificationResult(
    VerificationLevel Level,
    int InstructionsProcessed,
    int PeakStates,
    int TotalStates,
    TimeSpan Elapsed,
    string Log)
{
    /// <summary>
    /// Per instruction: true when it is a load, store or atomic that every path reaching it accessed packet bytes within
    /// the proven range, stack bytes at a constant offset, or map value bytes in bounds (an atomic also aligned), so the
    /// JIT may leave out its run-time check.
    /// </summary>
    internal bool[] ProvenAccess { get; init; } = [];

    /// <summary>
    /// Per instruction: for a helper call, the index in the program's maps of the map every path passes it in r1,
    /// else -1 (<see cref="Findings.Map"/>). Empty when no call takes a map.
    /// </summary>
    internal int[] KnownMaps { get; init; } = [];

    /// <summary>The result for a program loaded without verification.</summary>
    public static VerificationResult NotVerified { get; } = new(VerificationLevel.None, 0, 0, 0, TimeSpan.Zero, "");
}
