using XdpGate.Bpf.Verifier.Transfer;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>The kernel's check_cond_jmp_op, the refusal: unprivileged, a comparison may not reveal an address.</summary>
internal static class JumpChecks
{
    /// <summary>A conditional jump on registers <paramref name="d"/> and <paramref name="s"/>, at least one a pointer.</summary>
    /// <param name="nullCheck">Whether it compares <paramref name="dst"/> with zero for (in)equality.</param>
    public static void PointerComparison(in CheckSite at, int d, int s, in Reg dst, in Reg src, bool nullCheck, bool is32)
    {
        // Packet pointers compared with each other reveal lengths, never addresses.
        // Null checks of what a lookup or reservation returned are habit even where the result cannot be null.
        var lookupNullCheck = nullCheck && dst.Kind is RegKind.MapValue or RegKind.Mem;
        if (!BranchRefinement.PacketComparison(dst, src, is32) && !lookupNullCheck && at.Strict)
            throw at.Refuse(VerifierRule.PointerComparison, $"R{(dst.IsPointer ? d : s)} pointer comparison prohibited", d, s);
    }
}
