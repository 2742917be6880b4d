namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// What a check is given: the instruction it is about, the path's state before that instruction changes it, and
/// whether the kernel's unprivileged rules apply. Every refusal is made here, so each names the rule, the instruction
/// (C line and disassembly) and the registers it is about in the same words, whichever check refuses.
/// </summary>
internal readonly struct CheckSite(VerifierLog log, int pc, VerifierState state, bool strict)
{
    public int Pc { get; } = pc;

    public VerifierState State { get; } = state;

    /// <summary>No pointer leaks, no reads of stack never written, no pointer comparisons but packet bounds.</summary>
    public bool Strict { get; } = strict;

    /// <summary>The registers of the frame the instruction runs in.</summary>
    public Reg[] Regs => State.Regs;

    /// <summary>The refusal, showing registers <paramref name="shown"/> as they are now.</summary>
    public VerifierException Refuse(VerifierRule rule, string what, params int[] shown) =>
        new(rule, Pc, log.Refusal(Pc, what, State.Regs, shown));
}
