namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's is_branch_taken and reg_set_min_max: whether a conditional jump between two scalars must, cannot
/// or may be taken, and what each side of it teaches about both operands.
/// </summary>
public static class ScalarBranch
{
    /// <summary>
    /// For a conditional jump <paramref name="op"/> (BPF_JEQ..BPF_JSLE, not JA/CALL/EXIT) of width 32 or 64:
    /// true when it is always taken, false when never, null when it depends on the values.
    /// </summary>
    public static bool? IsTaken(byte op, in Scalar dst, in Scalar src, bool is32) => null;

    /// <summary>
    /// Narrows dst and src to the values for which the jump goes the <paramref name="taken"/> way.
    /// Returns false when no values can (the branch is dead).
    /// </summary>
    public static bool Refine(byte op, ref Scalar dst, ref Scalar src, bool is32, bool taken) => true;
}
